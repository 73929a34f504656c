import { describe, expect, it } from "vitest";
import { partitionForKey } from "./murmur2.js";
import { createPartitioner } from "./partitioner.js";

const seeded = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

describe("partitioners", () => {
  it("key-hash places keys by murmur2 and sticks unkeyed records until a batch is sent", () => {
    const p = createPartitioner("key-hash", seeded(1));
    expect(p.partition("t", Buffer.from("foobar"), 50)).toBe(16);
    expect(p.partition("t", Buffer.from("k1"), 6)).toBe(partitionForKey(Buffer.from("k1"), 6));
    const first = p.partition("t", null, 6);
    expect(p.partition("t", null, 6)).toBe(first);
    p.onBatchSent("t");
    expect(p.partition("t", null, 6)).not.toBe(first);
  });

  it("round-robin cycles per topic, ignoring keys", () => {
    const p = createPartitioner("round-robin");
    const key = Buffer.from("same");
    expect([0, 1, 2, 3, 4].map(() => p.partition("a", key, 3))).toEqual([0, 1, 2, 0, 1]);
    expect(p.partition("b", key, 3)).toBe(0);
  });

  it("sticky ignores keys and switches to a different partition after each batch", () => {
    const p = createPartitioner("sticky", seeded(7));
    const seen: number[] = [];
    for (let batch = 0; batch < 50; batch++) {
      const chosen = p.partition("t", Buffer.from(`k${batch}`), 4);
      expect(p.partition("t", Buffer.from("other"), 4)).toBe(chosen);
      if (seen.length > 0) expect(chosen).not.toBe(seen[seen.length - 1]);
      seen.push(chosen);
      p.onBatchSent("t");
    }
    expect(new Set(seen).size).toBe(4);
  });

  it("sticky stays in range when the partition count shrinks from the producer's view", () => {
    const p = createPartitioner("sticky", () => 0.99);
    expect(p.partition("t", null, 8)).toBe(7);
    expect(p.partition("t", null, 2)).toBeLessThan(2);
  });
});
