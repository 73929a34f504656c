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
  return (await bucketListing(jsm, bucket, filter)).keys;
}

/**
 * `bucketKeys`, and the bucket's revision when they were counted (its stream's last sequence):
 * a watch resumed after it misses no change made since.
 */
export async function bucketListing(
  jsm: JetStreamManager,
  bucket: string,
  filter: string,
): Promise<{ keys: string[]; revision: number }> {
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: prefix + filter });
  const keys = Object.keys(info.state.subjects ?? {}).map((subject) =>
    subject.slice(prefix.length),
  );
  return { keys, revision: info.state.last_seq };
}
