import { SluiceError, type SluiceErrorOptions } from "../errors/index.js";

// The failures callers handle by kind, as classes (like cockatiel's and Polly's), so both
// `instanceof` and `err.code` work; each keeps its stable SLUICE_* code.

/** A circuit breaker refused the call: the circuit is open (or half-open with its probe out). */
export class BrokenCircuitError extends SluiceError {
  constructor(
    message: string,
    options: SluiceErrorOptions = {},
    code: "SLUICE_BROKEN_CIRCUIT" | "SLUICE_ISOLATED_CIRCUIT" = "SLUICE_BROKEN_CIRCUIT",
  ) {
    super(code, message, options);
  }
}

/** A circuit breaker refused the call because it was isolated by hand (a broken circuit too). */
export class IsolatedCircuitError extends BrokenCircuitError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, options, "SLUICE_ISOLATED_CIRCUIT");
  }
}

/** A timeout policy's deadline passed (SLUICE_TIMEOUT). */
export class TimeoutError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super("SLUICE_TIMEOUT", message, options);
  }
}

/** A bulkhead was full, or a queued call waited too long for a slot. */
export class BulkheadRejectedError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super("SLUICE_BULKHEAD_REJECTED", message, options);
  }
}

/** A rate limiter refused the call (no permit within `maxWaitMs`). */
export class RateLimitedError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super("SLUICE_RATE_LIMITED", message, options);
  }
}

/** A retry policy stopped because its retry budget was spent. */
export class RetryBudgetExhaustedError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super("SLUICE_RETRY_BUDGET_EXHAUSTED", message, options);
  }
}
