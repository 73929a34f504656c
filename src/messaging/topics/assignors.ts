import type { TopicPartition } from "./topic-admin.js";
import type { AssignorName } from "./topic-consumer.js";

/** What the assignor knows of one member. */
export interface AssignorMember {
  readonly memberId: string;
  readonly topics: readonly string[];
  /** Partitions the member owns as it joins (cooperative-sticky keeps them where it can). */
  readonly owned: readonly TopicPartition[];
}

export interface AssignorInput {
  readonly members: readonly AssignorMember[];
  /** Partition count of every topic any member subscribes to. */
  readonly partitionCounts: ReadonlyMap<string, number>;
}

/** memberId -> partitions. */
export type Assignment = Map<string, TopicPartition[]>;

const byPartition = (a: TopicPartition, b: TopicPartition): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

function emptyAssignment(members: readonly AssignorMember[]): Assignment {
  return new Map(members.map((m) => [m.memberId, []]));
}

function sortedMembers(members: readonly AssignorMember[]): AssignorMember[] {
  return [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
}

function allTopics(input: AssignorInput): string[] {
  const topics = new Set<string>();
  for (const m of input.members)
    for (const t of m.topics) if (input.partitionCounts.has(t)) topics.add(t);
  return [...topics].sort();
}

/**
 * Kafka's RangeAssignor: per topic, the subscribed members in member-id order each take a
 * contiguous block; the first (partitions % members) members take one extra.
 */
export function rangeAssign(input: AssignorInput): Assignment {
  const result = emptyAssignment(input.members);
  const members = sortedMembers(input.members);
  for (const topic of allTopics(input)) {
    const count = input.partitionCounts.get(topic)!;
    const subscribed = members.filter((m) => m.topics.includes(topic));
    const per = Math.floor(count / subscribed.length);
    const extra = count % subscribed.length;
    let next = 0;
    subscribed.forEach((m, i) => {
      const take = per + (i < extra ? 1 : 0);
      for (let p = next; p < next + take; p++)
        result.get(m.memberId)!.push({ topic, partition: p });
      next += take;
    });
  }
  return result;
}

/**
 * Kafka's RoundRobinAssignor: every partition of every topic in (topic, partition) order, dealt
 * to the members in member-id order, skipping members not subscribed to its topic.
 */
export function roundRobinAssign(input: AssignorInput): Assignment {
  const result = emptyAssignment(input.members);
  const members = sortedMembers(input.members);
  let cursor = 0;
  for (const topic of allTopics(input)) {
    const count = input.partitionCounts.get(topic)!;
    for (let p = 0; p < count; p++) {
      for (let tried = 0; tried < members.length; tried++) {
        const m = members[cursor % members.length]!;
        cursor++;
        if (m.topics.includes(topic)) {
          result.get(m.memberId)!.push({ topic, partition: p });
          break;
        }
      }
    }
  }
  return result;
}

/**
 * Sticky and balanced: each member keeps the partitions it owns up to its fair share, and the
 * rest go to the least loaded eligible members. Under the cooperative protocol a partition
 * whose owner changes is held back for one round (its old owner revokes it first, then a
 * follow-up rebalance hands it over), so no partition is ever owned twice.
 */
export function cooperativeStickyAssign(input: AssignorInput): {
  assignment: Assignment;
  /** Partitions held back this round because they move between members. */
  withheld: TopicPartition[];
} {
  const result = emptyAssignment(input.members);
  const members = sortedMembers(input.members);
  const partitions: TopicPartition[] = [];
  for (const topic of allTopics(input))
    for (let p = 0; p < input.partitionCounts.get(topic)!; p++)
      partitions.push({ topic, partition: p });
  const eligible = (m: AssignorMember, tp: TopicPartition): boolean => m.topics.includes(tp.topic);
  const total = partitions.length;
  const floor = members.length === 0 ? 0 : Math.floor(total / members.length);
  let ceilSlots = members.length === 0 ? 0 : total % members.length;
  const exists = new Set(partitions.map(keyOf));
  const taken = new Set<string>();
  const previousOwner = new Map<string, string>();
  // Keep owned partitions up to the fair share (one more while "ceil" slots remain).
  for (const m of members) {
    const mine = result.get(m.memberId)!;
    const owned = [...m.owned]
      .filter((tp) => exists.has(keyOf(tp)) && eligible(m, tp))
      .sort(byPartition);
    for (const tp of owned) {
      const key = keyOf(tp);
      if (!previousOwner.has(key)) previousOwner.set(key, m.memberId);
      if (taken.has(key)) continue;
      if (mine.length < floor || (mine.length === floor && ceilSlots > 0)) {
        if (mine.length === floor) ceilSlots--;
        mine.push(tp);
        taken.add(key);
      }
    }
  }
  const withheld: TopicPartition[] = [];
  for (const tp of partitions) {
    const key = keyOf(tp);
    if (taken.has(key)) continue;
    const candidates = members.filter((m) => eligible(m, tp));
    if (candidates.length === 0) continue;
    let best = candidates[0]!;
    for (const m of candidates)
      if (result.get(m.memberId)!.length < result.get(best.memberId)!.length) best = m;
    taken.add(key);
    const owner = previousOwner.get(key);
    if (owner !== undefined && owner !== best.memberId) withheld.push(tp);
    else result.get(best.memberId)!.push(tp);
  }
  for (const list of result.values()) list.sort(byPartition);
  return { assignment: result, withheld };
}

/** Runs the named assignor. */
export function assign(
  name: AssignorName,
  input: AssignorInput,
): { assignment: Assignment; withheld: TopicPartition[] } {
  if (name === "range") return { assignment: rangeAssign(input), withheld: [] };
  if (name === "roundrobin") return { assignment: roundRobinAssign(input), withheld: [] };
  return cooperativeStickyAssign(input);
}

export const ASSIGNORS: readonly AssignorName[] = ["range", "roundrobin", "cooperative-sticky"];
