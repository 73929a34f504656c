export {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  RateLimitedError,
  RetryBudgetExhaustedError,
  TimeoutError,
} from "./resilience-errors.js";
export { noop, NoopPolicy, PolicyBase } from "./policy.js";
export type { Policy, PolicyContext, PolicyFn } from "./policy.js";
export { EventEmitter, noopDisposable } from "./events.js";
export type { Disposable, Event } from "./events.js";
export {
  Handler,
  handleAll,
  handleCode,
  handleNone,
  handleTransient,
  handleType,
  handleWhen,
  handleWhenResult,
} from "./handle.js";
export type { FailureReason } from "./handle.js";
export { constantBackoff, decorrelatedJitterBackoff, exponentialBackoff } from "./backoff.js";
export type {
  Backoff,
  DecorrelatedJitterOptions,
  ExponentialBackoffOptions,
  Jitter,
} from "./backoff.js";
export { retry, RetryPolicy } from "./retry.js";
export type {
  GiveUpCause,
  GiveUpEvent,
  RetryEvent,
  RetryOptions,
  RetrySuccessEvent,
} from "./retry.js";
export { retryBudget, RetryBudget } from "./retry-budget.js";
export type { RetryBudgetOptions } from "./retry-budget.js";
export { consecutiveBreaker, countBreaker, timeBreaker } from "./breaker-window.js";
export type {
  BreakerSpec,
  ConsecutiveBreakerSpec,
  CountBreakerOptions,
  CountBreakerSpec,
  RateBreakerOptions,
  TimeBreakerOptions,
  TimeBreakerSpec,
  WindowSnapshot,
  WindowStats,
} from "./breaker-window.js";
export type { BucketSnapshot } from "./sliding-buckets.js";
export { circuitBreaker, CircuitBreakerPolicy } from "./circuit-breaker.js";
export type {
  BreakCause,
  BreakEvent,
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
  CircuitState,
  HalfOpenOptions,
  RejectedEvent,
  StateChangeEvent,
  TransitionCause,
} from "./circuit-breaker.js";
export { timeout, TimeoutPolicy } from "./timeout.js";
export type { TimeoutEvent, TimeoutOptions, TimeoutStrategy } from "./timeout.js";
export { bulkhead, BulkheadPolicy } from "./bulkhead.js";
export type { BulkheadOptions, BulkheadRejectedEvent } from "./bulkhead.js";
export { rateLimiter, RateLimiterPolicy, slidingWindow, tokenBucket } from "./rate-limiter.js";
export type {
  RateLimitedEvent,
  RateLimiterOptions,
  RateLimitSpec,
  SlidingWindowOptions,
  SlidingWindowSpec,
  TokenBucketOptions,
  TokenBucketSpec,
} from "./rate-limiter.js";
export { fallback, FallbackPolicy } from "./fallback.js";
export type { FallbackContext, FallbackEvent } from "./fallback.js";
export { hedging, HedgingPolicy } from "./hedging.js";
export type { HedgeEvent, HedgingOptions } from "./hedging.js";
export { PIPELINE_ORDER, pipeline, wrap, WrappedPolicy } from "./wrap.js";
export type { AlternativeOf, PipelineStages } from "./wrap.js";
export type { ObservedOptions } from "./metrics.js";
export {
  BloomFilter,
  DuplicateDetector,
  DurableIdempotencyStore,
  idempotent,
  MemoryIdempotencyStore,
} from "./idempotency/index.js";
export type {
  DuplicateDetectorOptions,
  DuplicateDetectorStats,
  DuplicateEvent,
  DurableIdempotencyStoreOptions,
  IdempotencyRecord,
  IdempotencyStore,
  IdempotentHandler,
  IdempotentOptions,
  MemoryIdempotencyStoreOptions,
} from "./idempotency/index.js";
