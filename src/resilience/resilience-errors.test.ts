import { describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { constantBackoff } from "./backoff.js";
import { bulkhead } from "./bulkhead.js";
import { circuitBreaker } from "./circuit-breaker.js";
import { consecutiveBreaker } from "./breaker-window.js";
import { handleAll } from "./handle.js";
import { rateLimiter, tokenBucket } from "./rate-limiter.js";
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  RateLimitedError,
  RetryBudgetExhaustedError,
  TimeoutError,
} from "./index.js";
import { retry } from "./retry.js";
import { retryBudget } from "./retry-budget.js";
import { timeout } from "./timeout.js";

async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

const fail = (): never => {
  throw new Error("down");
};

describe("errors callers handle by kind are classes keeping their codes", () => {
  it("each policy's refusal is an instance of its class and of SluiceError, with its code", async () => {
    const clock = new VirtualClock(0);
    const breaker = circuitBreaker(handleAll, { breaker: consecutiveBreaker(1), clock });
    await failure(() => breaker.execute(fail));
    const broken = await failure(() => breaker.execute(() => "never"));

    const isolated = circuitBreaker(handleAll, { breaker: consecutiveBreaker(1), clock });
    isolated.isolate();
    const isolatedError = await failure(() => isolated.execute(() => "never"));

    const timedOut = failure(() =>
      timeout(10, { clock, strategy: "aggressive" }).execute(() => new Promise(() => undefined)),
    );
    await clock.advance(10);
    const timeoutError = await timedOut;

    const full = bulkhead(1, { maxQueued: 0 });
    void full.execute(() => new Promise(() => undefined));
    const bulkheadError = await failure(() => full.execute(() => "never"));

    const limiter = rateLimiter(tokenBucket({ capacity: 1, refillPerSecond: 1 }), { clock });
    await limiter.execute(() => "first");
    const limited = await failure(() => limiter.execute(() => "second"));

    const budget = retryBudget({ minRetriesPerSecond: 0, ratio: 0, clock });
    const spent = await failure(() =>
      retry(handleAll, { budget, backoff: constantBackoff(0), clock }).execute(fail),
    );

    const cases: [unknown, abstract new (...args: never[]) => SluiceError, string][] = [
      [broken, BrokenCircuitError, "SLUICE_BROKEN_CIRCUIT"],
      [isolatedError, IsolatedCircuitError, "SLUICE_ISOLATED_CIRCUIT"],
      [isolatedError, BrokenCircuitError, "SLUICE_ISOLATED_CIRCUIT"],
      [timeoutError, TimeoutError, "SLUICE_TIMEOUT"],
      [bulkheadError, BulkheadRejectedError, "SLUICE_BULKHEAD_REJECTED"],
      [limited, RateLimitedError, "SLUICE_RATE_LIMITED"],
      [spent, RetryBudgetExhaustedError, "SLUICE_RETRY_BUDGET_EXHAUSTED"],
    ];
    for (const [error, type, code] of cases) {
      expect(error).toBeInstanceOf(type);
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe(code);
      expect((error as SluiceError).name).toBe((error as object).constructor.name);
    }
  });
});
