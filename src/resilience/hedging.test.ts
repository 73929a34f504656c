import { describe, expect, it } from "vitest";
import { VirtualClock } from "../time/index.js";
import { handleAll, handleWhenResult } from "./handle.js";
import { hedging } from "./hedging.js";
import type { HedgeEvent } from "./hedging.js";
import { track } from "./test-support/index.js";

describe("hedging", () => {
  it("starts a second attempt after delayMs; the first result wins and the loser is aborted", async () => {
    const clock = new VirtualClock(0);
    const policy = hedging({ delayMs: 100, clock });
    const hedges: HedgeEvent[] = [];
    policy.onHedge((e) => hedges.push(e));
    const signals: AbortSignal[] = [];
    const durations = [500, 50];
    const result = track(
      policy.execute(async ({ signal, attempt }) => {
        signals.push(signal);
        await clock.sleep(durations[attempt - 1]!, signal).catch(() => {});
        return `attempt ${attempt}`;
      }),
    );
    await clock.advance(100);
    expect(signals).toHaveLength(2);
    await clock.advance(50);
    expect(result.current).toEqual({ state: "fulfilled", value: "attempt 2" });
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    expect(hedges).toEqual([{ attempt: 2, cause: "delay" }]);
  });

  it("does not hedge a fast call", async () => {
    const clock = new VirtualClock(0);
    const policy = hedging({ delayMs: 100, maxHedgedAttempts: 3, clock });
    let calls = 0;
    await expect(policy.execute(() => ++calls)).resolves.toBe(1);
    await clock.advance(1000);
    expect(calls).toBe(1);
  });

  it("starts the next attempt at once when one fails, and rejects when all fail", async () => {
    const clock = new VirtualClock(0);
    const policy = hedging({ delayMs: 1000, maxHedgedAttempts: 2, handler: handleAll, clock });
    const startedAt: number[] = [];
    const result = track(
      policy.execute(async ({ attempt }) => {
        startedAt.push(clock.now());
        await clock.sleep(10);
        throw new Error(`attempt ${attempt} failed`);
      }),
    );
    await clock.advance(100);
    expect(startedAt).toEqual([0, 10, 20]);
    expect(result.current.state).toBe("rejected");
    expect((result.current as { error: Error }).error.message).toBe("attempt 3 failed");
  });

  it("treats rejected results as failures and returns the last one if nothing better comes", async () => {
    const clock = new VirtualClock(0);
    const policy = hedging({
      delayMs: 0,
      handler: handleWhenResult<number>((s) => s >= 500),
      clock,
    });
    const result = track(policy.execute(({ attempt }) => (attempt === 1 ? 503 : 504)));
    await clock.advance(10);
    expect(result.current).toEqual({ state: "fulfilled", value: 504 });
  });

  it("stops hedging when the caller aborts and passes the abort on", async () => {
    const clock = new VirtualClock(0);
    const policy = hedging({ delayMs: 10, maxHedgedAttempts: 5, clock });
    const controller = new AbortController();
    let attempts = 0;
    const result = track(
      policy.execute(async ({ signal }) => {
        attempts++;
        await clock.sleep(1000, signal);
      }, controller.signal),
    );
    await clock.advance(15);
    controller.abort();
    await clock.advance(100);
    expect(attempts).toBe(2);
    expect(result.current.state).toBe("rejected");
  });

  it("validates its options", () => {
    expect(() => hedging({ delayMs: -1 })).toThrow(/delayMs/);
    expect(() => hedging({ delayMs: 1, maxHedgedAttempts: 0 })).toThrow(/maxHedgedAttempts/);
  });
});
