import { describe, expect, it } from "vitest";
import { SluiceError, isSluiceError } from "../errors/index.js";
import { MetricsRegistry } from "../observability/index.js";
import { VirtualClock } from "../time/index.js";
import { constantBackoff, exponentialBackoff } from "./backoff.js";
import { handleAll, handleType, handleWhenResult } from "./handle.js";
import { retry } from "./retry.js";
import type { GiveUpEvent, RetryEvent } from "./retry.js";
import { retryBudget } from "./retry-budget.js";
import { codeOf, flaky, track } from "./test-support/index.js";

class Transient extends Error {}

describe("retry", () => {
  it("returns the first success, counting attempts in the context", async () => {
    const clock = new VirtualClock(0);
    const seen: number[] = [];
    const fn = flaky(2, "ok");
    const policy = retry(handleAll, { maxAttempts: 3, backoff: constantBackoff(10), clock });
    const result = track(
      policy.execute(async (ctx) => {
        seen.push(ctx.attempt);
        return fn();
      }),
    );
    await clock.advance(20);
    expect(result.current).toEqual({ state: "fulfilled", value: "ok" });
    expect(seen).toEqual([1, 2, 3]);
  });

  it("waits the backoff between attempts, in virtual time", async () => {
    const clock = new VirtualClock(0);
    const startedAt: number[] = [];
    const policy = retry(handleAll, {
      maxAttempts: 4,
      backoff: exponentialBackoff({ initialDelayMs: 100, jitter: "none" }),
      clock,
    });
    const result = track(
      policy.execute(() => {
        startedAt.push(clock.now());
        throw new Error("down");
      }),
    );
    await clock.advance(10_000);
    expect(startedAt).toEqual([0, 100, 300, 700]);
    expect(result.current.state).toBe("rejected");
    expect((result.current as { error: Error }).error.message).toBe("down");
  });

  it("caps every delay at maxDelayMs", async () => {
    const clock = new VirtualClock(0);
    const delays: number[] = [];
    const policy = retry(handleAll, {
      maxAttempts: 4,
      backoff: exponentialBackoff({ initialDelayMs: 100, factor: 10, jitter: "none" }),
      maxDelayMs: 250,
      clock,
    });
    policy.onRetry((e) => delays.push(e.delayMs));
    const result = track(policy.execute(() => Promise.reject(new Error("x"))));
    await clock.advance(10_000);
    expect(delays).toEqual([100, 250, 250]);
    expect(result.current.state).toBe("rejected");
  });

  it("does not retry errors the handler does not handle", async () => {
    const policy = retry(handleType(Transient), { maxAttempts: 5, backoff: constantBackoff(0) });
    let calls = 0;
    await expect(
      policy.execute(() => {
        calls++;
        throw new TypeError("bug");
      }),
    ).rejects.toBeInstanceOf(TypeError);
    expect(calls).toBe(1);
  });

  it("by default does not retry a broken circuit", async () => {
    const policy = retry(undefined, { maxAttempts: 5, backoff: constantBackoff(0) });
    let calls = 0;
    await expect(
      policy.execute(() => {
        calls++;
        throw new SluiceError("SLUICE_BROKEN_CIRCUIT", "open");
      }),
    ).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_BROKEN_CIRCUIT"));
    expect(calls).toBe(1);
  });

  it("retries rejected results and returns the last one when attempts run out", async () => {
    const clock = new VirtualClock(0);
    const statuses = [503, 503, 503];
    const policy = retry(
      handleWhenResult<number>((s) => s >= 500),
      {
        maxAttempts: 3,
        backoff: constantBackoff(5),
        clock,
      },
    );
    const giveUps: GiveUpEvent[] = [];
    policy.onGiveUp((e) => giveUps.push(e));
    const result = track(policy.execute(() => statuses.shift() ?? 200));
    await clock.advance(100);
    expect(result.current).toEqual({ state: "fulfilled", value: 503 });
    expect(giveUps).toEqual([{ attempts: 3, cause: "max-attempts", reason: { result: 503 } }]);
  });

  it("reports a give-up (event and metric) when the caller aborts during a backoff wait", async () => {
    const clock = new VirtualClock(0);
    const metrics = new MetricsRegistry();
    const policy = retry(handleAll, {
      maxAttempts: 5,
      backoff: constantBackoff(1000),
      clock,
      metrics,
      name: "api",
    });
    const giveUps: GiveUpEvent[] = [];
    policy.onGiveUp((e) => giveUps.push(e));
    const caller = new AbortController();
    const failure = new Error("down");
    const result = track(
      policy.execute(() => {
        throw failure;
      }, caller.signal),
    );
    await clock.advance(1500); // second attempt failed, waiting before the third
    caller.abort();
    await clock.advance(0);
    expect(codeOf(result)).toBe("SLUICE_ABORTED");
    expect(giveUps).toEqual([{ attempts: 2, cause: "aborted", reason: { error: failure } }]);
    const counter = metrics.collect().find((s) => s.name === "sluice_retry_give_ups_total");
    expect(counter).toMatchObject({ value: 1, labels: { policy: "api" } });
  });

  it("emits an event per retried attempt with the reason", async () => {
    const clock = new VirtualClock(0);
    const policy = retry(handleAll, { maxAttempts: 3, backoff: constantBackoff(7), clock });
    const events: RetryEvent[] = [];
    const successes: number[] = [];
    policy.onRetry((e) => events.push(e));
    policy.onSuccess((e) => successes.push(e.attempts));
    const fn = flaky(2, 42);
    const result = track(policy.execute(fn));
    await clock.advance(100);
    expect(result.current).toEqual({ state: "fulfilled", value: 42 });
    expect(
      events.map((e) => [e.attempt, e.delayMs, (e.reason as { error: Error }).error.message]),
    ).toEqual([
      [1, 7, "failure 1"],
      [2, 7, "failure 2"],
    ]);
    expect(successes).toEqual([3]);
  });

  it("stops waiting when the caller aborts", async () => {
    const clock = new VirtualClock(0);
    const controller = new AbortController();
    const policy = retry(handleAll, { maxAttempts: 10, backoff: constantBackoff(1000), clock });
    let calls = 0;
    const result = track(
      policy.execute(() => {
        calls++;
        throw new Error("down");
      }, controller.signal),
    );
    await clock.advance(1500);
    controller.abort();
    await clock.advance(0);
    expect(codeOf(result)).toBe("SLUICE_ABORTED");
    expect(calls).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it("gives up with SLUICE_RETRY_BUDGET_EXHAUSTED when the budget is spent", async () => {
    const clock = new VirtualClock(0);
    // No reserve and 50 %: two calls earn one retry.
    const budget = retryBudget({ ratio: 0.5, minRetriesPerSecond: 0, windowMs: 1000, clock });
    const metrics = new MetricsRegistry();
    const policy = retry(handleAll, {
      maxAttempts: 5,
      backoff: constantBackoff(0),
      budget,
      clock,
      metrics,
    });
    let calls = 0;
    const failing = (): never => {
      calls++;
      throw new Error("down");
    };
    const first = track(policy.execute(failing));
    await clock.advance(0);
    // first call deposited 0.5: not enough for a retry
    expect(codeOf(first)).toBe("SLUICE_RETRY_BUDGET_EXHAUSTED");
    expect(((first.current as { error: SluiceError }).error.cause as Error).message).toBe("down");
    const second = track(policy.execute(failing));
    await clock.advance(0);
    // second call brings the deposit to 1: one retry, then exhausted again
    expect(codeOf(second)).toBe("SLUICE_RETRY_BUDGET_EXHAUSTED");
    expect(calls).toBe(3);
    const sample = metrics.collect().find((s) => s.name === "sluice_retry_retries_total");
    expect(sample).toMatchObject({ value: 1, labels: { policy: "retry" } });
  });

  it("validates its options", () => {
    expect(() => retry(handleAll, { maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => retry(handleAll, { maxAttempts: 1.5 })).toThrow(/maxAttempts/);
    expect(() => retry(handleAll, { maxDelayMs: -1 })).toThrow(/maxDelayMs/);
  });
});
