import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { retryBudget } from "./retry-budget.js";

describe("RetryBudget", () => {
  it("allows retries up to ratio x calls plus the reserve, over the window", async () => {
    const clock = new VirtualClock(0);
    const budget = retryBudget({
      ratio: 0.1,
      minRetriesPerSecond: 1,
      windowMs: 10_000,
      buckets: 10,
      clock,
    });
    for (let i = 0; i < 100; i++) budget.recordCall();
    // 10 from the ratio, 10 from the reserve (1/s over 10 s)
    expect(budget.available).toBe(20);
    let granted = 0;
    while (budget.tryRetry()) granted++;
    expect(granted).toBe(20);
    expect(budget.tryRetry()).toBe(false);
    await clock.advance(10_000); // everything slid out of the window
    expect(budget.available).toBe(10);
  });

  it("rejects bad options", () => {
    for (const options of [
      { ratio: 2 },
      { minRetriesPerSecond: -1 },
      { windowMs: 0 },
      { buckets: 0 },
    ]) {
      let caught: unknown;
      try {
        retryBudget(options);
      } catch (error) {
        caught = error;
      }
      expect(isSluiceError(caught, "SLUICE_VALIDATION")).toBe(true);
    }
  });
});
