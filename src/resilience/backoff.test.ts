import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { constantBackoff, decorrelatedJitterBackoff, exponentialBackoff } from "./backoff.js";
import { seededRandom } from "./test-support/index.js";

function delays(
  backoff: { delayMs(retry: number, previous: number): number },
  n: number,
): number[] {
  const out: number[] = [];
  let previous = 0;
  for (let retry = 1; retry <= n; retry++) {
    previous = backoff.delayMs(retry, previous);
    out.push(previous);
  }
  return out;
}

describe("backoff", () => {
  it("constant returns the same delay", () => {
    expect(delays(constantBackoff(250), 3)).toEqual([250, 250, 250]);
  });

  it("exponential without jitter doubles up to the cap", () => {
    const b = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1000, jitter: "none" });
    expect(delays(b, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("full jitter is uniform in [0, d] and half jitter in [d/2, d]", () => {
    const fixed = (): number => 0.25;
    const full = exponentialBackoff({
      initialDelayMs: 100,
      factor: 3,
      jitter: "full",
      random: fixed,
    });
    const half = exponentialBackoff({
      initialDelayMs: 100,
      factor: 3,
      jitter: "half",
      random: fixed,
    });
    expect(delays(full, 3)).toEqual([25, 75, 225]);
    expect(delays(half, 3)).toEqual([62.5, 187.5, 562.5]);
  });

  it("decorrelated jitter stays within [initial, min(max, 3 x previous)], previous = initial at first", () => {
    const b = decorrelatedJitterBackoff({
      initialDelayMs: 50,
      maxDelayMs: 5000,
      random: seededRandom(7),
    });
    let previous = 0;
    const seen: number[] = [];
    for (let retry = 1; retry <= 500; retry++) {
      const d = b.delayMs(retry, previous);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(Math.min(5000, (previous === 0 ? 50 : previous) * 3));
      seen.push(d);
      previous = d;
    }
    expect(Math.max(...seen)).toBeGreaterThan(1000); // it does grow
  });

  it("decorrelated jitter randomises even the first delay, over [initial, 3 x initial]", () => {
    const b = decorrelatedJitterBackoff({ initialDelayMs: 100 });
    const first = Array.from({ length: 500 }, () => b.delayMs(1, 0));
    for (const d of first) {
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(300);
    }
    // Clients retrying at once spread out: hundreds of distinct first delays, both halves used.
    expect(new Set(first).size).toBeGreaterThan(400);
    expect(first.filter((d) => d > 200).length).toBeGreaterThan(100);
    expect(first.filter((d) => d < 200).length).toBeGreaterThan(100);
  });

  it("rejects bad options naming the field", () => {
    const attempts: Array<[() => unknown, string]> = [
      [() => constantBackoff(-1), "delayMs"],
      [() => exponentialBackoff({ factor: 0.5 }), "factor"],
      [() => exponentialBackoff({ jitter: "some" as "full" }), "jitter"],
      [() => decorrelatedJitterBackoff({ maxDelayMs: Number.NaN }), "maxDelayMs"],
    ];
    for (const [make, field] of attempts) {
      let caught: unknown;
      try {
        make();
      } catch (error) {
        caught = error;
      }
      expect(isSluiceError(caught, "SLUICE_VALIDATION") && caught.field).toBe(field);
    }
  });
});
