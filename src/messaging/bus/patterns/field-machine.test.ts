import { describe, expect, it } from "vitest";
import { FieldMachine, type StateSink } from "./field-machine.js";
import type { LeafMatcher, Scalar } from "./pattern.js";

/** The states `value` reaches, each once, sorted. */
function reached(machine: FieldMachine, value: Scalar): number[] {
  const states = new Set<number>();
  const sink: StateSink = {
    reachAll: (list) => list.forEach((s) => states.add(s)),
    reachFirst: (list, count) => list.slice(0, count).forEach((s) => states.add(s)),
  };
  machine.match(value, sink);
  return [...states].sort((a, b) => a - b);
}

const butValues = (...values: Scalar[]): LeafMatcher => ({ kind: "anything-but", values });

/** Targets 1-4; target 2 has two anything-but operators (it holds when either does). */
function machine(maxPrecomputedTargets?: number): FieldMachine {
  const m = new FieldMachine(maxPrecomputedTargets);
  m.add(butValues("held", "paid"), 1);
  m.add(butValues("held"), 2);
  m.add(butValues("paid", 5), 2);
  m.add(butValues(5, null, "5"), 3);
  m.add({ kind: "exact", value: "held" }, 4);
  m.compile();
  return m;
}

describe("a field machine's anything-but lists", () => {
  const cases: [Scalar, number[]][] = [
    ["held", [2, 3, 4]],
    ["paid", [2, 3]],
    ["other", [1, 2, 3]],
    [5, [1, 2]],
    ["5", [1, 2]],
    [null, [1, 2]],
    [true, [1, 2, 3]],
  ];

  it("reach every target whose list leaves the value out, worked out in advance or not", () => {
    // 0: too big to work out in advance, so each value excludes its slots one by one.
    for (const limit of [undefined, 0]) {
      const m = machine(limit);
      for (const [value, targets] of cases)
        expect(reached(m, value), String(value)).toEqual(targets);
    }
  });

  it("see operators added after compiling, before compiling again", () => {
    const m = machine();
    m.add(butValues("other"), 5);
    expect(reached(m, "other")).toEqual([1, 2, 3]);
    expect(reached(m, "held")).toEqual([2, 3, 4, 5]);
    m.compile();
    expect(reached(m, "other")).toEqual([1, 2, 3]);
    expect(reached(m, 5)).toEqual([1, 2, 5]);
  });
});
