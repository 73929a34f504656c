import type { Log, RecordInput } from "../../engine/index.js";

/** Most bytes of record values one coalesced append carries (the log refuses batches over 16 MiB). */
const MAX_COALESCED_BYTES = 4 * 1024 * 1024;

interface Waiting {
  readonly records: readonly RecordInput[];
  readonly bytes: number;
  readonly resolve: (range: { baseOffset: number; lastOffset: number }) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the appends that callers make in the same turn of the event loop into one log append
 * (one encoded batch, one write, one CRC), in call order. Each caller is resolved with its own
 * offsets once the shared append is durable under the log's fsync policy, so acknowledgement
 * means exactly what a direct append means; if the shared append fails, every caller in it is
 * rejected and none of their records is acknowledged.
 */
export class AppendCoalescer {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly log: Log) {}

  append(records: readonly RecordInput[]): Promise<{ baseOffset: number; lastOffset: number }> {
    let bytes = 0;
    for (const r of records) bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0);
    return new Promise((resolve, reject) => {
      this.waiting.push({ records, bytes, resolve, reject });
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
      let bytes = 0;
      do bytes += waiting[end++]!.bytes;
      while (end < waiting.length && bytes + waiting[end]!.bytes <= MAX_COALESCED_BYTES);
      this.appendGroup(waiting.slice(start, end));
      start = end;
    }
  }

  private appendGroup(group: readonly Waiting[]): void {
    const records = group.length === 1 ? group[0]!.records : group.flatMap((w) => w.records);
    this.log.append(records).then(
      (result) => {
        let base = result.baseOffset;
        for (const w of group) {
          w.resolve({ baseOffset: base, lastOffset: base + w.records.length - 1 });
          base += w.records.length;
        }
      },
      (error: unknown) => {
        for (const w of group) w.reject(error);
      },
    );
  }
}
