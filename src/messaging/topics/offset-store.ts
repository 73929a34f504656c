import { SluiceError } from "../../errors/index.js";
import {
  type BatchHeader,
  decodeRecords,
  encodeBatch,
  readBatchHeader,
  type MarkerType,
  TRANSACTIONAL_BIT,
  isControlBatch,
  isTransactionalBatch,
  markerTypeOf,
} from "../../engine/index.js";
import { OFFSETS_TOPIC } from "./internal-topics.js";
import type { PartitionLog } from "./partition-log.js";
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";

export type CommittedOffset = TopicPartition & Required<OffsetAndMetadata>;

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Offsets a transaction wrote, applied when its commit marker is written. */
type PendingOffsets = Array<{ readonly group: string; readonly entry: CommittedOffset }>;

/**
 * Committed offsets: one record per (group, topic, partition) in the compacted internal topic
 * (a null value deletes), read into memory on open. The memory copy changes only after the
 * log acknowledges the write, so nobody reads an offset a crash could take back. Offsets sent
 * within a transaction are written as that producer's transactional records and count only
 * once the transaction's commit marker follows them (as Kafka's group coordinator does).
 */
export class OffsetStore {
  private readonly groups = new Map<string, Map<string, CommittedOffset>>();
  /** Per producer id: offsets of its open transaction. */
  private readonly pending = new Map<number, PendingOffsets>();

  private constructor(
    private readonly log: PartitionLog,
    private readonly now: () => number,
  ) {}

  static load(log: PartitionLog, now: () => number): OffsetStore {
    const store = new OffsetStore(log, now);
    for (let offset = log.logStartOffset; offset < log.highWatermark;) {
      const bytes = log.log.readBatches(offset, 4 * 1024 * 1024);
      if (bytes.length === 0) break;
      for (let at = 0; at < bytes.length;) {
        const header = readBatchHeader(bytes, at) as BatchHeader;
        if (header.baseOffset >= log.highWatermark) break;
        const records = decodeRecords(bytes, at, header);
        if (records instanceof SluiceError) throw corrupt(header.baseOffset);
        if (isControlBatch(header.attributes)) {
          const type = markerTypeOf(records[0]?.key ?? null);
          if (type !== undefined) store.settle(header.producerId, type);
        } else
          for (const r of records) {
            const [group, topic, partition] = parseKey(r.key, r.offset);
            if (isTransactionalBatch(header.attributes)) {
              if (r.value !== null)
                store.addPending(header.producerId, group, {
                  topic,
                  partition,
                  ...parseValue(r.value, r.offset),
                });
            } else if (r.value === null) store.groups.get(group)?.delete(keyOf(topic, partition));
            else store.put(group, { topic, partition, ...parseValue(r.value, r.offset) });
          }
        offset = header.baseOffset + header.lastOffsetDelta + 1;
        at += header.sizeBytes;
      }
    }
    return store;
  }

  private addPending(producerId: number, group: string, entry: CommittedOffset): void {
    let list = this.pending.get(producerId);
    if (list === undefined) {
      list = [];
      this.pending.set(producerId, list);
    }
    list.push({ group, entry });
  }

  /** A marker for this producer: its pending offsets count (commit) or go (abort). */
  private settle(producerId: number, type: MarkerType): void {
    const list = this.pending.get(producerId);
    this.pending.delete(producerId);
    if (type === "commit" && list !== undefined)
      for (const { group, entry } of list) this.put(group, entry);
  }

  /**
   * Writes offsets as part of a producer's transaction; they count once `endTransaction` writes
   * its commit marker here, and never if it aborts.
   */
  async commitTransactional(
    producerId: number,
    producerEpoch: number,
    group: string,
    offsets: readonly CommittedOffset[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    const batch = encodeBatch(
      offsets.map((o) => ({
        key: Buffer.from(JSON.stringify([group, o.topic, o.partition])),
        value: Buffer.from(JSON.stringify({ offset: o.offset, metadata: o.metadata })),
      })),
      {
        baseOffset: 0,
        defaultTimestamp: this.now(),
        attributes: TRANSACTIONAL_BIT,
        producer: { producerId, producerEpoch, baseSequence: -1 },
      },
    );
    await this.log.append(batch, false, "coordinator");
    for (const o of offsets) this.addPending(producerId, group, o);
  }

  /** Writes the transaction's marker here and applies or drops its offsets. */
  async endTransaction(producerId: number, producerEpoch: number, type: MarkerType): Promise<void> {
    await this.log.appendMarker(producerId, producerEpoch, type);
    this.settle(producerId, type);
  }

  /** True while a transaction holds uncommitted offsets for this group and partition. */
  hasPending(group: string, topic: string, partition: number): boolean {
    for (const list of this.pending.values())
      for (const { group: g, entry } of list)
        if (g === group && entry.topic === topic && entry.partition === partition) return true;
    return false;
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
