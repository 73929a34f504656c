import { invalid } from "../errors/index.js";
import { type Clock, systemClock } from "../time/index.js";
import { SlidingBuckets } from "./sliding-buckets.js";
import { checkInteger, checkPositiveMs } from "./validate.js";

export interface RetryBudgetOptions {
  /** Retries allowed as a share of calls in the window, e.g. 0.2 = one retry per five calls. Default 0.2. */
  readonly ratio?: number;
  /** Retries always allowed per second, so a quiet service can still retry. Default 10. */
  readonly minRetriesPerSecond?: number;
  /** Length of the sliding window. Default 10,000. */
  readonly windowMs?: number;
  /** Buckets the window slides by. Default 10. */
  readonly buckets?: number;
  readonly clock?: Clock;
}

const CALLS = 0;
const RETRIES = 1;

/**
 * Caps retries at a share of calls over a sliding window (as Finagle's and gRPC's retry
 * budgets do), so that when a downstream is failing, retries add at most `ratio` more load
 * instead of multiplying it by `maxAttempts`. Share one budget among the retry policies that
 * call the same downstream.
 */
export class RetryBudget {
  private readonly window: SlidingBuckets;
  private readonly clock: Clock;
  private readonly ratio: number;
  private readonly reserve: number;

  constructor(options: RetryBudgetOptions = {}) {
    const ratio = options.ratio ?? 0.2;
    const minPerSecond = options.minRetriesPerSecond ?? 10;
    const windowMs = options.windowMs ?? 10_000;
    const buckets = options.buckets ?? 10;
    if (typeof ratio !== "number" || !(ratio >= 0 && ratio <= 1)) {
      throw invalid("ratio", "a ratio in [0, 1]", ratio);
    }
    if (
      typeof minPerSecond !== "number" ||
      !(minPerSecond >= 0) ||
      !Number.isFinite(minPerSecond)
    ) {
      throw invalid("minRetriesPerSecond", "a finite number >= 0", minPerSecond);
    }
    checkPositiveMs("windowMs", windowMs);
    checkInteger("buckets", buckets, 1, 1000);
    this.clock = options.clock ?? systemClock;
    this.ratio = ratio;
    this.reserve = (minPerSecond * windowMs) / 1000;
    this.window = new SlidingBuckets(windowMs / buckets, buckets, 2);
  }

  /** Counts one call (a first attempt). */
  recordCall(): void {
    this.window.add(this.clock.now(), CALLS);
  }

  /** Takes one retry from the budget; false (and nothing taken) when it is spent. */
  tryRetry(): boolean {
    this.window.advance(this.clock.now());
    if (this.window.total(RETRIES) + 1 > this.allowance()) return false;
    this.window.add(this.clock.now(), RETRIES);
    return true;
  }

  /** Retries still allowed in the current window. */
  get available(): number {
    this.window.advance(this.clock.now());
    return Math.max(0, Math.floor(this.allowance() - this.window.total(RETRIES)));
  }

  private allowance(): number {
    return this.reserve + this.ratio * this.window.total(CALLS);
  }
}

/** A retry budget to pass as `retry(handler, { budget })`. */
export function retryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  return new RetryBudget(options);
}
