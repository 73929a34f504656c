import { randomUUID } from "node:crypto";
import { ASSIGNORS, assign } from "./assignors.js";
import type { GroupState, TopicPartition } from "./topic-admin.js";
import type { AssignorName } from "./topic-consumer.js";
import { TopicError } from "./topic-error.js";

/** What a member tells the coordinator when it (re)joins. */
export interface JoinRequest {
  readonly groupId: string;
  /** Empty for a new member. */
  readonly memberId: string;
  readonly clientId: string;
  readonly host: string;
  readonly topics: readonly string[];
  readonly assignors: readonly AssignorName[];
  /** Partitions it owns now (the cooperative protocol keeps them where it can). */
  readonly owned: readonly TopicPartition[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
}

/** A member's view of its group. */
export interface MemberView {
  readonly state: GroupState;
  readonly generation: number;
  readonly protocol: string;
  readonly assignment: readonly TopicPartition[];
  /** The group is rebalancing and waits for this member to rejoin. */
  readonly rejoinNeeded: boolean;
}

/** One member as its group keeps it. */
export interface MemberRecord {
  readonly memberId: string;
  clientId: string;
  host: string;
  topics: string[];
  assignors: AssignorName[];
  owned: TopicPartition[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** When the member last showed a sign of life (the writers' clock). */
  lastSeen: number;
  joinedThisRound: boolean;
  assignment: TopicPartition[];
}

/**
 * Kafka's consumer group protocol as plain data and pure functions: membership, the rebalance
 * in progress (eager for range and roundrobin, incremental for cooperative-sticky), session
 * expiry and rebalance timeouts, generation and ownership checks on commits. Time comes from
 * the caller. The embedded coordinator keeps one per group in memory and runs `expire` from
 * its timers; the NATS backend keeps one in a key-value entry, changed by compare-and-set,
 * where every member runs `expire` on each change, so no process has to be the coordinator.
 */
export interface GroupMembership {
  state: GroupState;
  generation: number;
  protocol: string;
  /** In join order: the protocol is the first assignor of the oldest member all support. */
  members: MemberRecord[];
  /** When a rebalance drops the members that did not rejoin (max.poll.interval.ms). */
  rebalanceDeadline: number | undefined;
  /** Partition counts the assignment was made for: a topic that grows triggers a rebalance. */
  partitionCounts: Record<string, number>;
}

const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export function emptyMembership(): GroupMembership {
  return {
    state: "Empty",
    generation: 0,
    protocol: "",
    members: [],
    rebalanceDeadline: undefined,
    partitionCounts: {},
  };
}

/** Partition count of a topic, undefined when it does not exist. */
export type PartitionCounts = (topic: string) => number | undefined;

export function member(group: GroupMembership, memberId: string): MemberRecord | undefined {
  return group.members.find((m) => m.memberId === memberId);
}

export function unknownMember(groupId: string, memberId: string): TopicError {
  return new TopicError(
    "UNKNOWN_MEMBER_ID",
    `memberId: ${memberId} is no longer a member of group ${groupId}`,
    "memberId",
  );
}

/** When `expire` next has something to do: the earliest session end or rebalance deadline. */
export function nextExpiry(group: GroupMembership): number {
  let due = group.rebalanceDeadline ?? Number.POSITIVE_INFINITY;
  for (const m of group.members) due = Math.min(due, m.lastSeen + m.sessionTimeoutMs);
  return due;
}

/**
 * Drops members whose session expired and, past the rebalance deadline, those that did not
 * rejoin; starts a rebalance when a subscribed topic changed its partition count. Time comes
 * from the caller (every member evaluates it on each change, so no process has to be the
 * coordinator). Returns whether anything changed.
 */
export function expire(group: GroupMembership, now: number, counts: PartitionCounts): boolean {
  let changed = false;
  const alive = group.members.filter((m) => now - m.lastSeen < m.sessionTimeoutMs);
  if (alive.length < group.members.length) {
    group.members = alive;
    membershipShrank(group, now, counts);
    changed = true;
  }
  if (
    group.state === "PreparingRebalance" &&
    group.rebalanceDeadline !== undefined &&
    now >= group.rebalanceDeadline
  ) {
    group.members = group.members.filter((m) => m.joinedThisRound);
    tryComplete(group, counts);
    changed = true;
  }
  if (group.state === "Stable") {
    for (const m of group.members)
      for (const t of m.topics)
        if ((counts(t) ?? 0) !== (group.partitionCounts[t] ?? 0)) {
          startRebalance(group, now);
          return true;
        }
  }
  return changed;
}

/** Adds or refreshes a member and starts (or joins) a rebalance; returns its member id. */
export function join(
  group: GroupMembership,
  groupId: string,
  request: JoinRequest,
  now: number,
  counts: PartitionCounts,
): string {
  let m = request.memberId === "" ? undefined : member(group, request.memberId);
  if (request.memberId !== "" && m === undefined)
    throw new TopicError(
      "UNKNOWN_MEMBER_ID",
      `memberId: ${request.memberId} is not a member of group ${groupId} (its session expired or it left)`,
      "memberId",
    );
  for (const other of group.members) {
    if (other === m) continue;
    if (!request.assignors.some((a) => other.assignors.includes(a)))
      throw new TopicError(
        "INCONSISTENT_GROUP_PROTOCOL",
        `assignors: group ${groupId} uses ${other.assignors.join(", ")}; none of ${request.assignors.join(", ")} is shared`,
        "assignors",
      );
  }
  if (m === undefined) {
    m = {
      memberId: `${request.clientId}-${randomUUID()}`,
      clientId: request.clientId,
      host: request.host,
      topics: [...request.topics],
      assignors: [...request.assignors],
      owned: [...request.owned],
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      lastSeen: now,
      joinedThisRound: true,
      assignment: [],
    };
    group.members.push(m);
  } else {
    m.topics = [...request.topics];
    m.assignors = [...request.assignors];
    m.owned = [...request.owned];
    m.lastSeen = now;
    m.joinedThisRound = true;
  }
  if (group.state !== "PreparingRebalance") startRebalance(group, now, m);
  tryComplete(group, counts);
  return m.memberId;
}

/**
 * The member's view of its group. It counts as a heartbeat when the last one is older than
 * `heartbeatMs` (so a member polling in a loop does not write on every poll); `touched` says
 * whether the record changed.
 */
export function view(
  group: GroupMembership,
  groupId: string,
  memberId: string,
  now: number,
  heartbeatMs: number,
): { view: MemberView; touched: boolean } {
  const m = member(group, memberId);
  if (m === undefined) throw unknownMember(groupId, memberId);
  let touched = false;
  if (now - m.lastSeen >= heartbeatMs) {
    m.lastSeen = now;
    touched = true;
  }
  return {
    view: {
      state: group.state,
      generation: group.generation,
      protocol: group.protocol,
      assignment: m.assignment,
      rejoinNeeded: group.state === "PreparingRebalance" && !m.joinedThisRound,
    },
    touched,
  };
}

/** Removes the member at once; the others rebalance. False if it was not a member. */
export function leave(
  group: GroupMembership,
  memberId: string,
  now: number,
  counts: PartitionCounts,
): boolean {
  const before = group.members.length;
  group.members = group.members.filter((m) => m.memberId !== memberId);
  if (group.members.length === before) return false;
  membershipShrank(group, now, counts);
  return true;
}

/**
 * Checks a member's commit: its generation and that it owns every partition (unless
 * `anyPartition`: Kafka's brokers check member and generation only, and a cooperative client
 * commits the partitions it has just revoked under the generation that revoked them).
 */
export function checkMemberCommit(
  group: GroupMembership,
  groupId: string,
  memberId: string | undefined,
  generation: number,
  partitions: readonly TopicPartition[],
  anyPartition = false,
): void {
  if (memberId === undefined) {
    if (group.members.length > 0)
      throw new TopicError(
        "UNKNOWN_MEMBER_ID",
        `memberId: group ${groupId} has members; only they may commit its offsets`,
        "memberId",
      );
    return;
  }
  const m = member(group, memberId);
  if (m === undefined) throw unknownMember(groupId, memberId);
  if (generation !== group.generation)
    throw new TopicError(
      "ILLEGAL_GENERATION",
      `generationId: group ${groupId} is at generation ${group.generation}, the commit is for ${generation}`,
      "generationId",
      { current: group.generation, got: generation },
    );
  if (anyPartition) return;
  const owned = new Set(m.assignment.map(keyOf));
  for (const e of partitions)
    if (!owned.has(keyOf(e)))
      throw new TopicError(
        "COMMIT_FAILED",
        `offsets: partition ${e.topic}-${e.partition} is not assigned to member ${memberId}`,
        "offsets",
        { topic: e.topic, partition: e.partition },
      );
}

/** Starts a rebalance: every member has to rejoin by the deadline (the longest rebalance timeout). */
export function startRebalance(group: GroupMembership, now: number, joining?: MemberRecord): void {
  group.state = "PreparingRebalance";
  for (const m of group.members) m.joinedThisRound = m === joining;
  let timeoutMs = 0;
  for (const m of group.members) timeoutMs = Math.max(timeoutMs, m.rebalanceTimeoutMs);
  group.rebalanceDeadline = now + timeoutMs;
}

function tryComplete(group: GroupMembership, counts: PartitionCounts): void {
  if (group.state !== "PreparingRebalance") return;
  for (const m of group.members) if (!m.joinedThisRound) return;
  group.rebalanceDeadline = undefined;
  group.generation++;
  if (group.members.length === 0) {
    group.state = "Empty";
    group.protocol = "";
    return;
  }
  const protocol = chooseProtocol(group.members);
  const partitionCounts = new Map<string, number>();
  for (const m of group.members)
    for (const t of m.topics) {
      const count = counts(t);
      if (count !== undefined) partitionCounts.set(t, count);
    }
  const { assignment } = assign(protocol, {
    members: group.members.map((m) => ({
      memberId: m.memberId,
      topics: m.topics,
      owned: protocol === "cooperative-sticky" ? m.owned : [],
    })),
    partitionCounts,
  });
  for (const m of group.members) m.assignment = assignment.get(m.memberId) ?? [];
  group.partitionCounts = Object.fromEntries(partitionCounts);
  group.protocol = protocol;
  group.state = "Stable";
}

function membershipShrank(group: GroupMembership, now: number, counts: PartitionCounts): void {
  if (group.members.length === 0) {
    group.rebalanceDeadline = undefined;
    group.state = "Empty";
    group.protocol = "";
    group.generation++;
    return;
  }
  if (group.state !== "PreparingRebalance") startRebalance(group, now);
  tryComplete(group, counts);
}

/** The first assignor of the oldest member that every member supports. */
function chooseProtocol(members: readonly MemberRecord[]): AssignorName {
  for (const candidate of members[0]!.assignors)
    if (members.every((m) => m.assignors.includes(candidate))) return candidate;
  return ASSIGNORS[0]!;
}
