import { invalid } from "../errors/index.js";
import { RateLimitedError } from "./resilience-errors.js";
import type { Counter } from "../observability/index.js";
import { type Clock, systemClock } from "../time/index.js";
import { type Event, EventEmitter } from "./events.js";
import { type ObservedOptions, PolicyMetrics } from "./metrics.js";
import { type CallContext, type Link, PolicyBase, type PolicyFn, proceed } from "./policy.js";
import { SlidingBuckets } from "./sliding-buckets.js";
import { checkDelay, checkInteger, checkPositiveMs } from "./validate.js";

/** Up to `capacity` permits at once, refilled continuously at `refillPerSecond`. */
export interface TokenBucketSpec {
  readonly kind: "token-bucket";
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly initialTokens: number;
}

/**
 * At most `limit` permits in any `windowMs`. The window slides by `windowMs / buckets`, so a
 * spent budget comes back in steps of that size.
 */
export interface SlidingWindowSpec {
  readonly kind: "sliding-window";
  readonly limit: number;
  readonly windowMs: number;
  readonly buckets: number;
}

export type RateLimitSpec = TokenBucketSpec | SlidingWindowSpec;

export interface TokenBucketOptions {
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** Tokens at start. Default: `capacity`. */
  readonly initialTokens?: number;
}

export interface SlidingWindowOptions {
  readonly limit: number;
  readonly windowMs: number;
  /** Default 10. */
  readonly buckets?: number;
}

/** A token bucket: bursts up to `capacity`, sustained `refillPerSecond`. */
export function tokenBucket(options: TokenBucketOptions): TokenBucketSpec {
  const { capacity, refillPerSecond } = options;
  if (typeof capacity !== "number" || !Number.isFinite(capacity) || capacity <= 0) {
    throw invalid("capacity", "a finite number > 0", capacity);
  }
  if (
    typeof refillPerSecond !== "number" ||
    !Number.isFinite(refillPerSecond) ||
    refillPerSecond <= 0
  ) {
    throw invalid("refillPerSecond", "a finite number > 0", refillPerSecond);
  }
  const initialTokens = options.initialTokens ?? capacity;
  if (typeof initialTokens !== "number" || !(initialTokens >= 0 && initialTokens <= capacity)) {
    throw invalid("initialTokens", `a number in [0, ${capacity}]`, initialTokens);
  }
  return { kind: "token-bucket", capacity, refillPerSecond, initialTokens };
}

/** A sliding window counter: at most `limit` permits per `windowMs`. */
export function slidingWindow(options: SlidingWindowOptions): SlidingWindowSpec {
  checkInteger("limit", options.limit, 1);
  checkPositiveMs("windowMs", options.windowMs);
  const buckets = options.buckets ?? 10;
  checkInteger("buckets", buckets, 1, 10_000);
  return { kind: "sliding-window", limit: options.limit, windowMs: options.windowMs, buckets };
}

/** Takes permits now (returns 0) or says how long to wait before asking again (ms, maybe Infinity). */
interface Limiter {
  take(nowMs: number, permits: number): number;
}

class TokenBucketLimiter implements Limiter {
  private tokens: number;
  private lastMs: number | undefined = undefined;
  private readonly perMs: number;

  constructor(private readonly spec: TokenBucketSpec) {
    this.tokens = spec.initialTokens;
    this.perMs = spec.refillPerSecond / 1000;
  }

  take(nowMs: number, permits: number): number {
    if (this.lastMs === undefined) this.lastMs = nowMs;
    else if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.spec.capacity, this.tokens + (nowMs - this.lastMs) * this.perMs);
      this.lastMs = nowMs;
    }
    if (this.tokens >= permits) {
      this.tokens -= permits;
      return 0;
    }
    if (permits > this.spec.capacity) return Number.POSITIVE_INFINITY;
    return Math.max(1, Math.ceil((permits - this.tokens) / this.perMs));
  }
}

class SlidingWindowLimiter implements Limiter {
  private readonly window: SlidingBuckets;

  constructor(private readonly spec: SlidingWindowSpec) {
    // One bucket more than asked: any span of windowMs then lies inside the window, so the limit
    // holds over every such span, not only over bucket-aligned ones.
    this.window = new SlidingBuckets(spec.windowMs / spec.buckets, spec.buckets + 1, 1);
  }

  take(nowMs: number, permits: number): number {
    const w = this.window;
    w.advance(nowMs);
    if (w.total(0) + permits <= this.spec.limit) {
      w.add(nowMs, 0, permits);
      return 0;
    }
    if (permits > this.spec.limit) return Number.POSITIVE_INFINITY;
    const oldest = w.oldestEpochWith(0);
    if (oldest === undefined) return 1;
    return Math.max(1, (oldest + w.buckets) * w.bucketMs - nowMs);
  }
}

export interface RateLimiterOptions extends ObservedOptions {
  /** How long a call may wait for a permit before SLUICE_RATE_LIMITED. Default 0 (never wait). */
  readonly maxWaitMs?: number;
  readonly clock?: Clock;
}

export interface RateLimitedEvent {
  readonly permits: number;
  /** When a permit may be free again. */
  readonly retryAfterMs: number;
}

/**
 * Limits the rate of calls (one permit each) with a token bucket or a sliding window. A call
 * that finds no permit waits up to `maxWaitMs`, then fails with SLUICE_RATE_LIMITED carrying
 * `details.retryAfterMs`.
 */
export class RateLimiterPolicy extends PolicyBase {
  private readonly limitedEmitter = new EventEmitter<RateLimitedEvent>();
  /** A call or `acquire` was refused. */
  readonly onRateLimited: Event<RateLimitedEvent> = this.limitedEmitter.event;

  private readonly limiter: Limiter;
  private readonly maxWaitMs: number;
  private readonly clock: Clock;
  private readonly limited: Counter | undefined;

  constructor(spec: RateLimitSpec, options: RateLimiterOptions = {}) {
    super();
    this.limiter =
      spec.kind === "token-bucket" ? new TokenBucketLimiter(spec) : new SlidingWindowLimiter(spec);
    this.maxWaitMs = options.maxWaitMs ?? 0;
    checkDelay("maxWaitMs", this.maxWaitMs);
    this.clock = options.clock ?? systemClock;
    const m = new PolicyMetrics(options.metrics, options.name ?? "rate-limiter");
    this.limited = m.counter("sluice_rate_limited_total", "Calls a rate limiter refused.");
  }

  /** Takes `permits` if they are free now; never waits. */
  tryAcquire(permits = 1): boolean {
    return this.limiter.take(this.clock.now(), permits) === 0;
  }

  /** Takes `permits`, waiting up to `maxWaitMs`; throws SLUICE_RATE_LIMITED otherwise. */
  async acquire(permits = 1, signal?: AbortSignal): Promise<void> {
    const startMs = this.clock.now();
    for (;;) {
      const now = this.clock.now();
      const waitMs = this.limiter.take(now, permits);
      if (waitMs === 0) return;
      if (now + waitMs - startMs > this.maxWaitMs) throw this.refuse(permits, waitMs);
      await this.clock.sleep(waitMs, signal);
    }
  }

  run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T> {
    if (this.limiter.take(this.clock.now(), 1) === 0) return this.proceed(fn, context, next);
    return this.acquire(1, context.abortable()).then(() => proceed(fn, context, next));
  }

  private async proceed<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T> {
    return proceed(fn, context, next);
  }

  private refuse(permits: number, retryAfterMs: number): RateLimitedError {
    this.limited?.inc();
    if (this.limitedEmitter.hasListeners) this.limitedEmitter.emit({ permits, retryAfterMs });
    return new RateLimitedError("rate limit reached", {
      details: { permits, retryAfterMs },
    });
  }
}

/** Limits call rate per `spec` (`tokenBucket(...)` or `slidingWindow(...)`). */
export function rateLimiter(
  spec: RateLimitSpec,
  options: RateLimiterOptions = {},
): RateLimiterPolicy {
  return new RateLimiterPolicy(spec, options);
}
