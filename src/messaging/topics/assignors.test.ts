import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AssignorMember,
  assign,
  cooperativeStickyAssign,
  rangeAssign,
  roundRobinAssign,
} from "./assignors.js";
import type { TopicPartition } from "./topic-admin.js";

const names = (tps: readonly TopicPartition[] | undefined): string[] =>
  (tps ?? []).map((tp) => `${tp.topic}-${tp.partition}`);
const member = (
  memberId: string,
  topics: string[],
  owned: TopicPartition[] = [],
): AssignorMember => ({
  memberId,
  topics,
  owned,
});

describe("assignors", () => {
  it("range: contiguous blocks per topic, the first members take the extra ones (Kafka's example)", () => {
    const a = rangeAssign({
      members: [member("C0", ["t0", "t1"]), member("C1", ["t0", "t1"])],
      partitionCounts: new Map([
        ["t0", 3],
        ["t1", 3],
      ]),
    });
    expect(names(a.get("C0"))).toEqual(["t0-0", "t0-1", "t1-0", "t1-1"]);
    expect(names(a.get("C1"))).toEqual(["t0-2", "t1-2"]);
  });

  it("roundrobin: deals every partition in order across the members (Kafka's example)", () => {
    const a = roundRobinAssign({
      members: [member("C0", ["t0", "t1"]), member("C1", ["t0", "t1"])],
      partitionCounts: new Map([
        ["t0", 3],
        ["t1", 3],
      ]),
    });
    expect(names(a.get("C0"))).toEqual(["t0-0", "t0-2", "t1-1"]);
    expect(names(a.get("C1"))).toEqual(["t0-1", "t1-0", "t1-2"]);
  });

  it("cooperative-sticky: a new member takes partitions only after their owner gave them up", () => {
    const counts = new Map([["t", 4]]);
    const all = [0, 1, 2, 3].map((partition) => ({ topic: "t", partition }));
    const first = cooperativeStickyAssign({
      members: [member("a", ["t"], all), member("b", ["t"])],
      partitionCounts: counts,
    });
    expect(names(first.assignment.get("a"))).toEqual(["t-0", "t-1"]);
    expect(names(first.assignment.get("b"))).toEqual([]);
    expect(names(first.withheld)).toEqual(["t-2", "t-3"]);
    const second = cooperativeStickyAssign({
      members: [member("a", ["t"], first.assignment.get("a")), member("b", ["t"])],
      partitionCounts: counts,
    });
    expect(names(second.assignment.get("a"))).toEqual(["t-0", "t-1"]);
    expect(names(second.assignment.get("b"))).toEqual(["t-2", "t-3"]);
    expect(second.withheld).toEqual([]);
  });

  it("every assignor gives each partition to exactly one subscribed member, balanced within one", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom("range" as const, "roundrobin" as const, "cooperative-sticky" as const),
        (memberCount, counts, name) => {
          const topics = counts.map((_, i) => `t${i}`);
          const members = Array.from({ length: memberCount }, (_, i) => member(`m${i}`, topics));
          const partitionCounts = new Map(topics.map((t, i) => [t, counts[i]!]));
          const { assignment } = assign(name, { members, partitionCounts });
          const seen = [...assignment.values()].flat().map((tp) => `${tp.topic}-${tp.partition}`);
          expect(new Set(seen).size).toBe(seen.length);
          expect(seen.length).toBe(counts.reduce((a, b) => a + b, 0));
          if (name !== "range") {
            const sizes = [...assignment.values()].map((l) => l.length);
            expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
          }
        },
      ),
    );
  });
});
