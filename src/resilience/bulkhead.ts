import { BulkheadRejectedError } from "./resilience-errors.js";
import type { Counter, Gauge } from "../observability/index.js";
import { type Clock, type Timer, abortError, systemClock } from "../time/index.js";
import { type Event, EventEmitter } from "./events.js";
import { type ObservedOptions, PolicyMetrics } from "./metrics.js";
import { type CallContext, type Link, PolicyBase, type PolicyFn, proceed } from "./policy.js";
import { checkInteger, checkPositiveMs } from "./validate.js";

export interface BulkheadOptions extends ObservedOptions {
  /** Calls allowed to run at once. */
  readonly maxConcurrent: number;
  /** Calls allowed to wait for a slot; beyond that calls are rejected. Default 0. */
  readonly maxQueued?: number;
  /** Longest a call may wait in the queue before it is rejected. Default: no limit. */
  readonly queueTimeoutMs?: number;
  readonly clock?: Clock;
}

export interface BulkheadRejectedEvent {
  readonly cause: "full" | "queue-timeout";
  readonly active: number;
  readonly queued: number;
}

interface QueuedCall {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  timer: Timer | undefined;
  done: boolean;
}

/**
 * Limits concurrency: up to `maxConcurrent` calls run, up to `maxQueued` wait in FIFO order, the
 * rest fail at once with SLUICE_BULKHEAD_REJECTED. A finishing call hands its slot straight to
 * the oldest waiter, so a burst cannot jump the queue.
 */
export class BulkheadPolicy extends PolicyBase {
  private readonly rejectedEmitter = new EventEmitter<BulkheadRejectedEvent>();
  /** A call was refused (bulkhead and queue full, or it waited too long). */
  readonly onRejected: Event<BulkheadRejectedEvent> = this.rejectedEmitter.event;

  readonly maxConcurrent: number;
  readonly maxQueued: number;
  private readonly queueTimeoutMs: number | undefined;
  private readonly clock: Clock;
  private activeCount = 0;
  private queue: Array<QueuedCall | undefined> = [];
  private queueHead = 0;
  private queuedCount = 0;
  private readonly activeGauge: Gauge | undefined;
  private readonly queuedGauge: Gauge | undefined;
  private readonly rejections: Counter | undefined;

  constructor(options: BulkheadOptions) {
    super();
    checkInteger("maxConcurrent", options.maxConcurrent, 1);
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueued = options.maxQueued ?? 0;
    checkInteger("maxQueued", this.maxQueued, 0);
    if (options.queueTimeoutMs !== undefined)
      checkPositiveMs("queueTimeoutMs", options.queueTimeoutMs);
    this.queueTimeoutMs = options.queueTimeoutMs;
    this.clock = options.clock ?? systemClock;
    const m = new PolicyMetrics(options.metrics, options.name ?? "bulkhead");
    this.activeGauge = m.gauge("sluice_bulkhead_active", "Calls running inside a bulkhead.");
    this.queuedGauge = m.gauge("sluice_bulkhead_queued", "Calls waiting for a bulkhead slot.");
    this.rejections = m.counter("sluice_bulkhead_rejected_total", "Calls a bulkhead refused.");
  }

  /** Calls running now. */
  get active(): number {
    return this.activeCount;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.queuedCount;
  }

  async run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T> {
    if (this.activeCount < this.maxConcurrent) {
      this.activeCount++;
    } else if (this.queuedCount < this.maxQueued) {
      await this.enqueue(context.abortable()); // the releasing call hands its slot over
    } else {
      throw this.rejected("full");
    }
    this.activeGauge?.set(this.activeCount);
    try {
      return await proceed(fn, context, next);
    } finally {
      this.release();
    }
  }

  private enqueue(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const call: QueuedCall = {
        resolve,
        reject,
        signal,
        onAbort: undefined,
        timer: undefined,
        done: false,
      };
      if (signal !== undefined) {
        call.onAbort = () => this.leaveQueue(call, abortError(signal));
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      if (this.queueTimeoutMs !== undefined) {
        call.timer = this.clock.setTimer(
          this.queueTimeoutMs,
          () => this.leaveQueue(call, this.rejected("queue-timeout")),
          { keepAlive: true },
        );
      }
      this.queue.push(call);
      this.queuedCount++;
      this.queuedGauge?.set(this.queuedCount);
    });
  }

  /** Removes a waiter that gave up; it stays in the array, marked done, until it reaches the head. */
  private leaveQueue(call: QueuedCall, error: unknown): void {
    if (call.done) return;
    this.finishWaiting(call);
    this.queuedCount--;
    this.queuedGauge?.set(this.queuedCount);
    call.reject(error);
  }

  private finishWaiting(call: QueuedCall): void {
    call.done = true;
    call.timer?.cancel();
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
  }

  private release(): void {
    const queue = this.queue;
    while (this.queueHead < queue.length) {
      const call = queue[this.queueHead];
      queue[this.queueHead++] = undefined;
      if (call === undefined || call.done) continue;
      this.finishWaiting(call);
      this.queuedCount--;
      this.queuedGauge?.set(this.queuedCount);
      this.compact();
      call.resolve(); // the slot passes to this call: activeCount stays the same
      return;
    }
    this.compact();
    this.activeCount--;
    this.activeGauge?.set(this.activeCount);
  }

  private compact(): void {
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private rejected(cause: BulkheadRejectedEvent["cause"]): BulkheadRejectedError {
    this.rejections?.inc();
    const details = { cause, active: this.activeCount, queued: this.queuedCount };
    if (this.rejectedEmitter.hasListeners) this.rejectedEmitter.emit(details);
    return new BulkheadRejectedError(
      cause === "full"
        ? "bulkhead full"
        : `waited over ${this.queueTimeoutMs} ms for a bulkhead slot`,
      { details },
    );
  }
}

/** Limits concurrent calls to `maxConcurrent`, queueing up to `maxQueued` more. */
export function bulkhead(
  maxConcurrent: number,
  options: Omit<BulkheadOptions, "maxConcurrent"> = {},
): BulkheadPolicy {
  return new BulkheadPolicy({ ...options, maxConcurrent });
}
