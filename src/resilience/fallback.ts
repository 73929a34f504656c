import type { Counter } from "../observability/index.js";
import { type Event, EventEmitter } from "./events.js";
import { type FailureReason, type Handler } from "./handle.js";
import { type ObservedOptions, PolicyMetrics } from "./metrics.js";
import { type CallContext, type Link, PolicyBase, type PolicyFn, proceed } from "./policy.js";

export interface FallbackContext {
  /** What failed: the handled error, or the result the handler rejected. */
  readonly reason: FailureReason;
  readonly signal: AbortSignal;
}

export interface FallbackEvent {
  readonly reason: FailureReason;
}

/** Replaces handled failures with a value (or the result of a function). */
export class FallbackPolicy<R> extends PolicyBase<R> {
  private readonly fallbackEmitter = new EventEmitter<FallbackEvent>();
  /** The fallback replaced a failure. */
  readonly onFallback: Event<FallbackEvent> = this.fallbackEmitter.event;

  private readonly checksResults: boolean;
  private readonly fallbacks: Counter | undefined;

  constructor(
    private readonly handler: Handler,
    private readonly produce: (context: FallbackContext) => R | PromiseLike<R>,
    options: ObservedOptions = {},
  ) {
    super();
    this.checksResults = handler.checksResults;
    const m = new PolicyMetrics(options.metrics, options.name ?? "fallback");
    this.fallbacks = m.counter("sluice_fallback_total", "Failures a fallback replaced.");
  }

  async run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T | R> {
    let reason: FailureReason;
    try {
      const result = await proceed(fn, context, next);
      if (!this.checksResults || !this.handler.handlesResult(result)) return result;
      reason = { result };
    } catch (error) {
      if (!this.handler.handlesError(error)) throw error;
      reason = { error };
    }
    this.fallbacks?.inc();
    if (this.fallbackEmitter.hasListeners) this.fallbackEmitter.emit({ reason });
    return this.produce({ reason, signal: context.signal });
  }
}

/**
 * Returns `value` instead of failures that `handler` handles. When `value` is a function it is
 * called with the failure to produce the replacement (so to fall back to a function value,
 * return it from a function).
 */
export function fallback<R>(
  handler: Handler,
  value: R | ((context: FallbackContext) => R | PromiseLike<R>),
  options: ObservedOptions = {},
): FallbackPolicy<R> {
  const produce =
    typeof value === "function"
      ? (value as (context: FallbackContext) => R | PromiseLike<R>)
      : () => value;
  return new FallbackPolicy<R>(handler, produce, options);
}
