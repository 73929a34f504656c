import * as hdr from "hdr-histogram-js";

/** Percentiles of a latency distribution, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** Values are clamped to one hour, in microseconds. */
const MAX_MICROS = 3_600_000_000;

/**
 * An HDR histogram of durations. Values are recorded in microseconds (3 significant digits,
 * up to one hour), so sub-millisecond fsyncs and multi-second stalls share one histogram.
 * Its buckets grow with the largest value recorded: one covering the whole hour takes 95 KB,
 * and every engine log has one, so a thousand idle queues would hold 95 MB of zeros.
 */
export class LatencyHistogram {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    autoResize: true,
    numberOfSignificantValueDigits: 3,
  });

  /** Records a duration in milliseconds (fractions kept down to a microsecond), `count` times. */
  recordMs(durationMs: number, count = 1): void {
    const micros = Math.min(MAX_MICROS, Math.max(1, Math.round(durationMs * 1000)));
    if (count === 1) this.histogram.recordValue(micros);
    else this.histogram.recordValueWithCount(micros, count);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentileMs(percentile: number): number {
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const empty = h.totalCount === 0;
    return {
      count: h.totalCount,
      minMs: empty ? 0 : h.minNonZeroValue / 1000,
      meanMs: empty ? 0 : h.mean / 1000,
      p50Ms: this.percentileMs(50),
      p95Ms: this.percentileMs(95),
      p99Ms: this.percentileMs(99),
      p999Ms: this.percentileMs(99.9),
      maxMs: empty ? 0 : h.maxValue / 1000,
    };
  }

  reset(): void {
    this.histogram.reset();
  }
}
