import { type Command, InvalidArgumentError } from "commander";
import type { NatsFlush } from "../backends/nats/loopback-nats-cluster.js";
import { natsFlush } from "./option-parsers.js";

/**
 * `--nats-cluster default|always` on a NATS comparison bench: the bench starts its own 3-node
 * JetStream cluster on loopback ports, so that the servers' flush setting is known and named.
 */
export function withNatsClusterOption(command: Command): Command {
  return command.option(
    "--nats-cluster <flush>",
    "instead of --messaging: start a 3-node JetStream cluster on loopback ports for the run " +
      "(the nats-server of scripts/install-nats-server.sh, or NATS_SERVER_BIN), its servers " +
      "flushing on their timer (default) or every write (always: sync_interval, 2.10+)",
    natsFlush,
  );
}

/** Runs `bench` on the servers of `--messaging`, or on a cluster started for it by `--nats-cluster`. */
export async function withNatsServers<T>(
  opts: { messaging?: string; natsCluster?: NatsFlush; json: boolean },
  bench: (servers: string) => Promise<T>,
): Promise<T> {
  if (opts.natsCluster === undefined) {
    if (opts.messaging === undefined) throw new Error("--messaging or --nats-cluster is needed");
    return bench(opts.messaging);
  }
  if (opts.messaging !== undefined)
    throw new InvalidArgumentError("give --messaging or --nats-cluster, not both");
  const { LoopbackNatsCluster } = await import("../backends/nats/loopback-nats-cluster.js");
  const cluster = await LoopbackNatsCluster.start(3, opts.natsCluster);
  if (!opts.json) process.stdout.write(`servers: ${cluster.describe()}\n`);
  try {
    return await bench(cluster.servers);
  } finally {
    await cluster.stop();
  }
}
