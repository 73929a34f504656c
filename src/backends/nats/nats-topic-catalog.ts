import type { JetStreamManager } from "@nats-io/jetstream";
import { type KV, type KvEntry, KvWatchInclude } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { SluiceError } from "../../errors/index.js";
import type { TopicConfig } from "../../messaging/topics/topic-admin.js";
import { bucketKeys } from "./bucket-keys.js";
import { openCatalogBucket } from "./catalog-bucket.js";
import { isConflict } from "./kv-conflict.js";
import type { CompactionMark } from "./partition-compaction.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";

/** A topic as the catalog keeps it. `uid` is new for every incarnation of the name. */
export interface NatsTopicDefinition {
  readonly name: string;
  readonly uid: string;
  readonly partitions: number;
  readonly config: TopicConfig;
}

const TOPIC_PREFIX = "topic.";
/** When each partition of a compacted topic was last compacted, and what that round left: `compaction.<uid>.<p>`. */
const COMPACTION_PREFIX = "compaction.";
/** A compaction round claimed by this process. */
export interface CompactionClaim {
  readonly key: string;
  readonly at: number;
  readonly revision: number;
  /** What the last finished round of the partition left; undefined if none is known. */
  readonly previous: CompactionMark | undefined;
}

/** Reads and writes one edit may take while others keep changing the same topic. */
const MAX_UPDATE_ROUNDS = 50;

/**
 * The topics of a namespace in a replicated key-value bucket (`topic.<name>`), with a local
 * copy every process keeps current by watching the bucket: a topic created or grown in one
 * process appears in the others. Consumer groups live in the same bucket (`NatsGroupStore`).
 */
export class NatsTopicCatalog {
  private readonly topics = new Map<string, NatsTopicDefinition>();
  private readonly revisions = new Map<string, number>();
  private watching: { stop(): void } | undefined;

  private constructor(
    readonly kv: KV,
    readonly jsm: JetStreamManager,
    readonly bucket: string,
  ) {}

  static async open(
    nc: NatsConnection,
    bucket: string,
    replicas: number,
  ): Promise<NatsTopicCatalog> {
    // No direct gets (a group member reading its own join back from a follower that has not
    // applied it yet would think itself gone). The reads below may be repeated: each waits out
    // a server that is briefly "unavailable".
    const { kv, jsm } = await openCatalogBucket(nc, bucket, replicas);
    const catalog = new NatsTopicCatalog(kv, jsm, bucket);
    // Watch first, then load: a change made in between is seen by one or the other, and the
    // revision decides which is newer.
    // The bucket exists (created above), but a server that has not applied its creation yet
    // may answer the watch's consumer "stream not found".
    const updates = await retryWhileUnavailable(
      () => kv.watch({ key: `${TOPIC_PREFIX}>`, include: KvWatchInclude.UpdatesOnly }),
      { streamJustCreated: true },
    );
    catalog.watching = updates;
    void (async () => {
      for await (const entry of updates) catalog.apply(entry);
    })().catch(() => undefined); // a closed connection ends the watch
    // The keys as the bucket's leader has them: the client's `kv.keys()` reads through a
    // consumer that may sit on a follower, which can miss a topic created a moment ago.
    const entries = await retryWhileUnavailable(async () => {
      const found: KvEntry[] = [];
      for (const key of await bucketKeys(catalog.jsm, bucket, `${TOPIC_PREFIX}>`)) {
        const entry = await kv.get(key);
        if (entry !== null) found.push(entry);
      }
      return found;
    });
    for (const entry of entries) catalog.apply(entry);
    return catalog;
  }

  private apply(entry: KvEntry): void {
    const name = entry.key.slice(TOPIC_PREFIX.length);
    if ((this.revisions.get(name) ?? 0) >= entry.revision) return;
    this.revisions.set(name, entry.revision);
    if (entry.operation !== "PUT") this.topics.delete(name);
    else this.topics.set(name, parse(entry));
  }

  /** The topic as this process knows it (kept current by the watch). */
  get(name: string): NatsTopicDefinition | undefined {
    return this.topics.get(name);
  }

  /**
   * The topic as the bucket has it now (for a topic another process made a moment ago). Asked
   * again while JetStream answers that it is temporarily unavailable (during a meta election).
   */
  async fetch(name: string): Promise<NatsTopicDefinition | undefined> {
    const entry = await retryWhileUnavailable(() => this.kv.get(TOPIC_PREFIX + name));
    if (entry !== null) this.apply(entry);
    return this.topics.get(name);
  }

  names(): string[] {
    return [...this.topics.keys()].sort();
  }

  /** Adds the topic unless the name is taken; false if it was. */
  async create(definition: NatsTopicDefinition): Promise<boolean> {
    let revision: number;
    try {
      revision = await this.kv.create(TOPIC_PREFIX + definition.name, JSON.stringify(definition));
    } catch (error) {
      const existing = await this.kv.get(TOPIC_PREFIX + definition.name);
      if (existing !== null && existing.operation === "PUT") {
        this.apply(existing);
        return false;
      }
      throw error;
    }
    this.learn(definition.name, revision, definition);
    return true;
  }

  /**
   * Stores what `change` makes of the topic as the bucket has it now, written only on the
   * revision read: when another process wrote between, it reads and runs `change` again, so
   * edits from any number of processes are all kept. `change` may run more than once (what it
   * does to streams must be safe to repeat) and must throw, not write, to refuse. Returns what
   * was stored; undefined when there is no such topic.
   */
  async update(
    name: string,
    change: (current: NatsTopicDefinition) => Promise<NatsTopicDefinition>,
  ): Promise<NatsTopicDefinition | undefined> {
    const key = TOPIC_PREFIX + name;
    for (let round = 0; ; round++) {
      const entry = await retryWhileUnavailable(() => this.kv.get(key));
      if (entry === null || entry.operation !== "PUT") return undefined;
      this.apply(entry);
      const next = await change(parse(entry));
      try {
        const revision = await this.kv.update(key, JSON.stringify(next), entry.revision);
        this.learn(name, revision, next);
        return next;
      } catch (error) {
        if (!isConflict(error) || round >= MAX_UPDATE_ROUNDS) throw error;
      }
    }
  }

  async remove(name: string): Promise<void> {
    await this.kv.delete(TOPIC_PREFIX + name);
    const entry = await this.kv.get(TOPIC_PREFIX + name);
    if (entry !== null) this.apply(entry);
    else this.topics.delete(name);
  }

  /**
   * Claims a compaction round of partition `partition` of the topic incarnation `uid` at `now`,
   * unless one was claimed within `intervalMs` before: written on the revision read, so of
   * processes claiming at once, one does the round. Undefined when not granted; else the claim,
   * with the mark the last finished round left.
   */
  async claimCompaction(
    uid: string,
    partition: number,
    now: number,
    intervalMs: number,
  ): Promise<CompactionClaim | undefined> {
    const key = compactionKey(uid, partition);
    const entry = await retryWhileUnavailable(() => this.kv.get(key));
    try {
      if (entry === null || entry.operation !== "PUT") {
        const revision = await this.kv.create(key, JSON.stringify({ at: now }));
        return { key, at: now, revision, previous: undefined };
      }
      const last = entry.json<{ at?: unknown; mark?: unknown }>();
      if (typeof last.at === "number" && last.at + intervalMs > now) return undefined;
      // The last mark stays with the claim: a round that finds nothing to do leaves it as it is.
      const previous = markOf(last.mark);
      const value = JSON.stringify({ at: now, mark: previous });
      const revision = await this.kv.update(key, value, entry.revision);
      return { key, at: now, revision, previous };
    } catch (error) {
      if (isConflict(error)) return undefined;
      throw error;
    }
  }

  /**
   * Records what a claimed round left for the next (on the claim's revision: a later claim,
   * once the interval has passed, wins over it).
   */
  async markCompaction(claim: CompactionClaim, mark: CompactionMark): Promise<void> {
    try {
      await this.kv.update(claim.key, JSON.stringify({ at: claim.at, mark }), claim.revision);
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }

  /** Forgets the compaction rounds of a deleted topic's partitions. */
  async forgetCompaction(uid: string, partitions: number): Promise<void> {
    for (let p = 0; p < partitions; p++) await this.kv.purge(compactionKey(uid, p));
  }

  /** A write of this process, known before the watch reports it. */
  private learn(name: string, revision: number, definition: NatsTopicDefinition): void {
    if ((this.revisions.get(name) ?? 0) >= revision) return;
    this.revisions.set(name, revision);
    this.topics.set(name, definition);
  }

  close(): void {
    this.watching?.stop();
  }
}

function parse(entry: KvEntry): NatsTopicDefinition {
  try {
    const parsed = entry.json<NatsTopicDefinition>();
    if (typeof parsed.uid === "string" && Number.isSafeInteger(parsed.partitions)) return parsed;
  } catch {
    // reported below
  }
  throw new SluiceError(
    "SLUICE_CORRUPT",
    `topic catalog entry ${entry.key} (revision ${entry.revision}) is not valid`,
  );
}

function compactionKey(uid: string, partition: number): string {
  return `${COMPACTION_PREFIX}${uid}.${partition}`;
}

/** A mark as stored, if it is one (written by an older version, or by hand, it is not). */
function markOf(value: unknown): CompactionMark | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { lastSeq, minCompactionLagMs, deleteRetentionMs, pendingAt } = value as Record<
    string,
    unknown
  >;
  if (
    typeof lastSeq !== "number" ||
    typeof minCompactionLagMs !== "number" ||
    typeof deleteRetentionMs !== "number"
  )
    return undefined;
  const mark = { lastSeq, minCompactionLagMs, deleteRetentionMs };
  return typeof pendingAt === "number" ? { ...mark, pendingAt } : mark;
}
