/** One bucket as exported: its epoch (start time / bucket width) and its counts per channel. */
export interface BucketSnapshot {
  readonly epoch: number;
  readonly counts: readonly number[];
}

/**
 * Counters over a sliding time window cut into equal buckets: the window covers the current
 * bucket and the `buckets - 1` before it, and slides one bucket at a time. Adding is O(1);
 * moving to a later bucket clears at most `buckets` buckets, so the cost is bounded, and totals
 * are kept incrementally so reading them is O(1) too. Several counters ("channels", e.g. calls,
 * failures, slow calls) share one set of buckets.
 */
export class SlidingBuckets {
  private readonly data: Float64Array;
  private readonly sums: Float64Array;
  private readonly epochs: Float64Array;
  private headEpoch = Number.NEGATIVE_INFINITY;
  private headSlot = 0;

  constructor(
    readonly bucketMs: number,
    readonly buckets: number,
    readonly channels: number,
  ) {
    this.data = new Float64Array(buckets * channels);
    this.sums = new Float64Array(channels);
    this.epochs = new Float64Array(buckets).fill(Number.NEGATIVE_INFINITY);
  }

  /** Moves the window so that it ends at `nowMs`, dropping buckets that fell out of it. */
  advance(nowMs: number): void {
    const epoch = Math.floor(nowMs / this.bucketMs);
    // Same bucket, or the clock stepped back: keep counting into the newest bucket.
    if (epoch <= this.headEpoch) return;
    const first = Math.max(this.headEpoch + 1, epoch - this.buckets + 1);
    for (let e = first; e <= epoch; e++) this.clearSlot(this.slotOf(e), e);
    this.headEpoch = epoch;
    this.headSlot = this.slotOf(epoch);
  }

  /** Adds `by` to `channel` in the bucket holding `nowMs`. */
  add(nowMs: number, channel: number, by = 1): void {
    this.advance(nowMs);
    this.data[this.headSlot * this.channels + channel]! += by;
    this.sums[channel]! += by;
  }

  /** The sum of `channel` over the window as of the last `advance`/`add`. */
  total(channel: number): number {
    return this.sums[channel]!;
  }

  /** The epoch of the oldest bucket in the window with a non-zero `channel`, if any. */
  oldestEpochWith(channel: number): number | undefined {
    if (this.headEpoch === Number.NEGATIVE_INFINITY) return undefined;
    for (let e = this.headEpoch - this.buckets + 1; e <= this.headEpoch; e++) {
      const slot = this.slotOf(e);
      if (this.epochs[slot] === e && this.data[slot * this.channels + channel]! > 0) return e;
    }
    return undefined;
  }

  /** Empties every bucket. */
  reset(): void {
    this.data.fill(0);
    this.sums.fill(0);
    this.epochs.fill(Number.NEGATIVE_INFINITY);
    this.headEpoch = Number.NEGATIVE_INFINITY;
    this.headSlot = 0;
  }

  /** The non-empty buckets of the window, oldest first. */
  snapshot(): BucketSnapshot[] {
    const out: BucketSnapshot[] = [];
    if (this.headEpoch === Number.NEGATIVE_INFINITY) return out;
    for (let e = this.headEpoch - this.buckets + 1; e <= this.headEpoch; e++) {
      const slot = this.slotOf(e);
      if (this.epochs[slot] !== e) continue;
      const counts = Array.from(
        this.data.subarray(slot * this.channels, (slot + 1) * this.channels),
      );
      if (counts.some((c) => c !== 0)) out.push({ epoch: e, counts });
    }
    return out;
  }

  /** Replaces the contents with exported buckets (those older than the window are dropped). */
  restore(buckets: readonly BucketSnapshot[]): void {
    this.reset();
    if (buckets.length === 0) return;
    const newest = Math.max(...buckets.map((b) => b.epoch));
    this.advance(newest * this.bucketMs);
    for (const bucket of buckets) {
      if (bucket.epoch <= newest - this.buckets) continue;
      const slot = this.slotOf(bucket.epoch);
      this.epochs[slot] = bucket.epoch;
      for (let c = 0; c < this.channels; c++) {
        const value = bucket.counts[c] ?? 0;
        this.data[slot * this.channels + c]! += value;
        this.sums[c]! += value;
      }
    }
  }

  private slotOf(epoch: number): number {
    const m = epoch % this.buckets;
    return m < 0 ? m + this.buckets : m;
  }

  private clearSlot(slot: number, epoch: number): void {
    const base = slot * this.channels;
    for (let c = 0; c < this.channels; c++) {
      this.sums[c]! -= this.data[base + c]!;
      this.data[base + c] = 0;
    }
    this.epochs[slot] = epoch;
  }
}
