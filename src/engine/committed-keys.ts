import type { BatchHeader } from "./record-batch.js";
import type { LogRecord } from "./record.js";
import { isControlBatch, isTransactionalBatch, markerTypeOf } from "./transaction-marker.js";

/** A keyed record of a transaction whose marker the scan has not reached yet. */
interface Pending {
  readonly key: string;
  readonly offset: number;
  readonly young: boolean;
}

/**
 * What compaction may rely on, learnt in one pass over a log's batches in offset order: the
 * newest offset of each key among the records that count (plain ones, and a transaction's once
 * its commit marker is read; an aborted transaction's never, as in Kafka's cleaner), and the
 * records no one can decide about yet (a transaction still open at the end of the log: it may
 * commit or abort, so its records stay, and supersede nothing).
 */
export class CommittedKeys {
  /** Newest counted offset of each key (keys as latin1 strings of their bytes). */
  private readonly latest = new Map<string, number>();
  /** Keys with a record that stays whatever comes after it (younger than the lag, or undecided). */
  private readonly keptKeys = new Set<string>();
  /** Keyed records of each producer's open transaction, until its marker. */
  private readonly open = new Map<number, Pending[]>();
  /** Offsets of the records of transactions still open when the scan ended. */
  private readonly undecided = new Set<number>();

  /** @param isYoung whether a record is too young to compact (minCompactionLagMs) */
  constructor(private readonly isYoung: (timestamp: number) => boolean) {}

  /** Takes in the next batch of the log. */
  note(header: BatchHeader, records: readonly LogRecord[]): void {
    if (isControlBatch(header.attributes)) {
      const type = markerTypeOf(records[0]?.key ?? null);
      if (type === undefined) return; // not a transaction marker: it ends no transaction
      const pending = this.open.get(header.producerId);
      this.open.delete(header.producerId);
      if (type === "commit" && pending !== undefined)
        for (const p of pending) this.count(p.key, p.offset, p.young);
      return;
    }
    const transactional = isTransactionalBatch(header.attributes);
    for (const r of records) {
      if (r.key === null) continue;
      const key = r.key.toString("latin1");
      const young = this.isYoung(r.timestamp);
      if (!transactional) this.count(key, r.offset, young);
      else {
        let pending = this.open.get(header.producerId);
        if (pending === undefined) this.open.set(header.producerId, (pending = []));
        pending.push({ key, offset: r.offset, young });
      }
    }
  }

  /** The newest counted offset of `key`, if any. */
  newest(key: string): number | undefined {
    return this.latest.get(key);
  }

  /**
   * Whether `key` has a record that stays whatever comes after it (its tombstone must stay too,
   * or that record would be the key's value again). Valid once the scan has ended.
   */
  hasKeptRecord(key: string): boolean {
    return this.keptKeys.has(key);
  }

  /** Whether the record at `offset` belongs to a transaction still open when the scan ended. */
  isUndecided(offset: number): boolean {
    return this.undecided.has(offset);
  }

  /** Ends the scan: the transactions still open are undecided. */
  end(): void {
    for (const pending of this.open.values())
      for (const p of pending) {
        this.undecided.add(p.offset);
        this.keptKeys.add(p.key);
      }
    this.open.clear();
  }

  private count(key: string, offset: number, young: boolean): void {
    if ((this.latest.get(key) ?? -1) < offset) this.latest.set(key, offset);
    if (young) this.keptKeys.add(key);
  }
}
