import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SampledStringTable } from "./sampled-string-table.js";

const text = fc.string({ unit: fc.constantFrom("a", "b", "é", "😀", "0", "1"), maxLength: 9 });

describe("SampledStringTable", () => {
  it("finds exactly the keys it holds, however their samples collide", () => {
    fc.assert(
      fc.property(fc.uniqueArray(text, { maxLength: 40 }), text, (keys, value) => {
        const table = new SampledStringTable(keys.map((key, i) => [key, i] as const));
        keys.forEach((key, i) => expect(table.get(key)).toBe(i));
        // A fresh copy of the value, as a string cut out of event text would be.
        const fresh = ` ${value}`.slice(1);
        expect(table.get(fresh)).toBe(keys.includes(value) ? keys.indexOf(value) : undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it("finds keys sharing length, first, middle and last characters", () => {
    const keys = ["a0b0c", "a0b1c", "a1b0c", "a1b1c", ""];
    const table = new SampledStringTable(keys.map((key) => [key, key] as const));
    for (const key of keys) expect(table.get(`${key}`)).toBe(key);
    expect(table.get("a0b2c")).toBeUndefined();
    expect(new SampledStringTable<number>([]).get("")).toBeUndefined();
  });
});
