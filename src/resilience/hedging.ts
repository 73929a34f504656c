import { SluiceError } from "../errors/index.js";
import type { Counter } from "../observability/index.js";
import { type Clock, type Timer, systemClock } from "../time/index.js";
import { type Event, EventEmitter } from "./events.js";
import { type FailureReason, type Handler, handleTransient } from "./handle.js";
import { type ObservedOptions, PolicyMetrics } from "./metrics.js";
import { type CallContext, type Link, PolicyBase, type PolicyFn, proceed } from "./policy.js";
import { checkDelay, checkInteger } from "./validate.js";

export interface HedgingOptions extends ObservedOptions {
  /** How long an attempt may run before the next one starts alongside it; 0 starts all at once. */
  readonly delayMs: number;
  /** Attempts beyond the first. Default 1. */
  readonly maxHedgedAttempts?: number;
  /** Failures that start the next attempt at once instead of waiting (default: as retry). */
  readonly handler?: Handler;
  readonly clock?: Clock;
}

export interface HedgeEvent {
  /** The attempt being started (2 = the first hedge). */
  readonly attempt: number;
  /** `delay`: the earlier attempts were too slow; `failure`: one failed. */
  readonly cause: "delay" | "failure";
}

/** One attempt's context: its own signal, aborted when another attempt wins or the caller aborts. */
class HedgeAttempt implements CallContext {
  controller: AbortController | undefined = undefined;
  finished = false;

  constructor(
    private readonly run: HedgeRun<unknown>,
    readonly attempt: number,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      const reason = this.run.abortReason;
      if (reason !== undefined) this.controller.abort(reason);
    }
    return this.controller.signal;
  }

  abortable(): AbortSignal {
    return this.signal;
  }
}

/** The state of one hedged call. */
class HedgeRun<T> {
  abortReason: unknown = undefined;
  private readonly attempts: HedgeAttempt[] = [];
  private pending = 0;
  private done = false;
  private timer: Timer | undefined = undefined;
  private lastFailure: FailureReason | undefined = undefined;
  private readonly parentSignal: AbortSignal | undefined;
  private readonly onParentAbort: (() => void) | undefined;

  constructor(
    private readonly policy: HedgingPolicy,
    private readonly fn: PolicyFn<T>,
    private readonly next: Link | null,
    context: CallContext,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.parentSignal = context.abortable();
    if (this.parentSignal !== undefined) {
      const parent = this.parentSignal;
      this.onParentAbort = () => {
        this.cancelTimer();
        this.abortAll(parent.reason);
      };
      if (parent.aborted) this.abortReason = parent.reason;
      else parent.addEventListener("abort", this.onParentAbort, { once: true });
    } else {
      this.onParentAbort = undefined;
    }
  }

  launch(cause: HedgeEvent["cause"]): void {
    const number = this.attempts.length + 1;
    const attempt = new HedgeAttempt(this as HedgeRun<unknown>, number);
    this.attempts.push(attempt);
    this.pending++;
    if (number > 1) this.policy.hedged(number, cause);
    if (number < this.policy.totalAttempts && this.abortReason === undefined) {
      this.timer = this.policy.clock.setTimer(
        this.policy.delayMs,
        () => {
          this.timer = undefined;
          if (!this.done && this.abortReason === undefined) this.launch("delay");
        },
        { keepAlive: true },
      );
    }
    let outcome: PromiseLike<T> | T;
    try {
      outcome = proceed(this.fn, attempt, this.next);
    } catch (error) {
      queueMicrotask(() => this.settle(attempt, false, error));
      return;
    }
    Promise.resolve(outcome).then(
      (value) => this.settle(attempt, true, value),
      (error: unknown) => this.settle(attempt, false, error),
    );
  }

  private settle(attempt: HedgeAttempt, ok: boolean, value: unknown): void {
    attempt.finished = true;
    this.pending--;
    if (this.done) return;
    const handler = this.policy.handler;
    if (ok && !(handler.checksResults && handler.handlesResult(value)))
      return this.finish(true, value);
    if (!ok && !handler.handlesError(value)) return this.finish(false, value);
    this.lastFailure = ok ? { result: value } : { error: value };
    if (this.attempts.length < this.policy.totalAttempts && this.abortReason === undefined) {
      this.cancelTimer();
      this.launch("failure");
    } else if (this.pending === 0) {
      const last = this.lastFailure;
      if ("result" in last) this.finish(true, last.result);
      else this.finish(false, last.error);
    }
  }

  private finish(ok: boolean, value: unknown): void {
    this.done = true;
    this.cancelTimer();
    if (this.onParentAbort !== undefined)
      this.parentSignal?.removeEventListener("abort", this.onParentAbort);
    if (this.pending > 0) {
      this.abortAll(new SluiceError("SLUICE_ABORTED", "another hedged attempt finished first"));
    }
    if (ok) this.resolve(value as T);
    else this.reject(value);
  }

  private abortAll(reason: unknown): void {
    this.abortReason ??= reason;
    for (const attempt of this.attempts) if (!attempt.finished) attempt.controller?.abort(reason);
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/**
 * Hedging: when an attempt has not finished after `delayMs`, starts another alongside it (up to
 * `maxHedgedAttempts` more); a handled failure starts the next one at once. The first acceptable
 * outcome wins and the other attempts' signals abort. Only for idempotent work.
 */
export class HedgingPolicy extends PolicyBase {
  private readonly hedgeEmitter = new EventEmitter<HedgeEvent>();
  /** A hedged attempt started. */
  readonly onHedge: Event<HedgeEvent> = this.hedgeEmitter.event;

  /** @internal */
  readonly totalAttempts: number;
  /** @internal */
  readonly delayMs: number;
  /** @internal */
  readonly handler: Handler;
  /** @internal */
  readonly clock: Clock;
  private readonly hedges: Counter | undefined;

  constructor(options: HedgingOptions) {
    super();
    checkDelay("delayMs", options.delayMs);
    const extra = options.maxHedgedAttempts ?? 1;
    checkInteger("maxHedgedAttempts", extra, 1, 100);
    this.totalAttempts = extra + 1;
    this.delayMs = options.delayMs;
    this.handler = options.handler ?? handleTransient;
    this.clock = options.clock ?? systemClock;
    const m = new PolicyMetrics(options.metrics, options.name ?? "hedging");
    this.hedges = m.counter("sluice_hedging_hedges_total", "Hedged attempts started.");
  }

  run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      new HedgeRun<T>(this, fn, next, context, resolve, reject).launch("delay");
    });
  }

  /** @internal */
  hedged(attempt: number, cause: HedgeEvent["cause"]): void {
    this.hedges?.inc();
    if (this.hedgeEmitter.hasListeners) this.hedgeEmitter.emit({ attempt, cause });
  }
}

/** Starts a second attempt (or more) when the first is slow; the first acceptable result wins. */
export function hedging(options: HedgingOptions): HedgingPolicy {
  return new HedgingPolicy(options);
}
