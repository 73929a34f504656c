import { TimeoutError } from "./resilience-errors.js";
import type { Counter } from "../observability/index.js";
import { type Clock, type Timer, abortError, systemClock } from "../time/index.js";
import { type Event, EventEmitter } from "./events.js";
import { type ObservedOptions, PolicyMetrics } from "./metrics.js";
import { type CallContext, type Link, PolicyBase, type PolicyFn, proceed } from "./policy.js";
import { checkDelay, checkOneOf } from "./validate.js";

/**
 * `cooperative`: at the deadline the signal handed to the function aborts, and the policy waits
 * for the function to finish (an error it then throws becomes SLUICE_TIMEOUT; a value it still
 * returns is kept). `aggressive`: at the deadline the policy also rejects at once with
 * SLUICE_TIMEOUT and stops waiting; the function's late outcome is discarded.
 */
export type TimeoutStrategy = "cooperative" | "aggressive";

export interface TimeoutOptions extends ObservedOptions {
  /** Default `cooperative`. */
  readonly strategy?: TimeoutStrategy;
  readonly clock?: Clock;
}

export interface TimeoutEvent {
  readonly timeoutMs: number;
  readonly strategy: TimeoutStrategy;
}

/**
 * One call under a timeout, and the context its function sees. The AbortController is made
 * only when someone reads `signal`: a function that never looks at its signal cannot react to
 * a cooperative timeout, so such calls need neither a controller nor a timer.
 */
class TimedCall implements CallContext {
  controller: AbortController | undefined = undefined;
  timeoutReason: TimeoutError | undefined = undefined;
  settled = false;
  queued = false;
  parentListener: (() => void) | undefined = undefined;
  resolve: ((value: unknown) => void) | undefined = undefined;
  reject: ((error: unknown) => void) | undefined = undefined;

  constructor(
    private readonly policy: TimeoutPolicy,
    readonly parent: CallContext,
    readonly deadlineMs: number,
  ) {}

  get attempt(): number {
    return this.parent.attempt;
  }

  get signal(): AbortSignal {
    return (this.controller ?? this.policy.link(this)).signal;
  }

  abortable(): AbortSignal {
    return this.signal;
  }
}

/** Bounds how long a call may take; see {@link TimeoutStrategy}. */
export class TimeoutPolicy extends PolicyBase {
  private readonly timeoutEmitter = new EventEmitter<TimeoutEvent>();
  /** Fires when a call's deadline passes before it settles. */
  readonly onTimeout: Event<TimeoutEvent> = this.timeoutEmitter.event;

  readonly strategy: TimeoutStrategy;
  private readonly aggressive: boolean;
  private readonly clock: Clock;
  private readonly timeouts: Counter | undefined;
  // Calls waiting for their deadline, in deadline order, served by a single clock timer:
  // calls share one timeout length, so new deadlines almost always go at the end.
  private queue: TimedCall[] = [];
  private head = 0;
  private timer: Timer | undefined = undefined;
  private timerDueMs = Number.POSITIVE_INFINITY;
  /** Whether the armed timer holds the process (released while no call waits on it). */
  private timerHolds = false;

  constructor(
    readonly timeoutMs: number,
    options: TimeoutOptions = {},
  ) {
    super();
    checkDelay("timeoutMs", timeoutMs);
    this.strategy = options.strategy ?? "cooperative";
    checkOneOf("strategy", this.strategy, ["cooperative", "aggressive"]);
    this.aggressive = this.strategy === "aggressive";
    this.clock = options.clock ?? systemClock;
    const metrics = new PolicyMetrics(options.metrics, options.name ?? "timeout");
    this.timeouts = metrics.counter(
      "sluice_timeout_timeouts_total",
      "Calls whose deadline passed.",
    );
  }

  run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T> {
    return this.aggressive
      ? this.runAggressive(fn, context, next)
      : this.runCooperative(fn, context, next);
  }

  /** @internal Creates the call's controller when its signal is first read, and arms its deadline. */
  link(call: TimedCall): AbortController {
    const controller = new AbortController();
    call.controller = controller;
    if (call.timeoutReason !== undefined) {
      controller.abort(call.timeoutReason);
      return controller;
    }
    const parentSignal = call.parent.abortable();
    if (parentSignal?.aborted === true) controller.abort(parentSignal.reason);
    else if (parentSignal !== undefined && call.parentListener === undefined && !call.settled) {
      call.parentListener = () => controller.abort(parentSignal.reason);
      parentSignal.addEventListener("abort", call.parentListener, { once: true });
    }
    if (!call.queued && !call.settled) this.schedule(call);
    return controller;
  }

  private async runCooperative<T>(
    fn: PolicyFn<T>,
    context: CallContext,
    next: Link | null,
  ): Promise<T> {
    const call = new TimedCall(this, context, this.clock.now() + this.timeoutMs);
    try {
      const value = await proceed(fn, call, next);
      this.noteLate(call);
      return value;
    } catch (error) {
      this.noteLate(call);
      if (call.timeoutReason === undefined || error === call.timeoutReason) throw error;
      throw this.timeoutError(error);
    } finally {
      this.settle(call);
    }
  }

  private runAggressive<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T> {
    const parentSignal = context.abortable();
    if (parentSignal?.aborted === true) return Promise.reject(abortError(parentSignal));
    const call = new TimedCall(this, context, this.clock.now() + this.timeoutMs);
    return new Promise<T>((resolve, reject) => {
      call.resolve = resolve as (value: unknown) => void;
      call.reject = reject;
      if (parentSignal !== undefined) {
        call.parentListener = () => {
          call.controller?.abort(parentSignal.reason);
          this.finish(call, false, abortError(parentSignal));
        };
        parentSignal.addEventListener("abort", call.parentListener, { once: true });
      }
      this.schedule(call);
      if (call.settled) return;
      let pending: PromiseLike<T> | T;
      try {
        pending = proceed(fn, call, next);
      } catch (error) {
        this.finish(call, false, error);
        return;
      }
      Promise.resolve(pending).then(
        (value) => this.finish(call, true, value),
        (error: unknown) => this.finish(call, false, error),
      );
    });
  }

  private finish(call: TimedCall, ok: boolean, outcome: unknown): void {
    if (call.settled) return;
    this.settle(call);
    if (ok) call.resolve!(outcome);
    else call.reject!(outcome);
  }

  private settle(call: TimedCall): void {
    call.settled = true;
    if (call.parentListener !== undefined) {
      call.parent.abortable()?.removeEventListener("abort", call.parentListener);
      call.parentListener = undefined;
    }
    if (call.queued) this.dropSettledHead();
  }

  private schedule(call: TimedCall): void {
    if (this.clock.now() >= call.deadlineMs) {
      this.expire(call);
      return;
    }
    call.queued = true;
    const queue = this.queue;
    let i = queue.length;
    if (i === this.head || queue[i - 1]!.deadlineMs <= call.deadlineMs) queue.push(call);
    else {
      while (i > this.head && queue[i - 1]!.deadlineMs > call.deadlineMs) i--;
      queue.splice(i, 0, call);
    }
    if (this.timer === undefined || call.deadlineMs < this.timerDueMs) this.arm(call.deadlineMs);
    else if (!this.timerHolds) {
      this.timer.setKeepAlive?.(true);
      this.timerHolds = true;
    }
  }

  private releaseTimer(): void {
    const timer = this.timer;
    if (timer === undefined) return;
    if (timer.setKeepAlive !== undefined) {
      timer.setKeepAlive(false);
      this.timerHolds = false;
    } else {
      timer.cancel();
      this.timer = undefined;
      this.timerDueMs = Number.POSITIVE_INFINITY;
    }
  }

  private arm(dueMs: number): void {
    this.timer?.cancel();
    this.timerDueMs = dueMs;
    // Callers await the deadline (an aggressive timeout rejects at it): keep the process alive.
    this.timer = this.clock.setTimer(dueMs - this.clock.now(), this.onTimer, { keepAlive: true });
    this.timerHolds = true;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerDueMs = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const due: TimedCall[] = [];
    while (this.head < this.queue.length) {
      const call = this.queue[this.head]!;
      if (!call.settled && call.deadlineMs > now) break;
      this.head++;
      if (!call.settled) due.push(call);
    }
    this.dropSettledHead();
    if (this.head < this.queue.length) this.arm(this.queue[this.head]!.deadlineMs);
    // Expire last: aborting runs listeners that may start (and queue) new calls.
    for (const call of due) this.expire(call);
  };

  /**
   * A call that never read its signal has no timer (that is what keeps it cheap), so its
   * deadline is checked when it finishes: a late one counts as timed out all the same.
   */
  private noteLate(call: TimedCall): void {
    if (call.timeoutReason === undefined && !call.queued && this.clock.now() > call.deadlineMs)
      this.expire(call);
  }

  private expire(call: TimedCall): void {
    if (call.settled) return;
    const reason = this.timeoutError(undefined);
    call.timeoutReason = reason;
    this.timeouts?.inc();
    if (this.timeoutEmitter.hasListeners) {
      this.timeoutEmitter.emit({ timeoutMs: this.timeoutMs, strategy: this.strategy });
    }
    call.controller?.abort(reason);
    if (this.aggressive) this.finish(call, false, reason);
  }

  private dropSettledHead(): void {
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head]!.settled) this.head++;
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
      // Nothing left to time out: the armed timer must not hold the process open for nothing
      // (released rather than cancelled, so back-to-back calls do not re-arm a timer each).
      this.releaseTimer();
    } else if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
  }

  private timeoutError(cause: unknown): TimeoutError {
    return new TimeoutError(`timed out after ${this.timeoutMs} ms`, {
      cause,
      details: { timeoutMs: this.timeoutMs, strategy: this.strategy },
    });
  }
}

/** Bounds a call to `timeoutMs`; cooperative (via AbortSignal) unless told to be aggressive. */
export function timeout(
  timeoutMs: number,
  options: TimeoutOptions | TimeoutStrategy = {},
): TimeoutPolicy {
  return new TimeoutPolicy(
    timeoutMs,
    typeof options === "string" ? { strategy: options } : options,
  );
}
