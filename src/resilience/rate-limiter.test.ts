import { describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { rateLimiter, slidingWindow, tokenBucket } from "./rate-limiter.js";
import { codeOf, track } from "./test-support/index.js";

describe("rateLimiter: token bucket", () => {
  it("allows a burst of capacity, then refills at the rate", async () => {
    const clock = new VirtualClock(0);
    const limiter = rateLimiter(tokenBucket({ capacity: 3, refillPerSecond: 10 }), { clock });
    const granted = () => [1, 2, 3, 4].map(() => limiter.tryAcquire()).filter(Boolean).length;
    expect(granted()).toBe(3);
    await clock.advance(100); // one token
    expect(granted()).toBe(1);
    await clock.advance(10_000); // full again, never above capacity
    expect(granted()).toBe(3);
  });

  it("rejects calls with SLUICE_RATE_LIMITED and retryAfterMs", async () => {
    const clock = new VirtualClock(0);
    const limiter = rateLimiter(tokenBucket({ capacity: 1, refillPerSecond: 4 }), { clock });
    await expect(limiter.execute(() => "first")).resolves.toBe("first");
    const refused = track(limiter.execute(() => "second"));
    await clock.advance(0);
    expect(codeOf(refused)).toBe("SLUICE_RATE_LIMITED");
    expect((refused.current as { error: SluiceError }).error.details).toMatchObject({
      retryAfterMs: 250,
    });
  });

  it("waits up to maxWaitMs for a token", async () => {
    const clock = new VirtualClock(0);
    const limiter = rateLimiter(tokenBucket({ capacity: 1, refillPerSecond: 10 }), {
      clock,
      maxWaitMs: 150,
    });
    const startedAt: number[] = [];
    const run = () => track(limiter.execute(() => startedAt.push(clock.now())));
    const calls = [run(), run(), run()];
    await clock.advance(1000);
    // 0: token at hand; 100: next token; the third would need to wait 200 > 150
    expect(startedAt).toEqual([0, 100]);
    expect(codeOf(calls[2]!)).toBe("SLUICE_RATE_LIMITED");
  });

  it("an acquire aborted while it waits rejects with SLUICE_ABORTED and takes no token", async () => {
    const clock = new VirtualClock(0);
    const limiter = rateLimiter(tokenBucket({ capacity: 1, refillPerSecond: 10 }), {
      clock,
      maxWaitMs: 1000,
    });
    expect(limiter.tryAcquire()).toBe(true); // the bucket is empty; the next token is at 100 ms
    const controller = new AbortController();
    const waiting = track(limiter.acquire(1, controller.signal));
    await clock.advance(50);
    expect(waiting.current.state).toBe("pending");
    controller.abort();
    await clock.advance(0);
    expect(codeOf(waiting)).toBe("SLUICE_ABORTED");
    await clock.advance(50); // 100 ms: the token the aborted call waited for is still there
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
  });

  it("validates its options", () => {
    expect(() => tokenBucket({ capacity: 0, refillPerSecond: 1 })).toThrow(/capacity/);
    expect(() => tokenBucket({ capacity: 1, refillPerSecond: Infinity })).toThrow(
      /refillPerSecond/,
    );
    expect(() => tokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 2 })).toThrow(
      /initialTokens/,
    );
    expect(() =>
      rateLimiter(tokenBucket({ capacity: 1, refillPerSecond: 1 }), { maxWaitMs: -1 }),
    ).toThrow(/maxWaitMs/);
  });
});

describe("rateLimiter: sliding window", () => {
  it("never grants more than the limit within any windowMs", async () => {
    const clock = new VirtualClock(0);
    const limiter = rateLimiter(slidingWindow({ limit: 5, windowMs: 1000, buckets: 10 }), {
      clock,
    });
    const grantedAt: number[] = [];
    for (let t = 0; t < 5000; t += 37) {
      await clock.advanceTo(t);
      if (limiter.tryAcquire()) grantedAt.push(t);
    }
    for (const t of grantedAt) {
      expect(grantedAt.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(5);
    }
    expect(grantedAt.length).toBeGreaterThanOrEqual(20); // and it does let traffic through
  });

  it("makes a waiting call wait until the oldest bucket leaves the window", async () => {
    const clock = new VirtualClock(0);
    const limiter = rateLimiter(slidingWindow({ limit: 2, windowMs: 1000, buckets: 4 }), {
      clock,
      maxWaitMs: 5000,
    });
    const startedAt: number[] = [];
    const calls = [0, 1, 2].map(() => track(limiter.execute(() => startedAt.push(clock.now()))));
    await clock.advance(5000);
    expect(calls.every((c) => c.current.state === "fulfilled")).toBe(true);
    expect(startedAt.slice(0, 2)).toEqual([0, 0]);
    expect(startedAt[2]).toBeGreaterThanOrEqual(1000);
    expect(startedAt[2]).toBeLessThanOrEqual(1250);
  });

  it("an acquire aborted while it waits rejects with SLUICE_ABORTED and uses no permit", async () => {
    const clock = new VirtualClock(0);
    const limiter = rateLimiter(slidingWindow({ limit: 1, windowMs: 1000, buckets: 4 }), {
      clock,
      maxWaitMs: 5000,
    });
    expect(limiter.tryAcquire()).toBe(true);
    const controller = new AbortController();
    const waiting = track(limiter.acquire(1, controller.signal));
    await clock.advance(500);
    expect(waiting.current.state).toBe("pending");
    controller.abort();
    await clock.advance(0);
    expect(codeOf(waiting)).toBe("SLUICE_ABORTED");
    await clock.advance(1000); // the first permit has left the window, and nothing took its place
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
  });

  it("refuses requests for more permits than the limit at once", async () => {
    const limiter = rateLimiter(slidingWindow({ limit: 2, windowMs: 1000 }), { maxWaitMs: 10_000 });
    await expect(limiter.acquire(3)).rejects.toMatchObject({ code: "SLUICE_RATE_LIMITED" });
  });
});
