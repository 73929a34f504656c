import { describe, expect, it } from "vitest";
import { SlidingBuckets } from "./sliding-buckets.js";

describe("SlidingBuckets", () => {
  it("sums a channel over the current bucket and the ones before it", () => {
    const b = new SlidingBuckets(100, 3, 1); // window: current bucket + 2 before
    b.add(0, 0);
    b.add(150, 0, 2);
    b.add(299, 0);
    expect(b.total(0)).toBe(4);
    b.advance(300); // bucket [0,100) falls out
    expect(b.total(0)).toBe(3);
    b.advance(450); // [100,200) falls out
    expect(b.total(0)).toBe(1);
    b.advance(10_000); // far gap: everything falls out
    expect(b.total(0)).toBe(0);
  });

  it("keeps channels apart and counts into the newest bucket if the clock steps back", () => {
    const b = new SlidingBuckets(10, 2, 2);
    b.add(100, 0);
    b.add(100, 1, 5);
    b.add(95, 0); // clock went back: still counted, in the newest bucket
    expect([b.total(0), b.total(1)]).toEqual([2, 5]);
    expect(b.oldestEpochWith(1)).toBe(10);
  });

  it("round-trips through snapshot and restore", () => {
    const b = new SlidingBuckets(100, 4, 2);
    b.add(1000, 0);
    b.add(1100, 0, 3);
    b.add(1100, 1);
    const copy = new SlidingBuckets(100, 4, 2);
    copy.restore(b.snapshot());
    expect(copy.snapshot()).toEqual(b.snapshot());
    expect([copy.total(0), copy.total(1)]).toEqual([4, 1]);
    copy.advance(1400); // bucket 10 falls out in the copy as in the original
    b.advance(1400);
    expect(copy.total(0)).toBe(b.total(0));
    expect(copy.total(0)).toBe(3);
  });
});
