import { type Command, InvalidArgumentError } from "commander";
import { warmUpEngines } from "./engine-warm-up.js";
import { frameBytes, port, saslUsers } from "./option-parsers.js";
import { portRefused } from "./port-refused.js";

interface KafkaStartOptions {
  dataDir?: string;
  port: number;
  host: string;
  advertisedHost?: string;
  maxFrameBytes?: number;
  autoCreateTopics: boolean;
  saslUsers?: Map<string, string>;
  /** Compile the topic paths on a throwaway topic before listening (`--no-warm-up`). */
  warmUp: boolean;
}

/** `sluice kafka start DIR` (or `--data-dir DIR`): serves the topics of a data directory over the Kafka protocol. */
export function registerKafkaCommands(program: Command): void {
  const kafka = program
    .command("kafka")
    .description("the Kafka wire protocol on the topics of a data directory");
  kafka
    .command("start")
    .description(
      "listen for Kafka clients (kafkajs, kafka-python, librdkafka, kcat) until SIGINT or SIGTERM",
    )
    .argument(
      "[dir]",
      "data directory (the one `open(dir)` uses; topics live in its topics/), unless --data-dir",
    )
    .option("--data-dir <dir>", "data directory (instead of the dir argument)")
    .option("--port <port>", "port to listen on (0 picks a free one)", port, 9092)
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option(
      "--advertised-host <host>",
      "host clients are told to connect to (default: the bound host)",
    )
    .option("--max-frame-bytes <n>", "largest request accepted (default 100 MiB)", frameBytes)
    .option("--no-auto-create-topics", "do not create topics a client asks metadata for")
    .option(
      "--sasl-users <user:password,...>",
      "require SASL/PLAIN with these users (also read from SLUICE_KAFKA_SASL_USERS, which keeps passwords out of the process list)",
      saslUsers,
    )
    .option(
      "--no-warm-up",
      "listen at once, without first running records through a throwaway topic to compile the topic paths",
    )
    .action(async (dirArgument: string | undefined, opts: KafkaStartOptions) => {
      if (dirArgument !== undefined && opts.dataDir !== undefined)
        throw new InvalidArgumentError(
          `give the data directory once: --data-dir ${opts.dataDir} or ${dirArgument}`,
        );
      const dir = opts.dataDir ?? dirArgument;
      if (dir === undefined) throw new InvalidArgumentError("give --data-dir <dir> or a directory");
      const fromEnvironment = process.env.SLUICE_KAFKA_SASL_USERS;
      const users = opts.saslUsers ?? (fromEnvironment ? saslUsers(fromEnvironment) : undefined);
      const [{ open }, { embeddedKafkaBackend }, { KafkaServer }, { openDataDir }] =
        await Promise.all([
          import("../sluice/open.js"),
          import("../server/kafka/embedded-kafka-backend.js"),
          import("../server/kafka/kafka-server.js"),
          import("./new-data-dir.js"),
        ]);
      // A start that fails (a taken port) removes the data directory it made.
      const { opened: sluice, discardIfUnused } = await openDataDir(
        dir,
        opts.dataDir === undefined ? "dir" : "--data-dir",
        () => open(dir),
      );
      const warmUpLine = opts.warmUp ? await warmUpEngines({ queues: false }) : "";
      let server: Awaited<ReturnType<typeof KafkaServer.listen>>;
      try {
        server = await KafkaServer.listen({
          backend: embeddedKafkaBackend(sluice.topics),
          port: opts.port,
          host: opts.host,
          autoCreateTopics: opts.autoCreateTopics,
          ...(opts.advertisedHost === undefined ? {} : { advertisedHost: opts.advertisedHost }),
          ...(opts.maxFrameBytes === undefined ? {} : { maxFrameBytes: opts.maxFrameBytes }),
          ...(users === undefined ? {} : { saslUsers: users }),
        });
      } catch (error) {
        await sluice.close();
        await discardIfUnused();
        throw portRefused(
          error,
          "--port",
          opts.port,
          opts.host,
          "(a Kafka broker or another Sluice?)",
        );
      }
      // Handlers before the banner: a signal sent as soon as it is read must shut down cleanly.
      const signalled = new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      process.stdout.write(
        `${warmUpLine}sluice kafka listening on ${opts.host}:${server.port} (advertised ${server.broker.host}:${server.broker.port}${users === undefined ? "" : `, SASL/PLAIN for ${users.size} users`})\n`,
      );
      await signalled;
      await server.close();
      await sluice.close();
    });
}
