const EMPTY = Buffer.alloc(0);

/** Called with a batch buffer nobody was given a view of, once the cache lets it go. */
export type BatchRelease = (batch: Buffer) => void;

/**
 * The newest batches of the active segment, kept in memory so consumers that follow the tail
 * read without touching the file. Bounded by bytes and by batch count; the oldest batches fall
 * out first.
 *
 * A batch added with a `release` callback gets it back when it falls out (or the cache is
 * cleared), provided no reader was ever handed it: the writer may then reuse that memory for
 * a later batch (fresh memory costs a page fault per page, which dominated producing).
 */
export class TailCache {
  private batches: Buffer[] = [];
  private baseOffsets: number[] = [];
  private lastOffsets: number[] = [];
  /** Per batch: its release callback, or undefined once a reader was handed the batch. */
  private releases: Array<BatchRelease | undefined> = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxBatches = Number.POSITIVE_INFINITY,
  ) {}

  add(batch: Buffer, baseOffset: number, lastOffset: number, release?: BatchRelease): void {
    if (this.maxBytes === 0 || this.maxBatches === 0) {
      release?.(batch);
      return;
    }
    this.batches.push(batch);
    this.baseOffsets.push(baseOffset);
    this.lastOffsets.push(lastOffset);
    this.releases.push(release);
    this.bytes += batch.length;
    while (
      (this.bytes > this.maxBytes || this.batches.length - this.head > this.maxBatches) &&
      this.head < this.batches.length - 1
    ) {
      this.bytes -= this.batches[this.head]!.length;
      this.drop(this.head);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.batches.length) this.compact();
  }

  /** Lets go of the batch at `index`, handing it back if no reader ever had it. */
  private drop(index: number): void {
    const release = this.releases[index];
    this.releases[index] = undefined;
    const batch = this.batches[index]!;
    // Readers get views of the cached buffers; keep nothing else alive through the arrays.
    this.batches[index] = EMPTY;
    release?.(batch);
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
      if (i < this.head) return; // fell out while the reader was busy (it reads on from the file)
      // Handed to a reader, who may keep views of it: never handed back to the writer.
      this.releases[i] = undefined;
      yield this.batches[i]!;
      taken += this.batches[i]!.length;
    }
  }

  clear(): void {
    for (let i = this.head; i < this.batches.length; i++) this.drop(i);
    this.batches = [];
    this.baseOffsets = [];
    this.lastOffsets = [];
    this.releases = [];
    this.head = 0;
    this.bytes = 0;
  }

  private compact(): void {
    this.batches = this.batches.slice(this.head);
    this.baseOffsets = this.baseOffsets.slice(this.head);
    this.lastOffsets = this.lastOffsets.slice(this.head);
    this.releases = this.releases.slice(this.head);
    this.head = 0;
  }
}
