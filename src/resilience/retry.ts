import { RetryBudgetExhaustedError } from "./resilience-errors.js";
import type { Counter } from "../observability/index.js";
import { type Clock, systemClock } from "../time/index.js";
import { type Backoff, exponentialBackoff } from "./backoff.js";
import { type Event, EventEmitter } from "./events.js";
import { type FailureReason, type Handler, handleTransient } from "./handle.js";
import { type ObservedOptions, PolicyMetrics } from "./metrics.js";
import {
  AttemptContext,
  type CallContext,
  type Link,
  PolicyBase,
  type PolicyFn,
  proceed,
} from "./policy.js";
import type { RetryBudget } from "./retry-budget.js";
import { checkDelay, checkInteger } from "./validate.js";

export interface RetryOptions extends ObservedOptions {
  /** Tries in total, the first included (so 3 = one call and up to two retries). Default 3. */
  readonly maxAttempts?: number;
  /** Delay schedule between tries. Default: exponential from 100 ms with full jitter. */
  readonly backoff?: Backoff;
  /** Cap on any single delay, whatever the backoff says. */
  readonly maxDelayMs?: number;
  /** Limits retries to a share of calls; shared among policies that call the same downstream. */
  readonly budget?: RetryBudget;
  readonly clock?: Clock;
}

export interface RetryEvent {
  /** The attempt that just failed (1 = the first call). */
  readonly attempt: number;
  /** How long the policy waits before the next attempt. */
  readonly delayMs: number;
  readonly reason: FailureReason;
}

export type GiveUpCause = "max-attempts" | "budget-exhausted" | "aborted";

export interface GiveUpEvent {
  readonly attempts: number;
  readonly cause: GiveUpCause;
  readonly reason: FailureReason;
}

export interface RetrySuccessEvent {
  readonly attempts: number;
}

/** Retries handled failures with a backoff, up to `maxAttempts` and within an optional budget. */
export class RetryPolicy extends PolicyBase {
  private readonly retryEmitter = new EventEmitter<RetryEvent>();
  private readonly giveUpEmitter = new EventEmitter<GiveUpEvent>();
  private readonly successEmitter = new EventEmitter<RetrySuccessEvent>();
  /** Fires before each wait, once per failed attempt that will be retried. */
  readonly onRetry: Event<RetryEvent> = this.retryEmitter.event;
  /** Fires when the policy stops retrying and returns or throws the last failure. */
  readonly onGiveUp: Event<GiveUpEvent> = this.giveUpEmitter.event;
  /** Fires when an attempt succeeds. */
  readonly onSuccess: Event<RetrySuccessEvent> = this.successEmitter.event;

  readonly maxAttempts: number;
  private readonly backoff: Backoff;
  private readonly maxDelayMs: number;
  private readonly budget: RetryBudget | undefined;
  private readonly clock: Clock;
  private readonly checksResults: boolean;
  private readonly retries: Counter | undefined;
  private readonly giveUps: Counter | undefined;

  constructor(
    private readonly handler: Handler,
    options: RetryOptions = {},
  ) {
    super();
    this.maxAttempts = options.maxAttempts ?? 3;
    checkInteger("maxAttempts", this.maxAttempts, 1);
    this.maxDelayMs = options.maxDelayMs ?? Number.POSITIVE_INFINITY;
    if (options.maxDelayMs !== undefined) checkDelay("maxDelayMs", options.maxDelayMs);
    this.backoff = options.backoff ?? exponentialBackoff();
    this.budget = options.budget;
    this.clock = options.clock ?? systemClock;
    this.checksResults = handler.checksResults;
    const metrics = new PolicyMetrics(options.metrics, options.name ?? "retry");
    this.retries = metrics.counter(
      "sluice_retry_retries_total",
      "Retries started by a retry policy.",
    );
    this.giveUps = metrics.counter(
      "sluice_retry_give_ups_total",
      "Calls a retry policy stopped retrying and failed.",
    );
  }

  async run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T> {
    this.budget?.recordCall();
    let previousDelayMs = 0;
    for (let attempt = 1; ; attempt++) {
      const attemptContext = attempt === 1 ? context : new AttemptContext(context, attempt);
      let reason: FailureReason;
      try {
        const result = await proceed(fn, attemptContext, next);
        if (!this.checksResults || !this.handler.handlesResult(result)) {
          if (this.successEmitter.hasListeners) this.successEmitter.emit({ attempts: attempt });
          return result;
        }
        reason = { result };
      } catch (error) {
        if (!this.handler.handlesError(error)) throw error;
        reason = { error };
      }

      const signal = context.abortable();
      if (attempt >= this.maxAttempts) return this.giveUp(attempt, "max-attempts", reason);
      if (signal?.aborted === true) return this.giveUp(attempt, "aborted", reason);
      const delayMs = Math.min(
        this.maxDelayMs,
        Math.max(0, this.backoff.delayMs(attempt, previousDelayMs)),
      );
      if (this.budget !== undefined && !this.budget.tryRetry()) {
        return this.giveUp(attempt, "budget-exhausted", reason);
      }
      this.retries?.inc();
      if (this.retryEmitter.hasListeners) this.retryEmitter.emit({ attempt, delayMs, reason });
      previousDelayMs = delayMs;
      if (delayMs > 0) {
        try {
          await this.clock.sleep(delayMs, signal);
        } catch (abort) {
          // Aborted while waiting to retry: a give-up like any other, then the abort.
          this.recordGiveUp(attempt, "aborted", reason);
          throw abort;
        }
      }
    }
  }

  private recordGiveUp(attempts: number, cause: GiveUpCause, reason: FailureReason): void {
    this.giveUps?.inc();
    if (this.giveUpEmitter.hasListeners) this.giveUpEmitter.emit({ attempts, cause, reason });
  }

  private giveUp<T>(attempts: number, cause: GiveUpCause, reason: FailureReason): T {
    this.recordGiveUp(attempts, cause, reason);
    if ("result" in reason) return reason.result as T;
    if (cause === "budget-exhausted") {
      throw new RetryBudgetExhaustedError(`retry budget exhausted after ${attempts} attempt(s)`, {
        cause: reason.error,
        details: { attempts },
      });
    }
    throw reason.error;
  }
}

/**
 * Retries failures that `handler` handles (default: every error but Sluice's own fast
 * rejections and aborts). Results the handler rejects are retried too, and the last one is
 * returned when attempts run out.
 */
export function retry(handler: Handler = handleTransient, options: RetryOptions = {}): RetryPolicy {
  return new RetryPolicy(handler, options);
}
