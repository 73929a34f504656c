import type { JetStreamManager } from "@nats-io/jetstream";

/**
 * The keys under `filter` (e.g. `NS.>`) that a key-value bucket holds now, as its stream's
 * leader counts them: deleted keys included (their delete marker is a message too), so a
 * reader checks each value's operation. The client's `kv.keys()` reads through a consumer,
 * which the servers may place on a follower that has not yet applied the latest writes; the
 * stream leader has applied every write it acknowledged.
 */
export async function bucketKeys(
  jsm: JetStreamManager,
  bucket: string,
  filter: string,
): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: prefix + filter });
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
}
