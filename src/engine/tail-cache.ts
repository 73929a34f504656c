/**
 * The newest batches of the active segment, kept in memory so consumers that follow the tail
 * read without touching the file. Bounded by bytes; the oldest batches fall out first.
 */
export class TailCache {
  private batches: Buffer[] = [];
  private baseOffsets: number[] = [];
  private lastOffsets: number[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  add(batch: Buffer, baseOffset: number, lastOffset: number): void {
    if (this.maxBytes === 0) return;
    this.batches.push(batch);
    this.baseOffsets.push(baseOffset);
    this.lastOffsets.push(lastOffset);
    this.bytes += batch.length;
    while (this.bytes > this.maxBytes && this.head < this.batches.length - 1) {
      this.bytes -= this.batches[this.head]!.length;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.batches.length) this.compact();
  }

  /**
   * The cached batches from the one holding `offset` on, up to about `maxBytes`, produced lazily
   * (a reader after one record stops after one batch); undefined if `offset` is not cached.
   */
  from(offset: number, maxBytes: number): Iterable<Buffer> | undefined {
    if (this.head >= this.batches.length || offset < this.baseOffsets[this.head]!) return undefined;
    let lo = this.head;
    let hi = this.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lastOffsets[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    if (this.lastOffsets[lo]! < offset) return [];
    return this.batchesFrom(lo, maxBytes);
  }

  private *batchesFrom(index: number, maxBytes: number): Generator<Buffer> {
    let taken = 0;
    for (let i = index; i < this.batches.length && (taken === 0 || taken < maxBytes); i++) {
      yield this.batches[i]!;
      taken += this.batches[i]!.length;
    }
  }

  clear(): void {
    this.batches = [];
    this.baseOffsets = [];
    this.lastOffsets = [];
    this.head = 0;
    this.bytes = 0;
  }

  private compact(): void {
    this.batches = this.batches.slice(this.head);
    this.baseOffsets = this.baseOffsets.slice(this.head);
    this.lastOffsets = this.lastOffsets.slice(this.head);
    this.head = 0;
  }
}
