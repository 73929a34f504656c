import { SluiceError } from "../../errors/index.js";
import { readBatchHeader } from "../../engine/index.js";
import type { KafkaPartitionStore } from "./kafka-backend.js";

/** Mean milliseconds a set of records spent in each stage of the end-to-end run. */
export interface StageMeans {
  readonly records: number;
  /** From the time a record was due to its write into the producer's input. */
  readonly dueToWrittenMs: number;
  /** From that write to the append of its Produce request (the producer client and the network). */
  readonly writtenToAppendedMs: number;
  /** From the append to the Fetch read that served it (the broker's long-poll wake-up). */
  readonly appendedToReadMs: number;
  /** From that read to the consumer's output line (the consumer client and the pipe). */
  readonly readToLineMs: number;
}

/**
 * When each record of one partition reached each stage, by offset (the end-to-end run writes
 * record i at offset i: one producer, one partition, a fresh topic). Float64Arrays, so stamping
 * 100,000 records allocates nothing on the way.
 */
export class RecordStages {
  private readonly written: Float64Array;
  private readonly appended: Float64Array;
  private readonly read: Float64Array;
  private readonly line: Float64Array;

  constructor(private readonly total: number) {
    this.written = new Float64Array(total);
    this.appended = new Float64Array(total);
    this.read = new Float64Array(total);
    this.line = new Float64Array(total);
  }

  /**
   * When each record was written into the producer and came out of the consumer (ms since the
   * epoch, 0 for never), by offset: times the instruments took in a thread of their own.
   */
  instruments(written: Float64Array, printed: Float64Array): void {
    this.written.set(written.subarray(0, this.total));
    this.line.set(printed.subarray(0, this.total));
  }

  /** The store, with appends to and reads from `topic` stamping the records they carry. */
  watch(store: KafkaPartitionStore, topic: string): KafkaPartitionStore {
    const now = (): number => performance.timeOrigin + performance.now();
    return {
      ...store,
      append: async (t, partition, batch) => {
        const appended = await store.append(t, partition, batch);
        if (t === topic) this.stampBatches(this.appended, batch, now(), appended.baseOffset);
        return appended;
      },
      read: async (t, partition, offset, maxBytes, isolation) => {
        const read = await store.read(t, partition, offset, maxBytes, isolation);
        if (t === topic) this.stampBatches(this.read, read.bytes, now());
        return read;
      },
    };
  }

  /** The `share` of records from `from` on that came out latest after they were due. */
  slowest(from: number, share: number, due: (index: number) => number): number[] {
    const late: { index: number; ms: number }[] = [];
    for (let i = from; i < this.total; i++)
      if (this.line[i] !== 0) late.push({ index: i, ms: this.line[i]! - due(i) });
    late.sort((a, b) => b.ms - a.ms);
    return late.slice(0, Math.ceil(late.length * share)).map((r) => r.index);
  }

  /** The mean of each stage over `indices` (records every stage saw). */
  means(indices: readonly number[], due: (index: number) => number): StageMeans {
    let dueToWritten = 0;
    let writtenToAppended = 0;
    let appendedToRead = 0;
    let readToLine = 0;
    let n = 0;
    for (const i of indices) {
      if (this.line[i] === 0 || this.read[i] === 0 || this.appended[i] === 0) continue;
      dueToWritten += this.written[i]! - due(i);
      writtenToAppended += this.appended[i]! - this.written[i]!;
      appendedToRead += this.read[i]! - this.appended[i]!;
      readToLine += this.line[i]! - this.read[i]!;
      n++;
    }
    const mean = (sum: number): number => (n === 0 ? 0 : sum / n);
    return {
      records: n,
      dueToWrittenMs: mean(dueToWritten),
      writtenToAppendedMs: mean(writtenToAppended),
      appendedToReadMs: mean(appendedToRead),
      readToLineMs: mean(readToLine),
    };
  }

  /**
   * Stamps the records of every batch in `bytes` not stamped yet (a record is read again when a
   * later fetch starts inside its batch). A produced batch has offset 0 until it is appended, so
   * its place comes from the append.
   */
  private stampBatches(stage: Float64Array, bytes: Buffer, at: number, baseOffset?: number): void {
    for (let pos = 0; pos < bytes.length;) {
      const header = readBatchHeader(bytes, pos);
      if (header instanceof SluiceError) return;
      const first = baseOffset ?? header.baseOffset;
      const end = Math.min(first + header.lastOffsetDelta + 1, this.total);
      for (let i = first; i < end; i++) if (stage[i] === 0) stage[i] = at;
      pos += header.sizeBytes;
    }
  }
}
