import { describe, expect, it } from "vitest";
import { parseEventPattern } from "./event-pattern.js";
import { PatternIndex } from "./pattern-index.js";

function indexOf(patterns: Record<string, unknown>): PatternIndex<string> {
  const index = new PatternIndex<string>();
  for (const [id, pattern] of Object.entries(patterns)) index.set(id, parseEventPattern(pattern));
  return index;
}

const sorted = (ids: string[]): string[] => ids.sort();

describe("the shared automaton", () => {
  it("takes a condition shared by a hundred rules as one step", () => {
    const patterns: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++)
      patterns[`r${i}`] = { source: ["shop.orders"], detail: { id: [`o-${i}`] } };
    const index = indexOf(patterns);
    // The start state, one state for `source`, one per rule for its own id.
    expect(index.stateCount).toBe(1 + 1 + 100);
    expect(index.match({ source: "shop.orders", detail: { id: "o-42" } })).toEqual(["r42"]);
    expect(index.match({ source: "shop.other", detail: { id: "o-42" } })).toEqual([]);
    expect(
      index.matchJson('{"source":"shop.orders","detail":{"id":["o-1","o-2"]}}').sort(),
    ).toEqual(["r1", "r2"]);
  });

  it("steps through narrow conditions first, so broad ones share what comes before them", () => {
    const index = indexOf({
      notHeld: { detail: { status: [{ "anything-but": "held" }] }, tier: ["gold"] },
      large: { tier: ["gold"], detail: { total: [{ numeric: [">", 100] }] } },
    });
    // Both start with tier = gold whatever the order they were written in.
    expect(index.stateCount).toBe(1 + 1 + 2);
    expect(sorted(index.match({ tier: "gold", detail: { status: "paid", total: 500 } }))).toEqual([
      "large",
      "notHeld",
    ]);
    expect(index.match({ tier: "gold", detail: { status: "held", total: 5 } })).toEqual([]);
    expect(index.match({ tier: "basic", detail: { status: "paid", total: 500 } })).toEqual([]);
  });

  it("puts a narrow condition before a broad one even when more rules share the broad one", () => {
    const index = indexOf({
      gold: { tier: ["gold"], status: [{ "anything-but": "held" }] },
      silver: { tier: ["silver"], status: [{ "anything-but": "held" }] },
      basic: { tier: ["basic"], status: [{ "anything-but": "held" }] },
    });
    // One tier step each, then the anything-but step each: the broad step is not shared.
    expect(index.stateCount).toBe(1 + 3 + 3);
    expect(index.match({ tier: "silver", status: "paid" })).toEqual(["silver"]);
    expect(index.match({ tier: "silver", status: "held" })).toEqual([]);
  });

  it("gives identical patterns one final state and reports each of them", () => {
    const index = indexOf({ a: { source: ["x"] }, b: { source: ["x"] }, c: { source: ["y"] } });
    expect(index.stateCount).toBe(3);
    expect(sorted(index.match({ source: "x" }))).toEqual(["a", "b"]);
  });

  it("drops a condition repeated by an `$or` alternative and reports the pattern once", () => {
    const index = indexOf({ rule: { a: ["x"], $or: [{ a: ["x"] }, { b: ["y"] }] } });
    // [a = x] and [a = x, b = y]: the second continues from the first.
    expect(index.stateCount).toBe(3);
    expect(index.match({ a: "x" })).toEqual(["rule"]);
    expect(index.match({ a: "x", b: "y" })).toEqual(["rule"]);
    expect(index.match({ b: "y" })).toEqual([]);
  });

  it("keeps operators that differ only in type or case apart", () => {
    const index = indexOf({
      number: { a: [5] },
      text: { a: ["5"] },
      exact: { b: ["Ab"] },
      ignoringCase: { b: [{ "equals-ignore-case": "Ab" }] },
    });
    expect(index.stateCount).toBe(5);
    expect(index.match({ a: 5 })).toEqual(["number"]);
    expect(index.match({ a: "5" })).toEqual(["text"]);
    expect(index.match({ b: "AB" })).toEqual(["ignoringCase"]);
  });

  it("takes `exists: false` steps after the conditions that come before them", () => {
    const index = indexOf({
      noCoupon: { coupon: [{ exists: false }] },
      paidNoCoupon: { coupon: [{ exists: false }], status: ["paid"] },
      paidOrNoCoupon: { coupon: [{ exists: false }, "C1"], status: ["paid"] },
    });
    expect(sorted(index.match({ status: "paid" }))).toEqual([
      "noCoupon",
      "paidNoCoupon",
      "paidOrNoCoupon",
    ]);
    expect(index.match({ status: "paid", coupon: "C1" })).toEqual(["paidOrNoCoupon"]);
    expect(index.match({ status: "held", coupon: [] })).toEqual(["noCoupon"]);
    // An object is no leaf value: the field counts as absent.
    expect(sorted(index.match({ status: "paid", coupon: { code: "C1" } }))).toEqual([
      "noCoupon",
      "paidNoCoupon",
      "paidOrNoCoupon",
    ]);
  });

  it("reaches a state once however many values and operators lead to it", () => {
    const index = indexOf({
      rule: { tags: ["a", { prefix: "a" }, { "anything-but": "z" }], kind: ["k"] },
    });
    expect(index.match({ tags: ["a", "ab", "b"], kind: ["k", "k"] })).toEqual(["rule"]);
    expect(index.matchJson('{"tags":["a","ab","b"],"kind":["k","k"]}')).toEqual(["rule"]);
  });

  it("rebuilds after patterns are added and removed between matches", () => {
    const index = indexOf({ a: { source: ["x"] } });
    expect(index.match({ source: "x" })).toEqual(["a"]);
    index.set("b", parseEventPattern({ source: ["x"], detail: { n: [1] } }));
    index.delete("a");
    expect(index.match({ source: "x" })).toEqual([]);
    expect(index.match({ source: "x", detail: { n: 1 } })).toEqual(["b"]);
    expect(index.stateCount).toBe(3);
  });
});
