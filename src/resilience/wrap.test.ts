import { describe, expect, expectTypeOf, it } from "vitest";
import { VirtualClock } from "../time/index.js";
import { constantBackoff } from "./backoff.js";
import { consecutiveBreaker, countBreaker } from "./breaker-window.js";
import { bulkhead } from "./bulkhead.js";
import { circuitBreaker } from "./circuit-breaker.js";
import { fallback } from "./fallback.js";
import { handleAll } from "./handle.js";
import type { Policy, PolicyContext } from "./policy.js";
import { rateLimiter, tokenBucket } from "./rate-limiter.js";
import { retry } from "./retry.js";
import { timeout } from "./timeout.js";
import { codeOf, track } from "./test-support/index.js";
import { PIPELINE_ORDER, pipeline, wrap } from "./wrap.js";

describe("wrap", () => {
  it("runs policies outermost first", async () => {
    const clock = new VirtualClock(0);
    const log: string[] = [];
    const tracer = (name: string): Policy => ({
      async execute<T>(fn: (ctx: PolicyContext) => PromiseLike<T> | T, signal?: AbortSignal) {
        log.push(`enter ${name}`);
        try {
          return await fn({ signal: signal ?? new AbortController().signal, attempt: 1 });
        } finally {
          log.push(`leave ${name}`);
        }
      },
    });
    const policy = wrap(tracer("outer"), timeout(100, { clock }), tracer("inner"));
    await expect(policy.execute(() => "x")).resolves.toBe("x");
    expect(log).toEqual(["enter outer", "enter inner", "leave inner", "leave outer"]);
  });

  it("gives each retry attempt its own timeout when the timeout is inside", async () => {
    const clock = new VirtualClock(0);
    const policy = wrap(
      retry(handleAll, { maxAttempts: 3, backoff: constantBackoff(0), clock }),
      timeout(100, { clock }),
    );
    const seen: number[] = [];
    const result = track(
      policy.execute(async ({ signal, attempt }) => {
        seen.push(attempt);
        await clock.sleep(attempt < 3 ? 1000 : 10, signal);
        return `attempt ${attempt}`;
      }),
    );
    await clock.advance(210);
    expect(result.current).toEqual({ state: "fulfilled", value: "attempt 3" });
    expect(seen).toEqual([1, 2, 3]);
  });

  it("flattens nested wraps and accepts policies from elsewhere", async () => {
    const inner = wrap(retry(handleAll, { backoff: constantBackoff(0) }), bulkhead(1));
    const outer = wrap(fallback(handleAll, "fallback"), inner);
    expect(outer.policies).toHaveLength(3);
    let calls = 0;
    await expect(
      outer.execute(() => {
        calls++;
        throw new Error("x");
      }),
    ).resolves.toBe("fallback");
    expect(calls).toBe(3);
  });

  it("passes the caller's signal to the function and types fallback values in", async () => {
    const policy = wrap(fallback(handleAll, 0), retry(handleAll, { maxAttempts: 1 }));
    const controller = new AbortController();
    const result = policy.execute(
      ({ signal }) => (signal === controller.signal ? "same signal" : "other"),
      controller.signal,
    );
    expectTypeOf<Awaited<typeof result>>().toEqualTypeOf<"same signal" | "other" | number>();
    await expect(result).resolves.toBe("same signal");
    await expect(wrap().execute(() => 1)).resolves.toBe(1);
  });
});

describe("composition order: retry and circuit breaker", () => {
  const dead = () => {
    const fn = (): never => {
      fn.calls++;
      throw new Error("downstream down");
    };
    fn.calls = 0;
    return fn;
  };

  async function hammer(order: "retry-outside" | "breaker-outside") {
    const clock = new VirtualClock(0);
    const r = retry(undefined, { maxAttempts: 3, backoff: constantBackoff(100), clock });
    const b = circuitBreaker(handleAll, {
      breaker: consecutiveBreaker(3),
      openDurationMs: 60_000,
      clock,
    });
    const policy = order === "retry-outside" ? wrap(r, b) : wrap(b, r);
    const downstream = dead();
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const call = track(policy.execute(downstream));
      await clock.advance(1000);
      outcomes.push(codeOf(call));
    }
    return { downstreamCalls: downstream.calls, outcomes };
  }

  it("right: retry outside the breaker, so the breaker counts every attempt and stops them", async () => {
    const { downstreamCalls, outcomes } = await hammer("retry-outside");
    expect(downstreamCalls).toBe(3); // the third attempt of the first call opens the circuit
    expect(outcomes.filter((o) => o === "SLUICE_BROKEN_CIRCUIT")).toHaveLength(9);
  });

  it("pitfall: breaker outside retry sees one failure per three attempts, so the downstream takes 3x the load", async () => {
    const { downstreamCalls, outcomes } = await hammer("breaker-outside");
    expect(downstreamCalls).toBe(9);
    expect(outcomes.filter((o) => o === "SLUICE_BROKEN_CIRCUIT")).toHaveLength(7);
  });

  it("pitfall: breaker outside retry never sees a flaky downstream that retries hide", async () => {
    for (const order of ["retry-outside", "breaker-outside"] as const) {
      const clock = new VirtualClock(0);
      const r = retry(undefined, { maxAttempts: 3, backoff: constantBackoff(0), clock });
      const b = circuitBreaker(handleAll, {
        breaker: countBreaker({ size: 20, minimumCalls: 10, failureRateThreshold: 0.5 }),
        clock,
      });
      const policy = order === "retry-outside" ? wrap(r, b) : wrap(b, r);
      let n = 0;
      const flaky = () => {
        if (++n % 3 !== 0) throw new Error("flaky");
        return "ok";
      };
      for (let i = 0; i < 5; i++) await policy.execute(flaky).catch(() => {});
      // two of every three tries fail: only the breaker that sees attempts notices
      expect(b.state).toBe(order === "retry-outside" ? "open" : "closed");
    }
  });
});

describe("pipeline", () => {
  it("composes stages in the recommended order whatever order they are given in", () => {
    const stages = {
      attemptTimeout: timeout(100),
      circuitBreaker: circuitBreaker(),
      bulkhead: bulkhead(10),
      rateLimiter: rateLimiter(tokenBucket({ capacity: 10, refillPerSecond: 10 })),
      retry: retry(),
      totalTimeout: timeout(1000),
      fallback: fallback(handleAll, null),
    };
    const composed = pipeline(stages);
    const names = composed.policies.map((p) => Object.entries(stages).find(([, s]) => s === p)![0]);
    expect(names).toEqual(PIPELINE_ORDER.filter((n) => n !== "hedging"));
  });

  it("a full pipeline survives a flaky, slow downstream", async () => {
    const clock = new VirtualClock(0);
    const policy = pipeline({
      fallback: fallback(handleAll, "fallback"),
      totalTimeout: timeout(5000, { clock }),
      retry: retry(undefined, { maxAttempts: 4, backoff: constantBackoff(50), clock }),
      circuitBreaker: circuitBreaker(undefined, { breaker: consecutiveBreaker(10), clock }),
      attemptTimeout: timeout(100, { clock }),
    });
    let n = 0;
    const result = track(
      policy.execute(async ({ signal }) => {
        n++;
        await clock.sleep(n < 3 ? 500 : 20, signal); // two slow attempts time out, the third is quick
        return "served";
      }),
    );
    await clock.advance(1000);
    expect(result.current).toEqual({ state: "fulfilled", value: "served" });
    expect(n).toBe(3);
  });
});
