import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../time/index.js";
import { DuplicateDetector } from "./duplicate-detector.js";

describe("DuplicateDetector", () => {
  for (const variant of [
    { name: "exact sets", options: {} },
    { name: "exact sets behind a Bloom front", options: { bloom: { expectedKeys: 1000 } } },
  ]) {
    it(`${variant.name}: reports keys seen within the window, and only those`, async () => {
      const clock = new VirtualClock(0);
      const detector = new DuplicateDetector({
        windowMs: 1000,
        buckets: 4,
        clock,
        ...variant.options,
      });
      expect(detector.seen("a")).toBe(false);
      expect(detector.seen("a")).toBe(true);
      expect(detector.has("b")).toBe(false);
      expect(detector.seen("b")).toBe(false);
      await clock.advance(999);
      expect(detector.seen("a")).toBe(true); // still within windowMs
      await clock.advance(251); // > windowMs + one bucket after "a" was first seen
      expect(detector.has("a")).toBe(false);
      for (let i = 0; i < 500; i++) expect(detector.seen(`new-${i}`)).toBe(false);
      expect(detector.stats).toMatchObject({ checks: 504, duplicates: 2 });
    });
  }

  it("consults the Bloom front first: a new key is answered by the filters alone", () => {
    const clock = new VirtualClock(0);
    const fronted = new DuplicateDetector({ windowMs: 1000, bloom: { expectedKeys: 1000 }, clock });
    const plain = new DuplicateDetector({ windowMs: 1000, clock });
    for (const detector of [fronted, plain]) {
      for (let i = 0; i < 500; i++) expect(detector.seen(`key-${i}`)).toBe(false);
      for (let i = 0; i < 500; i += 5) expect(detector.seen(`key-${i}`)).toBe(true);
      expect(detector.has("never-seen")).toBe(false);
    }
    const stats = fronted.stats;
    // Every lookup of a new key ended at the front ("certainly new") or went on to the sets
    // and found nothing (a false positive); duplicates always reach the sets.
    expect(stats.bloomNegatives + stats.bloomFalsePositives).toBe(501);
    expect(stats.bloomNegatives).toBeGreaterThan(490); // about 1 % false positives
    expect(stats).toMatchObject({ checks: 600, duplicates: 100 });
    expect(plain.stats).toMatchObject({
      checks: 600,
      duplicates: 100,
      bloomNegatives: 0,
      bloomFalsePositives: 0,
    });
  });

  it("remembers every key for at least windowMs", async () => {
    const clock = new VirtualClock(12_345);
    const detector = new DuplicateDetector({ windowMs: 600, buckets: 3, clock });
    const firstSeen = new Map<string, number>();
    for (let t = 0; t < 3000; t += 7) {
      await clock.advance(7);
      const key = `k${t % 91}`;
      const expected = firstSeen.has(key) && clock.now() - firstSeen.get(key)! < 600;
      const got = detector.seen(key);
      if (expected) expect(got).toBe(true);
      if (!got) firstSeen.set(key, clock.now());
    }
  });

  it("Bloom-only mode never misses a duplicate and rarely invents one", () => {
    const clock = new VirtualClock(0);
    const detector = new DuplicateDetector({
      windowMs: 60_000,
      exact: false,
      bloom: { expectedKeys: 20_000, falsePositiveRate: 0.01 },
      clock,
    });
    let falsePositives = 0;
    for (let i = 0; i < 20_000; i++) if (detector.seen(`msg-${i}`)) falsePositives++;
    for (let i = 0; i < 20_000; i++) expect(detector.seen(`msg-${i}`)).toBe(true);
    expect(falsePositives / 20_000).toBeLessThan(0.02);
  });

  it("validates its options", () => {
    expect(() => new DuplicateDetector({ windowMs: 0 })).toThrow(/windowMs/);
    expect(() => new DuplicateDetector({ windowMs: 10, exact: false })).toThrow(/bloom/);
  });
});
