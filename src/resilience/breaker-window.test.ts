import { describe, expect, it } from "vitest";
import {
  KEEP_CLOSED,
  TRIP_CONSECUTIVE,
  TRIP_FAILURE_RATE,
  TRIP_SLOW_CALL_RATE,
  consecutiveBreaker,
  countBreaker,
  createWindow,
  timeBreaker,
} from "./breaker-window.js";

describe("breaker windows", () => {
  it("consecutive: trips on the n-th failure in a row", () => {
    const w = createWindow(consecutiveBreaker(2));
    expect(w.record(true, false, 0)).toBe(KEEP_CLOSED);
    expect(w.record(false, false, 0)).toBe(KEEP_CLOSED);
    expect(w.record(true, false, 0)).toBe(KEEP_CLOSED);
    expect(w.record(true, false, 0)).toBe(TRIP_CONSECUTIVE);
  });

  it("count: keeps exact totals as outcomes are evicted, and exports oldest first", () => {
    const w = createWindow(
      countBreaker({
        size: 3,
        minimumCalls: 3,
        failureRateThreshold: 1,
        slowCallDurationMs: 10,
        slowCallRateThreshold: 1,
      }),
    );
    w.record(true, false, 0);
    w.record(false, true, 0);
    w.record(false, false, 0);
    w.record(false, true, 0); // evicts the failure
    expect(w.stats()).toEqual({ calls: 3, failures: 0, slowCalls: 2 });
    expect(w.snapshot()).toEqual({ kind: "count", outcomes: [2, 0, 2] });
    expect(w.record(false, true, 0)).toBe(KEEP_CLOSED); // [0, 2, 2]
    expect(w.record(false, true, 0)).toBe(TRIP_SLOW_CALL_RATE); // [2, 2, 2]
  });

  it("time: forgets buckets that slide out, and restores only matching snapshots", () => {
    const spec = timeBreaker({
      windowMs: 1000,
      buckets: 4,
      minimumCalls: 2,
      failureRateThreshold: 0.5,
    });
    const w = createWindow(spec);
    expect(w.record(true, false, 0)).toBe(KEEP_CLOSED);
    expect(w.record(false, false, 1000)).toBe(KEEP_CLOSED); // the failure at 0 slid out
    expect(w.stats()).toEqual({ calls: 1, failures: 0, slowCalls: 0 });
    expect(w.record(true, false, 1100)).toBe(TRIP_FAILURE_RATE);
    const copy = createWindow(spec);
    copy.restore(w.snapshot());
    expect(copy.stats()).toEqual(w.stats());
    const other = createWindow(timeBreaker({ windowMs: 2000, buckets: 4 }));
    other.restore(w.snapshot()); // another bucket width: not misread
    expect(other.stats()).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });
});
