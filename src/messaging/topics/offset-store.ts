import { SluiceError } from "../../errors/index.js";
import { encodeBatch } from "../../engine/index.js";
import type { PartitionLog } from "./partition-log.js";
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";

/** The internal compacted topic holding every group's committed offsets (Kafka's name). */
export const OFFSETS_TOPIC = "__consumer_offsets";

export type CommittedOffset = TopicPartition & Required<OffsetAndMetadata>;

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Committed offsets: one record per (group, topic, partition) in the compacted internal topic
 * (a null value deletes), read into memory on open. The memory copy changes only after the
 * log acknowledges the write, so nobody reads an offset a crash could take back.
 */
export class OffsetStore {
  private readonly groups = new Map<string, Map<string, CommittedOffset>>();

  private constructor(
    private readonly log: PartitionLog,
    private readonly now: () => number,
  ) {}

  static load(log: PartitionLog, now: () => number): OffsetStore {
    const store = new OffsetStore(log, now);
    for (let offset = log.logStartOffset; offset < log.highWatermark;) {
      const records = log.read(offset, 10_000, 4 * 1024 * 1024);
      if (records.length === 0) break;
      for (const r of records) {
        const [group, topic, partition] = parseKey(r.key, r.offset);
        if (r.value === null) store.groups.get(group)?.delete(keyOf(topic, partition));
        else store.put(group, { topic, partition, ...parseValue(r.value, r.offset) });
      }
      offset = records[records.length - 1]!.offset + 1;
    }
    return store;
  }

  private put(group: string, entry: CommittedOffset): void {
    let offsets = this.groups.get(group);
    if (offsets === undefined) {
      offsets = new Map();
      this.groups.set(group, offsets);
    }
    offsets.set(keyOf(entry.topic, entry.partition), entry);
  }

  /** Writes the offsets as one batch; they become visible once it is acknowledged. */
  async commit(group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const batch = encodeBatch(
      offsets.map((o) => ({
        key: Buffer.from(JSON.stringify([group, o.topic, o.partition])),
        value: Buffer.from(JSON.stringify({ offset: o.offset, metadata: o.metadata })),
      })),
      { baseOffset: 0, defaultTimestamp: this.now() },
    );
    await this.log.append(batch, false);
    for (const o of offsets) this.put(group, o);
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(group)?.get(keyOf(topic, partition));
  }

  list(group: string): CommittedOffset[] {
    return [...(this.groups.get(group)?.values() ?? [])].sort((a, b) =>
      a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
    );
  }

  groupIds(): string[] {
    return [...this.groups.keys()].filter((g) => (this.groups.get(g)?.size ?? 0) > 0);
  }

  /** Deletes a group's offsets (tombstones, so compaction drops them). */
  async deleteGroup(group: string): Promise<void> {
    const offsets = this.list(group);
    if (offsets.length > 0) {
      const batch = encodeBatch(
        offsets.map((o) => ({
          key: Buffer.from(JSON.stringify([group, o.topic, o.partition])),
          value: null,
        })),
        { baseOffset: 0, defaultTimestamp: this.now() },
      );
      await this.log.append(batch, false);
    }
    this.groups.delete(group);
  }

  /** Forgets offsets of a deleted topic in memory (Kafka drops them as the topic goes). */
  forgetTopic(topic: string): void {
    for (const offsets of this.groups.values())
      for (const [key, o] of offsets) if (o.topic === topic) offsets.delete(key);
  }
}

function corrupt(offset: number): SluiceError {
  return new SluiceError(
    "SLUICE_CORRUPT",
    `committed offset record at offset ${offset} of ${OFFSETS_TOPIC} is not valid`,
  );
}

function parseKey(key: Buffer | null, offset: number): [string, string, number] {
  try {
    const parsed = JSON.parse(key?.toString("utf8") ?? "") as unknown;
    if (
      Array.isArray(parsed) &&
      typeof parsed[0] === "string" &&
      typeof parsed[1] === "string" &&
      Number.isInteger(parsed[2])
    )
      return parsed as [string, string, number];
  } catch {
    // reported below
  }
  throw corrupt(offset);
}

function parseValue(value: Buffer, offset: number): Required<OffsetAndMetadata> {
  try {
    const parsed = JSON.parse(value.toString("utf8")) as Partial<OffsetAndMetadata>;
    if (Number.isInteger(parsed.offset))
      return { offset: parsed.offset!, metadata: parsed.metadata ?? "" };
  } catch {
    // reported below
  }
  throw corrupt(offset);
}
