import { asError } from "../../errors/index.js";
import { type Log, RecordBatchBuilder, type RecordHeader } from "../../engine/index.js";
import { type Clock, systemClock } from "../../time/index.js";

/**
 * Most bytes (or characters, for values given as text: at most 3 bytes of UTF-8 each) of record
 * values one coalesced append carries; the log refuses batches over 16 MiB.
 */
const MAX_COALESCED_UNITS = 4 * 1024 * 1024;

/** Room a record takes in a batch besides its value's characters (lengths, deltas, headers). */
const RECORD_OVERHEAD_BYTES = 32;

/**
 * A record to append. A value given as text is written as UTF-8 straight into the batch; the
 * timestamp defaults to the clock's time (timestamps never go backwards within a batch).
 */
export interface CoalescedRecord {
  readonly value: Buffer | string | null;
  readonly timestamp?: number;
  readonly headers?: readonly RecordHeader[];
}

/** Where a call's records went: their offsets, and the timestamp each was given. */
export interface CoalescedAppend {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly timestamps: readonly number[];
}

interface Waiting {
  readonly records: readonly CoalescedRecord[];
  readonly units: number;
  readonly timestamps: number[];
  readonly resolve: (range: CoalescedAppend) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the appends that callers make in the same turn of the event loop into one log append
 * (one encoded batch, one write, one CRC), in call order. Each caller is resolved with its own
 * offsets once the shared append is durable under the log's fsync policy, so acknowledgement
 * means exactly what a direct append means; if the shared append fails, every caller in it is
 * rejected and none of their records is acknowledged.
 *
 * The batch is built here, a value given as text written as UTF-8 straight into it (no buffer
 * per record, no second encoding pass in the log), and handed to the log as it is.
 */
export class AppendCoalescer {
  private waiting: Waiting[] = [];
  private scheduled = false;
  /** The last timestamp given: a batch's timestamps never go backwards, even if the clock does. */
  private lastTimestamp = 0;

  constructor(
    private readonly log: Log,
    private readonly clock: Clock = systemClock,
  ) {}

  append(records: readonly CoalescedRecord[]): Promise<CoalescedAppend> {
    let units = 0;
    for (const r of records) units += r.value?.length ?? 0;
    return new Promise((resolve, reject) => {
      this.waiting.push({ records, units, timestamps: [], resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const waiting = this.waiting;
    this.waiting = [];
    let start = 0;
    while (start < waiting.length) {
      let end = start;
      let units = 0;
      do units += waiting[end++]!.units;
      while (end < waiting.length && units + waiting[end]!.units <= MAX_COALESCED_UNITS);
      this.appendGroup(waiting.slice(start, end), units);
      start = end;
    }
  }

  private appendGroup(group: readonly Waiting[], units: number): void {
    let appended: Promise<{ baseOffset: number }>;
    try {
      appended = this.log.appendRawBatch(this.encode(group, units), "data", "encoded-here");
    } catch (error) {
      appended = Promise.reject(asError(error));
    }
    appended.then(
      (result) => {
        let base = result.baseOffset;
        for (const w of group) {
          w.resolve({
            baseOffset: base,
            lastOffset: base + w.records.length - 1,
            timestamps: w.timestamps,
          });
          base += w.records.length;
        }
      },
      (error: unknown) => {
        for (const w of group) w.reject(error);
      },
    );
  }

  private encode(group: readonly Waiting[], units: number): Buffer {
    const now = this.clock.now();
    let count = 0;
    for (const w of group) count += w.records.length;
    const builder = new RecordBatchBuilder(units + count * RECORD_OVERHEAD_BYTES);
    for (const w of group)
      for (const r of w.records) {
        const timestamp = Math.max(r.timestamp ?? now, this.lastTimestamp);
        this.lastTimestamp = timestamp;
        w.timestamps.push(timestamp);
        builder.append(null, r.value, timestamp, r.headers);
      }
    return builder.finish({ baseOffset: this.log.logEndOffset, defaultTimestamp: now });
  }
}
