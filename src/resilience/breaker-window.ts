import { invalid } from "../errors/index.js";
import { type BucketSnapshot, SlidingBuckets } from "./sliding-buckets.js";
import { checkInteger, checkPositiveMs, checkRatio } from "./validate.js";

/** Opens after `threshold` handled failures in a row. */
export interface ConsecutiveBreakerSpec {
  readonly kind: "consecutive";
  readonly threshold: number;
}

/** Rate thresholds shared by the count and time windows. */
export interface RateBreakerOptions {
  /** Calls the window must hold before it may open the circuit. */
  readonly minimumCalls?: number;
  /** Share of failed calls at or above which the circuit opens. Default 0.5. */
  readonly failureRateThreshold?: number;
  /** A call at least this long is slow (set together with `slowCallRateThreshold`). */
  readonly slowCallDurationMs?: number;
  /** Share of slow calls at or above which the circuit opens. */
  readonly slowCallRateThreshold?: number;
}

export interface CountBreakerOptions extends RateBreakerOptions {
  /** The last `size` calls form the window. */
  readonly size: number;
}

export interface TimeBreakerOptions extends RateBreakerOptions {
  /** Length of the window. */
  readonly windowMs: number;
  /** Buckets the window slides by (window = current bucket + buckets-1 before). Default 10. */
  readonly buckets?: number;
}

interface RateSpec {
  readonly minimumCalls: number;
  readonly failureRateThreshold: number;
  readonly slowCallDurationMs: number | undefined;
  readonly slowCallRateThreshold: number | undefined;
}

/** Opens on rates over the last `size` calls. */
export interface CountBreakerSpec extends RateSpec {
  readonly kind: "count";
  readonly size: number;
}

/** Opens on rates over a sliding time window. */
export interface TimeBreakerSpec extends RateSpec {
  readonly kind: "time";
  readonly windowMs: number;
  readonly buckets: number;
}

/** How a circuit breaker decides to open: pass one of the builders' results as `breaker`. */
export type BreakerSpec = ConsecutiveBreakerSpec | CountBreakerSpec | TimeBreakerSpec;

/** Opens after `threshold` consecutive handled failures. */
export function consecutiveBreaker(threshold: number): ConsecutiveBreakerSpec {
  checkInteger("threshold", threshold, 1);
  return { kind: "consecutive", threshold };
}

/** Opens when failure (or slow-call) rate over the last `size` calls reaches its threshold. */
export function countBreaker(options: CountBreakerOptions): CountBreakerSpec {
  checkInteger("size", options.size, 1);
  const rates = rateSpec(options, options.size);
  if (rates.minimumCalls > options.size) {
    throw invalid("minimumCalls", `an integer <= size (${options.size})`, rates.minimumCalls);
  }
  return { kind: "count", size: options.size, ...rates };
}

/** Opens when failure (or slow-call) rate over a sliding time window reaches its threshold. */
export function timeBreaker(options: TimeBreakerOptions): TimeBreakerSpec {
  checkPositiveMs("windowMs", options.windowMs);
  const buckets = options.buckets ?? 10;
  checkInteger("buckets", buckets, 1, 10_000);
  return { kind: "time", windowMs: options.windowMs, buckets, ...rateSpec(options, 10) };
}

function rateSpec(options: RateBreakerOptions, defaultMinimum: number): RateSpec {
  const minimumCalls = options.minimumCalls ?? defaultMinimum;
  checkInteger("minimumCalls", minimumCalls, 1);
  const failureRateThreshold = options.failureRateThreshold ?? 0.5;
  checkRatio("failureRateThreshold", failureRateThreshold);
  const { slowCallDurationMs, slowCallRateThreshold } = options;
  if ((slowCallDurationMs === undefined) !== (slowCallRateThreshold === undefined)) {
    const missing =
      slowCallDurationMs === undefined ? "slowCallDurationMs" : "slowCallRateThreshold";
    throw invalid(missing, "a value (slowCallDurationMs and slowCallRateThreshold go together)");
  }
  if (slowCallDurationMs !== undefined) checkPositiveMs("slowCallDurationMs", slowCallDurationMs);
  if (slowCallRateThreshold !== undefined)
    checkRatio("slowCallRateThreshold", slowCallRateThreshold);
  return { minimumCalls, failureRateThreshold, slowCallDurationMs, slowCallRateThreshold };
}

/** What recording an outcome decided. */
export const KEEP_CLOSED = 0;
export const TRIP_FAILURE_RATE = 1;
export const TRIP_SLOW_CALL_RATE = 2;
export const TRIP_CONSECUTIVE = 3;

export interface WindowStats {
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
}

/** A window as exported in a breaker's `toJSON()`. */
export type WindowSnapshot =
  | { readonly kind: "consecutive"; readonly failures: number }
  | { readonly kind: "count"; readonly outcomes: readonly number[] }
  | {
      readonly kind: "time";
      readonly bucketMs: number;
      readonly buckets: readonly BucketSnapshot[];
    };

/** @internal The live outcome window of a closed circuit. */
export interface BreakerWindow {
  /** Slow-call threshold in ms, or +Infinity when slow calls are not tracked. */
  readonly slowCallDurationMs: number;
  /** True when `record` needs the current time. */
  readonly needsTime: boolean;
  /** Adds an outcome; returns KEEP_CLOSED or the TRIP_* reason to open. */
  record(failure: boolean, slow: boolean, nowMs: number): number;
  stats(): WindowStats;
  reset(): void;
  snapshot(): WindowSnapshot;
  /** Restores a snapshot of the same kind; one of another kind leaves the window empty. */
  restore(snapshot: WindowSnapshot): void;
}

const FAILED = 1;
const SLOW = 2;

class ConsecutiveWindow implements BreakerWindow {
  readonly slowCallDurationMs = Number.POSITIVE_INFINITY;
  readonly needsTime = false;
  private failures = 0;

  constructor(private readonly threshold: number) {}

  record(failure: boolean): number {
    if (!failure) {
      this.failures = 0;
      return KEEP_CLOSED;
    }
    return ++this.failures >= this.threshold ? TRIP_CONSECUTIVE : KEEP_CLOSED;
  }

  stats(): WindowStats {
    return { calls: this.failures, failures: this.failures, slowCalls: 0 };
  }

  reset(): void {
    this.failures = 0;
  }

  snapshot(): WindowSnapshot {
    return { kind: "consecutive", failures: this.failures };
  }

  restore(snapshot: WindowSnapshot): void {
    this.failures =
      snapshot.kind === "consecutive" ? Math.max(0, Math.floor(snapshot.failures)) : 0;
  }
}

/** Decides on rates once the window holds `minimumCalls`; shared by count and time windows. */
function decide(spec: RateSpec, calls: number, failures: number, slowCalls: number): number {
  if (calls < spec.minimumCalls) return KEEP_CLOSED;
  if (failures / calls >= spec.failureRateThreshold) return TRIP_FAILURE_RATE;
  if (spec.slowCallRateThreshold !== undefined && slowCalls / calls >= spec.slowCallRateThreshold) {
    return TRIP_SLOW_CALL_RATE;
  }
  return KEEP_CLOSED;
}

/** A ring buffer of the last `size` outcomes with running totals: O(1) per call. */
class CountWindow implements BreakerWindow {
  readonly slowCallDurationMs: number;
  readonly needsTime: boolean;
  private readonly ring: Uint8Array;
  private next = 0;
  private count = 0;
  private failures = 0;
  private slowCalls = 0;

  constructor(private readonly spec: CountBreakerSpec) {
    this.ring = new Uint8Array(spec.size);
    this.slowCallDurationMs = spec.slowCallDurationMs ?? Number.POSITIVE_INFINITY;
    this.needsTime = spec.slowCallDurationMs !== undefined;
  }

  record(failure: boolean, slow: boolean): number {
    this.push((failure ? FAILED : 0) | (slow ? SLOW : 0));
    return decide(this.spec, this.count, this.failures, this.slowCalls);
  }

  stats(): WindowStats {
    return { calls: this.count, failures: this.failures, slowCalls: this.slowCalls };
  }

  reset(): void {
    this.next = 0;
    this.count = 0;
    this.failures = 0;
    this.slowCalls = 0;
  }

  snapshot(): WindowSnapshot {
    const outcomes: number[] = [];
    const size = this.ring.length;
    const start = this.count < size ? 0 : this.next;
    for (let i = 0; i < this.count; i++) outcomes.push(this.ring[(start + i) % size]!);
    return { kind: "count", outcomes };
  }

  restore(snapshot: WindowSnapshot): void {
    this.reset();
    if (snapshot.kind !== "count") return;
    for (const outcome of snapshot.outcomes.slice(-this.ring.length))
      this.push(outcome & (FAILED | SLOW));
  }

  private push(outcome: number): void {
    const ring = this.ring;
    if (this.count === ring.length) {
      const evicted = ring[this.next]!;
      this.failures -= evicted & FAILED;
      this.slowCalls -= (evicted & SLOW) >> 1;
    } else {
      this.count++;
    }
    ring[this.next] = outcome;
    this.failures += outcome & FAILED;
    this.slowCalls += (outcome & SLOW) >> 1;
    this.next = this.next + 1 === ring.length ? 0 : this.next + 1;
  }
}

const CALLS = 0;
const FAILURES = 1;
const SLOW_CALLS = 2;

/** Outcomes per time bucket with running totals: O(1) per call, at most `buckets` per slide. */
class TimeWindow implements BreakerWindow {
  readonly slowCallDurationMs: number;
  readonly needsTime = true;
  private readonly buckets: SlidingBuckets;

  constructor(private readonly spec: TimeBreakerSpec) {
    this.buckets = new SlidingBuckets(spec.windowMs / spec.buckets, spec.buckets, 3);
    this.slowCallDurationMs = spec.slowCallDurationMs ?? Number.POSITIVE_INFINITY;
  }

  record(failure: boolean, slow: boolean, nowMs: number): number {
    const b = this.buckets;
    b.add(nowMs, CALLS);
    if (failure) b.add(nowMs, FAILURES);
    if (slow) b.add(nowMs, SLOW_CALLS);
    return decide(this.spec, b.total(CALLS), b.total(FAILURES), b.total(SLOW_CALLS));
  }

  stats(): WindowStats {
    const b = this.buckets;
    return { calls: b.total(CALLS), failures: b.total(FAILURES), slowCalls: b.total(SLOW_CALLS) };
  }

  reset(): void {
    this.buckets.reset();
  }

  snapshot(): WindowSnapshot {
    return { kind: "time", bucketMs: this.buckets.bucketMs, buckets: this.buckets.snapshot() };
  }

  restore(snapshot: WindowSnapshot): void {
    this.buckets.reset();
    if (snapshot.kind !== "time" || snapshot.bucketMs !== this.buckets.bucketMs) return;
    this.buckets.restore(snapshot.buckets);
  }
}

/** @internal */
export function createWindow(spec: BreakerSpec): BreakerWindow {
  switch (spec.kind) {
    case "consecutive":
      return new ConsecutiveWindow(spec.threshold);
    case "count":
      return new CountWindow(spec);
    case "time":
      return new TimeWindow(spec);
  }
}
