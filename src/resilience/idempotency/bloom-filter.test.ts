import { describe, expect, it } from "vitest";
import { BloomFilter } from "./bloom-filter.js";

describe("BloomFilter", () => {
  it("has no false negatives", () => {
    const filter = BloomFilter.forCapacity(10_000, 0.01);
    for (let i = 0; i < 10_000; i++) filter.add(`key-${i}`);
    for (let i = 0; i < 10_000; i++) expect(filter.has(`key-${i}`)).toBe(true);
    expect(filter.size).toBe(10_000);
  });

  it("keeps false positives near the rate it was sized for", () => {
    const filter = BloomFilter.forCapacity(20_000, 0.01);
    for (let i = 0; i < 20_000; i++) filter.add(`order:${i}`);
    let falsePositives = 0;
    const probes = 50_000;
    for (let i = 0; i < probes; i++) if (filter.has(`other:${i}`)) falsePositives++;
    expect(falsePositives / probes).toBeLessThan(0.02);
    // about 9.6 bits per key at 1 %
    expect(filter.byteLength / 20_000).toBeLessThan(1.3);
  });

  it("clears", () => {
    const filter = new BloomFilter(1024, 3);
    filter.add("x");
    filter.clear();
    expect(filter.has("x")).toBe(false);
    expect(() => BloomFilter.forCapacity(10, 1)).toThrow(/falsePositiveRate/);
  });
});
