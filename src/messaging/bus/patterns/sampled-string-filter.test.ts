import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SampledStringFilter } from "./sampled-string-filter.js";

const text = fc.string({ unit: fc.constantFrom("a", "b", "é", "😀", "0", "1"), maxLength: 9 });

describe("SampledStringFilter", () => {
  it("never rules out a string it holds", () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 40 }), text, (keys, value) => {
        const filter = new SampledStringFilter([...keys, 5, null, true]);
        for (const key of keys) expect(filter.mayHold(key)).toBe(true);
        if (keys.includes(value)) expect(filter.mayHold(value)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("rules out most strings it does not hold", () => {
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}-${(i * 7919) % 1000}`);
    const filter = new SampledStringFilter(keys);
    const others = Array.from({ length: 10_000 }, (_, i) => `other-${i}`);
    const passed = others.filter((value) => filter.mayHold(value)).length;
    expect(passed).toBeLessThan(others.length / 5);
    expect(new SampledStringFilter([]).mayHold("")).toBe(false);
    expect(new SampledStringFilter([""]).mayHold("")).toBe(true);
  });
});
