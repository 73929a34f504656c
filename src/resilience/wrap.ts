import type { BulkheadPolicy } from "./bulkhead.js";
import type { CircuitBreakerPolicy } from "./circuit-breaker.js";
import type { FallbackPolicy } from "./fallback.js";
import type { HedgingPolicy } from "./hedging.js";
import {
  type CallContext,
  ForeignPolicy,
  type Link,
  type Policy,
  PolicyBase,
  type PolicyFn,
  RootContext,
  noop,
  proceed,
} from "./policy.js";
import type { RateLimiterPolicy } from "./rate-limiter.js";
import type { RetryPolicy } from "./retry.js";
import type { TimeoutPolicy } from "./timeout.js";

/** What a policy may return besides the function's own result (a fallback's value). */
export type AlternativeOf<P> = P extends { readonly alternativeType?: infer R }
  ? R
  : P extends Policy<infer R>
    ? R
    : never;

/** Several policies run as one, the first outermost. */
export class WrappedPolicy<R = never> extends PolicyBase<R> {
  private readonly head: Link | null;

  constructor(readonly policies: readonly PolicyBase<unknown>[]) {
    super();
    let link: Link | null = null;
    for (let i = policies.length - 1; i >= 0; i--) link = { policy: policies[i]!, next: link };
    this.head = link;
  }

  override execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T | R> {
    const head = this.head;
    const context = new RootContext(signal);
    if (head === null) return noop.run(fn, context, null);
    return head.policy.run(fn, context, head.next) as Promise<T | R>;
  }

  run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T | R> {
    // Only reached when a wrap is used inside a foreign composition; wrap() flattens otherwise.
    let link = next;
    for (let i = this.policies.length - 1; i >= 0; i--)
      link = { policy: this.policies[i]!, next: link };
    if (link === null) return noop.run(fn, context, null);
    return proceed(fn, context, link) as Promise<T | R>;
  }
}

/**
 * Composes policies, the first outermost: `wrap(retry, breaker, timeout)` retries calls that go
 * through the breaker, each attempt bounded by the timeout. Nested wraps are flattened, and
 * policies that are not Sluice's own (anything with `execute`) are accepted too.
 */
export function wrap<const P extends readonly Policy<unknown>[]>(
  ...policies: P
): WrappedPolicy<AlternativeOf<P[number]>> {
  const flat: PolicyBase<unknown>[] = [];
  for (const policy of policies) {
    if (policy instanceof WrappedPolicy) flat.push(...(policy.policies as PolicyBase<unknown>[]));
    else if (policy instanceof PolicyBase) flat.push(policy as PolicyBase<unknown>);
    else flat.push(new ForeignPolicy(policy));
  }
  return new WrappedPolicy(flat);
}

/** The stages `pipeline` knows, each optional. */
export interface PipelineStages<R = never> {
  readonly fallback?: FallbackPolicy<R>;
  readonly totalTimeout?: TimeoutPolicy;
  readonly retry?: RetryPolicy;
  readonly hedging?: HedgingPolicy;
  readonly rateLimiter?: RateLimiterPolicy;
  readonly bulkhead?: BulkheadPolicy;
  readonly circuitBreaker?: CircuitBreakerPolicy;
  readonly attemptTimeout?: TimeoutPolicy;
}

/** The order `pipeline` composes stages in, outermost first. */
export const PIPELINE_ORDER = [
  "fallback",
  "totalTimeout",
  "retry",
  "hedging",
  "rateLimiter",
  "bulkhead",
  "circuitBreaker",
  "attemptTimeout",
] as const satisfies readonly (keyof PipelineStages)[];

/**
 * Composes the given stages in Sluice's recommended order, whatever order they are written in:
 * fallback > total timeout > retry > hedging > rate limiter > bulkhead > circuit breaker >
 * attempt timeout > your function. See docs/resilience.md for why.
 */
export function pipeline<R = never>(stages: PipelineStages<R>): WrappedPolicy<R> {
  const chosen: PolicyBase<unknown>[] = [];
  for (const name of PIPELINE_ORDER) {
    const stage = stages[name];
    if (stage !== undefined) chosen.push(stage);
  }
  return new WrappedPolicy<R>(chosen);
}
