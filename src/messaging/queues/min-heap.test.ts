import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MinHeap } from "./min-heap.js";

function drain(heap: MinHeap<number>): number[] {
  const out: number[] = [];
  for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
  return out;
}

describe("MinHeap", () => {
  it("pops in key order after any pushes, pops and retains", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 2, max: 7 }),
        (keys, popped, modulus) => {
          const heap = new MinHeap<number>();
          for (const k of keys) heap.push(k, k);
          const expected = [...keys].sort((a, b) => a - b);
          const first = Array.from({ length: Math.min(popped, keys.length) }, () => heap.pop()!);
          expect(first).toEqual(expected.slice(0, first.length));
          heap.retain((value, key) => value === key && value % modulus !== 0);
          const rest = expected.slice(first.length).filter((k) => k % modulus !== 0);
          expect(heap.size).toBe(rest.length);
          expect(drain(heap)).toEqual(rest);
        },
      ),
    );
  });
});
