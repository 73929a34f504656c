import { randomUUID } from "node:crypto";
import type { Clock, Timer } from "../../time/index.js";
import { isList } from "./input-checks.js";
import { ASSIGNORS, assign } from "./assignors.js";
import type { CommittedOffset, OffsetStore } from "./offset-store.js";
import type {
  GroupDescription,
  GroupListing,
  GroupOffsetDescription,
  GroupState,
  OffsetAndMetadata,
  TopicPartition,
} from "./topic-admin.js";
import type { TopicBroker } from "./topic-broker.js";
import type { AssignorName } from "./topic-consumer.js";
import { TopicError, invalidTopicInput } from "./topic-error.js";

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

interface Member {
  readonly memberId: string;
  clientId: string;
  host: string;
  topics: readonly string[];
  assignors: readonly AssignorName[];
  owned: readonly TopicPartition[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  lastSeen: number;
  joinedThisRound: boolean;
  assignment: TopicPartition[];
}

interface Group {
  readonly groupId: string;
  state: GroupState;
  generation: number;
  protocol: string;
  readonly members: Map<string, Member>;
  rebalanceTimer: Timer | undefined;
  sessionTimer: Timer | undefined;
}

const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

/**
 * Kafka's group coordinator, in process: membership, heartbeats and session expiry, the
 * rebalance protocol (eager for range and roundrobin, incremental for cooperative-sticky),
 * generation checks on commits, and committed offsets in the internal topic.
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly stopWatching: () => void;
  private closed = false;

  constructor(
    private readonly broker: TopicBroker,
    readonly offsets: OffsetStore,
    private readonly clock: Clock,
  ) {
    this.stopWatching = broker.onMetadataChange((topic) => this.topicChanged(topic));
  }

  // ---------------------------------------------------------------- membership

  /** Adds or refreshes a member and starts (or joins) a rebalance; returns its member id. */
  join(request: JoinRequest): string {
    this.ensureOpen();
    checkJoinRequest(request);
    const group = this.groupFor(request.groupId);
    let member = request.memberId === "" ? undefined : group.members.get(request.memberId);
    if (request.memberId !== "" && member === undefined)
      throw new TopicError(
        "UNKNOWN_MEMBER_ID",
        `memberId: ${request.memberId} is not a member of group ${request.groupId} (its session expired or it left)`,
        "memberId",
      );
    for (const other of group.members.values()) {
      if (other === member) continue;
      if (!request.assignors.some((a) => other.assignors.includes(a)))
        throw new TopicError(
          "INCONSISTENT_GROUP_PROTOCOL",
          `assignors: group ${request.groupId} uses ${other.assignors.join(", ")}; none of ${request.assignors.join(", ")} is shared`,
          "assignors",
        );
    }
    if (member === undefined) {
      member = {
        memberId: `${request.clientId}-${randomUUID()}`,
        clientId: request.clientId,
        host: request.host,
        topics: request.topics,
        assignors: request.assignors,
        owned: request.owned,
        sessionTimeoutMs: request.sessionTimeoutMs,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs,
        lastSeen: this.clock.now(),
        joinedThisRound: true,
        assignment: [],
      };
      group.members.set(member.memberId, member);
    } else {
      member.topics = request.topics;
      member.assignors = request.assignors;
      member.owned = request.owned;
      member.lastSeen = this.clock.now();
      member.joinedThisRound = true;
    }
    if (group.state !== "PreparingRebalance") this.startRebalance(group, member);
    this.tryComplete(group);
    this.armSessionTimer(group);
    return member.memberId;
  }

  /** The member's view; also counts as a heartbeat. UNKNOWN_MEMBER_ID once it is gone. */
  view(groupId: string, memberId: string): MemberView {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (group === undefined || member === undefined)
      throw new TopicError(
        "UNKNOWN_MEMBER_ID",
        `memberId: ${memberId} is no longer a member of group ${groupId}`,
        "memberId",
      );
    member.lastSeen = this.clock.now();
    return {
      state: group.state,
      generation: group.generation,
      protocol: group.protocol,
      assignment: member.assignment,
      rejoinNeeded: group.state === "PreparingRebalance" && !member.joinedThisRound,
    };
  }

  /** Keeps the member's session alive. */
  heartbeat(groupId: string, memberId: string): void {
    this.view(groupId, memberId);
  }

  /** Removes the member at once; the others rebalance. */
  leave(groupId: string, memberId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined || !group.members.delete(memberId)) return;
    this.membershipShrank(group);
  }

  private groupFor(groupId: string): Group {
    if (typeof groupId !== "string" || groupId.length === 0)
      throw invalidTopicInput("groupId", "a non-empty string", groupId, "INVALID_GROUP_ID");
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = {
        groupId,
        state: "Empty",
        generation: 0,
        protocol: "",
        members: new Map(),
        rebalanceTimer: undefined,
        sessionTimer: undefined,
      };
      this.groups.set(groupId, group);
    }
    return group;
  }

  private startRebalance(group: Group, joining?: Member): void {
    group.state = "PreparingRebalance";
    for (const m of group.members.values()) m.joinedThisRound = m === joining;
    group.rebalanceTimer?.cancel();
    let timeoutMs = 0;
    for (const m of group.members.values()) timeoutMs = Math.max(timeoutMs, m.rebalanceTimeoutMs);
    // Members that never rejoin are dropped when the rebalance times out (max.poll.interval.ms).
    group.rebalanceTimer = this.clock.setTimer(timeoutMs, () => {
      group.rebalanceTimer = undefined;
      if (this.closed || group.state !== "PreparingRebalance") return;
      for (const [id, m] of group.members) if (!m.joinedThisRound) group.members.delete(id);
      this.tryComplete(group);
    });
  }

  private tryComplete(group: Group): void {
    if (group.state !== "PreparingRebalance") return;
    for (const m of group.members.values()) if (!m.joinedThisRound) return;
    group.rebalanceTimer?.cancel();
    group.rebalanceTimer = undefined;
    group.generation++;
    if (group.members.size === 0) {
      group.state = "Empty";
      group.protocol = "";
      return;
    }
    const members = [...group.members.values()];
    const protocol = chooseProtocol(members);
    const partitionCounts = new Map<string, number>();
    for (const m of members)
      for (const t of m.topics) {
        const count = this.broker.partitionCount(t);
        if (count !== undefined) partitionCounts.set(t, count);
      }
    const { assignment } = assign(protocol, {
      members: members.map((m) => ({
        memberId: m.memberId,
        topics: m.topics,
        owned: protocol === "cooperative-sticky" ? m.owned : [],
      })),
      partitionCounts,
    });
    for (const m of members) m.assignment = assignment.get(m.memberId) ?? [];
    group.protocol = protocol;
    group.state = "Stable";
  }

  private membershipShrank(group: Group): void {
    if (group.members.size === 0) {
      group.rebalanceTimer?.cancel();
      group.rebalanceTimer = undefined;
      group.state = "Empty";
      group.protocol = "";
      group.generation++;
      return;
    }
    if (group.state !== "PreparingRebalance") this.startRebalance(group);
    this.tryComplete(group);
  }

  private armSessionTimer(group: Group): void {
    if (group.sessionTimer !== undefined || group.members.size === 0) return;
    let due = Number.POSITIVE_INFINITY;
    for (const m of group.members.values()) due = Math.min(due, m.lastSeen + m.sessionTimeoutMs);
    group.sessionTimer = this.clock.setTimer(due - this.clock.now(), () => {
      group.sessionTimer = undefined;
      if (this.closed) return;
      const now = this.clock.now();
      let expired = false;
      for (const [id, m] of group.members)
        if (now - m.lastSeen >= m.sessionTimeoutMs) {
          group.members.delete(id);
          expired = true;
        }
      if (expired) this.membershipShrank(group);
      this.armSessionTimer(group);
    });
  }

  private topicChanged(topic: string): void {
    if (topic === "__consumer_offsets") return;
    if (!this.broker.hasTopic(topic)) this.offsets.forgetTopic(topic);
    for (const group of this.groups.values()) {
      if (group.state !== "Stable") continue;
      if ([...group.members.values()].some((m) => m.topics.includes(topic)))
        this.startRebalance(group);
    }
  }

  // ---------------------------------------------------------------- offsets

  /**
   * Commits offsets for a member of the current generation (only partitions it owns), or for
   * a group with no members when `memberId` is undefined (a consumer using `assign`).
   */
  async commit(
    groupId: string,
    memberId: string | undefined,
    generation: number,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): Promise<void> {
    const entries = this.checkCommit(groupId, memberId, generation, offsets);
    await this.offsets.commit(groupId, entries);
  }

  /**
   * Checks a commit as `commit` does (member, generation, ownership, offsets) without writing
   * it: the transaction coordinator checks offsets sent to a transaction this way.
   */
  checkCommit(
    groupId: string,
    memberId: string | undefined,
    generation: number,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): CommittedOffset[] {
    this.ensureOpen();
    const entries = this.checkOffsets(offsets);
    const group = this.groups.get(groupId);
    if (memberId === undefined) {
      if (typeof groupId !== "string" || groupId.length === 0)
        throw invalidTopicInput("groupId", "a non-empty string", groupId, "INVALID_GROUP_ID");
      if (group !== undefined && group.members.size > 0)
        throw new TopicError(
          "UNKNOWN_MEMBER_ID",
          `memberId: group ${groupId} has members; only they may commit its offsets`,
          "memberId",
        );
    } else {
      const member = group?.members.get(memberId);
      if (group === undefined || member === undefined)
        throw new TopicError(
          "UNKNOWN_MEMBER_ID",
          `memberId: ${memberId} is no longer a member of group ${groupId}`,
          "memberId",
        );
      if (generation !== group.generation)
        throw new TopicError(
          "ILLEGAL_GENERATION",
          `generationId: group ${groupId} is at generation ${group.generation}, the commit is for ${generation}`,
          "generationId",
          { current: group.generation, got: generation },
        );
      const owned = new Set(member.assignment.map(keyOf));
      for (const e of entries)
        if (!owned.has(keyOf(e)))
          throw new TopicError(
            "COMMIT_FAILED",
            `offsets: partition ${e.topic}-${e.partition} is not assigned to member ${memberId}`,
            "offsets",
            { topic: e.topic, partition: e.partition },
          );
    }
    return entries;
  }

  /** Checks offsets alone (the partitions exist, offsets are >= 0, metadata is a string). */
  checkOffsets(offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>): CommittedOffset[] {
    if (!isList(offsets))
      throw invalidTopicInput("offsets", "an array of { topic, partition, offset }", offsets);
    return offsets.map((o, i) => {
      const log = this.broker.partitionLog(o?.topic, o?.partition, `offsets[${i}].partition`);
      if (!Number.isSafeInteger(o.offset) || o.offset < 0)
        throw invalidTopicInput("offset", `an offset >= 0 for offsets[${i}]`, o.offset);
      if (o.metadata !== undefined && typeof o.metadata !== "string")
        throw invalidTopicInput(`offsets[${i}].metadata`, "a string", o.metadata);
      return {
        topic: log.topic,
        partition: log.partition,
        offset: o.offset,
        metadata: o.metadata ?? "",
      };
    });
  }

  committed(groupId: string, tp: TopicPartition): CommittedOffset | undefined {
    return this.offsets.get(groupId, tp.topic, tp.partition);
  }

  // ---------------------------------------------------------------- admin

  list(): GroupListing[] {
    const ids = new Set([...this.groups.keys(), ...this.offsets.groupIds()]);
    return [...ids].sort().map((groupId) => {
      const group = this.groups.get(groupId);
      return {
        groupId,
        state: group?.state ?? "Empty",
        members: group?.members.size ?? 0,
      };
    });
  }

  describe(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    const committed = this.offsets.list(groupId);
    if (group === undefined && committed.length === 0)
      throw new TopicError("GROUP_ID_NOT_FOUND", `groupId: no group ${groupId}`, "groupId");
    const owners = new Map<string, Member>();
    for (const m of group?.members.values() ?? [])
      for (const tp of m.assignment) owners.set(keyOf(tp), m);
    const rows = new Map<string, TopicPartition>();
    for (const c of committed) rows.set(keyOf(c), { topic: c.topic, partition: c.partition });
    for (const m of group?.members.values() ?? [])
      for (const tp of m.assignment) rows.set(keyOf(tp), tp);
    const offsets: GroupOffsetDescription[] = [];
    for (const tp of [...rows.values()].sort((a, b) =>
      a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
    )) {
      if (!this.broker.hasTopic(tp.topic)) continue;
      const log = this.broker.partitionLog(tp.topic, tp.partition);
      const c = this.offsets.get(groupId, tp.topic, tp.partition);
      const owner = owners.get(keyOf(tp));
      offsets.push({
        topic: tp.topic,
        partition: tp.partition,
        committedOffset: c?.offset ?? -1,
        logEndOffset: log.highWatermark,
        lag: Math.max(0, log.highWatermark - (c?.offset ?? log.logStartOffset)),
        memberId: owner?.memberId,
        clientId: owner?.clientId,
        host: owner?.host,
      });
    }
    return {
      groupId,
      state: group?.state ?? "Empty",
      protocol: group?.protocol ?? "",
      generationId: group?.generation ?? 0,
      members: [...(group?.members.values() ?? [])].map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.host,
        assignment: [...m.assignment],
      })),
      offsets,
    };
  }

  private ensureEmpty(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group !== undefined && group.members.size > 0)
      throw new TopicError(
        "NON_EMPTY_GROUP",
        `groupId: group ${groupId} has ${group.members.size} members`,
        "groupId",
      );
  }

  async alterOffsets(
    groupId: string,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): Promise<void> {
    this.ensureEmpty(groupId);
    await this.commit(groupId, undefined, -1, offsets);
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.describe(groupId); // GROUP_ID_NOT_FOUND
    this.ensureEmpty(groupId);
    await this.offsets.deleteGroup(groupId);
    this.groups.delete(groupId);
  }

  private ensureOpen(): void {
    if (this.closed) throw new TopicError("ILLEGAL_STATE", "the topic service is closed");
  }

  close(): void {
    this.closed = true;
    this.stopWatching();
    for (const group of this.groups.values()) {
      group.rebalanceTimer?.cancel();
      group.sessionTimer?.cancel();
    }
  }
}

/**
 * A join request from outside (a client's JoinGroup) checked field by field, so a malformed one
 * gets a typed error naming the field instead of breaking the group.
 */
function checkJoinRequest(request: JoinRequest): void {
  if (request === null || typeof request !== "object")
    throw invalidTopicInput("request", "a join request object", request);
  for (const field of ["memberId", "clientId", "host"] as const)
    if (typeof request[field] !== "string")
      throw invalidTopicInput(field, "a string", request[field]);
  if (!isList(request.topics) || request.topics.some((t) => typeof t !== "string"))
    throw invalidTopicInput("topics", "an array of topic names", request.topics);
  if (
    !isList(request.assignors) ||
    request.assignors.length === 0 ||
    request.assignors.some((a) => !ASSIGNORS.includes(a))
  )
    throw invalidTopicInput(
      "assignors",
      `a non-empty array of ${ASSIGNORS.join(", ")}`,
      request.assignors,
      "INCONSISTENT_GROUP_PROTOCOL",
    );
  if (
    !isList(request.owned) ||
    request.owned.some(
      (tp) =>
        tp === null ||
        typeof tp !== "object" ||
        typeof tp.topic !== "string" ||
        !Number.isSafeInteger(tp.partition) ||
        tp.partition < 0,
    )
  )
    throw invalidTopicInput("owned", "an array of { topic, partition }", request.owned);
  for (const field of ["sessionTimeoutMs", "rebalanceTimeoutMs"] as const) {
    const value = request[field];
    if (!Number.isSafeInteger(value) || value < 1)
      throw invalidTopicInput(
        field,
        "an integer >= 1 (milliseconds)",
        value,
        "INVALID_SESSION_TIMEOUT",
      );
  }
}

/** The first assignor of the oldest member that every member supports. */
function chooseProtocol(members: readonly Member[]): AssignorName {
  for (const candidate of members[0]!.assignors)
    if (members.every((m) => m.assignors.includes(candidate))) return candidate;
  return ASSIGNORS[0]!;
}
