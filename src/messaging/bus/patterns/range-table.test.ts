import { describe, expect, it } from "vitest";
import { type RangeBound, RangeTable } from "./range-table.js";

const points = [-2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3];
const bound = <K extends number | string>(value: K, inclusive: boolean): RangeBound<K> => ({
  value,
  inclusive,
});

function holds(
  lower: RangeBound<number> | undefined,
  upper: RangeBound<number> | undefined,
  x: number,
): boolean {
  if (lower !== undefined && (lower.inclusive ? x < lower.value : x <= lower.value)) return false;
  if (upper !== undefined && (upper.inclusive ? x > upper.value : x >= upper.value)) return false;
  return true;
}

describe("RangeTable", () => {
  it("finds exactly the ranges holding a key, at, between and beyond every bound", () => {
    const ranges: [RangeBound<number> | undefined, RangeBound<number> | undefined][] = [];
    for (const lo of [undefined, -1, 0, 1])
      for (const hi of [undefined, 0, 1, 2])
        for (const loIn of [true, false])
          for (const hiIn of [true, false])
            if (lo === undefined || hi === undefined || lo < hi)
              ranges.push([
                lo === undefined ? undefined : bound(lo, loIn),
                hi === undefined ? undefined : bound(hi, hiIn),
              ]);
    const table = new RangeTable<number>();
    ranges.forEach(([lo, hi], i) => table.add(lo, hi, i));
    for (const x of points) {
      const expected = ranges.flatMap(([lo, hi], i) => (holds(lo, hi, x) ? [i] : []));
      expect(
        [...table.lookup(x)].sort((a, b) => a - b),
        `key ${x}`,
      ).toEqual(expected);
    }
  });

  it("orders fixed-width text keys (IPv6 addresses as hex)", () => {
    const table = new RangeTable<string>();
    table.add(bound("0a", true), bound("0f", true), 7);
    expect(table.lookup("0a")).toEqual([7]);
    expect(table.lookup("0c")).toEqual([7]);
    expect(table.lookup("10")).toEqual([]);
    expect(new RangeTable<string>().lookup("00")).toEqual([]);
  });
});
