import { setTimeout as sleep } from "node:timers/promises";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { SluiceError } from "../../errors/index.js";
import { replicasRefused } from "./replicas-refused.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";

/** How long a bucket's stream may go without a leader before its open fails. */
const LEADER_WAIT_MS = 15_000;
/** How long one question about the stream's leader waits for its answer. */
const LEADER_ASK_MS = 500;
const LEADER_PAUSE_MS = 50;

/**
 * Creates the key-value bucket (or finds it, made by another process) with `replicas` copies,
 * and waits until its stream has a leader. No direct gets: any replica answers those, a follower
 * too, from what it has applied. The create may be repeated, so it waits out a server that is
 * briefly "unavailable".
 */
export async function openCatalogBucket(
  nc: NatsConnection,
  bucket: string,
  replicas: number,
): Promise<{ kv: KV; jsm: JetStreamManager }> {
  const js = jetstream(nc);
  const kv = await retryWhileUnavailable(
    () => new Kvm(js).create(bucket, { replicas, history: 1, allow_direct: false }),
    { creatingStream: true },
  ).catch((error: unknown) => {
    throw replicasRefused(error, replicas);
  });
  await leaderElected(nc, `KV_${bucket}`);
  const jsm = await retryWhileUnavailable(() => js.jetstreamManager());
  return { kv, jsm };
}

/**
 * Resolves once the stream has a leader. A creation sent while another process's creation of the
 * same stream is under way is answered at once, before the replicas have elected one, and the
 * reads a leader answers go unanswered meanwhile until the client's 5 s timeout: the second of
 * two processes opening a catalog together failed so in its first read.
 */
async function leaderElected(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: LEADER_ASK_MS, checkAPI: false });
  const deadline = performance.now() + LEADER_WAIT_MS;
  for (;;) {
    // A single server (no cluster) leads its streams itself.
    const cluster = await jsm.streams.info(stream).then(
      (info) => info.cluster ?? { leader: "self" },
      () => undefined, // not answered in time, or not known yet: asked again
    );
    if (cluster?.leader !== undefined) return;
    if (performance.now() >= deadline)
      throw new SluiceError(
        "SLUICE_TIMEOUT",
        `NATS stream ${stream} has elected no leader in ${LEADER_WAIT_MS / 1000} s`,
      );
    await sleep(LEADER_PAUSE_MS);
  }
}
