import { describe, expect, it } from "vitest";
import { parseEventPattern } from "./event-pattern.js";
import type { LeafMatcher } from "./pattern.js";
import { WildcardTable, wildcardShape } from "./wildcard-table.js";

// Shapes the table files differently: no star, literal head, literal tail, both ends, neither.
const patterns = [
  "abc",
  "a\\*b",
  "ab*",
  "*bc",
  "a*c",
  "*b*c",
  "a*b*",
  "*",
  "*b*",
  "a*b*c",
  "\\\\*",
];
const values = ["", "a", "abc", "ab", "bc", "zbc", "azc", "abbc", "a*b", "ac", "b", "\\", "\\x"];

function wildcard(text: string): Extract<LeafMatcher, { kind: "wildcard" }> {
  const parsed = parseEventPattern({ f: [{ wildcard: text }] });
  return parsed.conditions[0]!.matchers[0] as Extract<LeafMatcher, { kind: "wildcard" }>;
}

describe("WildcardTable", () => {
  it("agrees with each pattern's regular expression on every value", () => {
    const table = new WildcardTable();
    const matchers = patterns.map(wildcard);
    matchers.forEach((m, i) => table.add(m.value, m.regex, i));
    for (const value of values) {
      const hits: number[] = [-1];
      const count = table.lookup(value, hits, 1);
      const found = new Set(hits.slice(1, count));
      const expected = matchers.flatMap((m, i) => (m.regex.test(value) ? [i] : []));
      expect(
        [...found].sort((a, b) => a - b),
        `value ${JSON.stringify(value)}`,
      ).toEqual(expected);
    }
  });

  it("reads the literal ends through escapes", () => {
    expect(wildcardShape("a\\*b*c")).toEqual({ head: "a*b", tail: "c", stars: 1 });
    expect(wildcardShape("*")).toEqual({ head: "", tail: "", stars: 1 });
    expect(wildcardShape("x\\\\")).toEqual({ head: "x\\", tail: "x\\", stars: 0 });
  });
});
