import type { Clock, Timer } from "../../time/index.js";
import { isList } from "./input-checks.js";
import { ASSIGNORS } from "./assignors.js";
import {
  type GroupMembership,
  type JoinRequest,
  type MemberRecord,
  type MemberView,
  checkMemberCommit,
  emptyMembership,
  expire,
  join,
  leave,
  nextExpiry,
  startRebalance,
  unknownMember,
  view,
} from "./group-membership.js";
import type { CommittedOffset, OffsetStore } from "./offset-store.js";
import type {
  GroupDescription,
  GroupListing,
  GroupOffsetDescription,
  OffsetAndMetadata,
  TopicPartition,
} from "./topic-admin.js";
import type { TopicBroker } from "./topic-broker.js";
import { TopicError, invalidTopicInput } from "./topic-error.js";

export type { JoinRequest, MemberView } from "./group-membership.js";

const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

interface Group {
  readonly groupId: string;
  readonly membership: GroupMembership;
  /** Runs `expire` when the next session ends or the rebalance times out. */
  timer: Timer | undefined;
  timerDue: number;
}

/**
 * Kafka's group coordinator, in process: the group protocol of `group-membership.ts`
 * (membership, session expiry, rebalances, generation checks on commits) held in memory and
 * driven by timers, and committed offsets in the internal topic.
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly stopWatching: () => void;
  private readonly counts = (topic: string): number | undefined =>
    this.broker.partitionCount(topic);
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
    const memberId = join(group.membership, group.groupId, request, this.clock.now(), this.counts);
    this.schedule(group);
    return memberId;
  }

  /** The member's view; also counts as a heartbeat. UNKNOWN_MEMBER_ID once it is gone. */
  view(groupId: string, memberId: string): MemberView {
    const group = this.groups.get(groupId);
    if (group === undefined) throw unknownMember(groupId, memberId);
    return view(group.membership, groupId, memberId, this.clock.now(), 0).view;
  }

  /** Keeps the member's session alive. */
  heartbeat(groupId: string, memberId: string): void {
    this.view(groupId, memberId);
  }

  /** Removes the member at once; the others rebalance. */
  leave(groupId: string, memberId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    if (leave(group.membership, memberId, this.clock.now(), this.counts)) this.schedule(group);
  }

  private groupFor(groupId: string): Group {
    if (typeof groupId !== "string" || groupId.length === 0)
      throw invalidTopicInput("groupId", "a non-empty string", groupId, "INVALID_GROUP_ID");
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = { groupId, membership: emptyMembership(), timer: undefined, timerDue: 0 };
      this.groups.set(groupId, group);
    }
    return group;
  }

  /**
   * Arms the group's timer for its next expiry, unless it is armed for that or earlier (a
   * heartbeat only moves expiry later: the timer then finds nothing due and arms again).
   */
  private schedule(group: Group): void {
    const due = nextExpiry(group.membership);
    if (group.timer !== undefined && group.timerDue <= due) return;
    group.timer?.cancel();
    group.timer = undefined;
    if (due === Number.POSITIVE_INFINITY) return;
    group.timerDue = due;
    group.timer = this.clock.setTimer(Math.max(0, due - this.clock.now()), () => {
      group.timer = undefined;
      if (this.closed) return;
      expire(group.membership, this.clock.now(), this.counts);
      this.schedule(group);
    });
  }

  private topicChanged(topic: string): void {
    if (topic === "__consumer_offsets") return;
    if (!this.broker.hasTopic(topic)) this.offsets.forgetTopic(topic);
    for (const group of this.groups.values()) {
      const m = group.membership;
      if (m.state !== "Stable") continue;
      if (m.members.some((member) => member.topics.includes(topic))) {
        startRebalance(m, this.clock.now());
        this.schedule(group);
      }
    }
  }

  // ---------------------------------------------------------------- offsets

  /**
   * Commits offsets for a member of the current generation (only partitions it owns, unless
   * `anyPartition`: a Kafka broker checks no ownership for Kafka clients), or for a group with
   * no members when `memberId` is undefined (a consumer using `assign`).
   */
  async commit(
    groupId: string,
    memberId: string | undefined,
    generation: number,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
    options: { readonly anyPartition?: boolean } = {},
  ): Promise<void> {
    const entries = this.checkCommit(groupId, memberId, generation, offsets, options);
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
    options: { readonly anyPartition?: boolean } = {},
  ): CommittedOffset[] {
    this.ensureOpen();
    const entries = this.checkOffsets(offsets);
    if (typeof groupId !== "string" || groupId.length === 0)
      throw invalidTopicInput("groupId", "a non-empty string", groupId, "INVALID_GROUP_ID");
    const membership = this.groups.get(groupId)?.membership ?? emptyMembership();
    checkMemberCommit(
      membership,
      groupId,
      memberId,
      generation,
      entries,
      options.anyPartition === true,
    );
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
        state: group?.membership.state ?? "Empty",
        members: group?.membership.members.length ?? 0,
      };
    });
  }

  describe(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    const committed = this.offsets.list(groupId);
    if (group === undefined && committed.length === 0)
      throw new TopicError("GROUP_ID_NOT_FOUND", `groupId: no group ${groupId}`, "groupId");
    const members = group?.membership.members ?? [];
    const owners = new Map<string, MemberRecord>();
    for (const m of members) for (const tp of m.assignment) owners.set(keyOf(tp), m);
    const rows = new Map<string, TopicPartition>();
    for (const c of committed) rows.set(keyOf(c), { topic: c.topic, partition: c.partition });
    for (const m of members) for (const tp of m.assignment) rows.set(keyOf(tp), tp);
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
      state: group?.membership.state ?? "Empty",
      protocol: group?.membership.protocol ?? "",
      generationId: group?.membership.generation ?? 0,
      members: members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.host,
        assignment: [...m.assignment],
      })),
      offsets,
    };
  }

  private ensureEmpty(groupId: string): void {
    const size = this.groups.get(groupId)?.membership.members.length ?? 0;
    if (size > 0)
      throw new TopicError(
        "NON_EMPTY_GROUP",
        `groupId: group ${groupId} has ${size} members`,
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
    if (this.closed) throw TopicError.serviceClosed();
  }

  close(): void {
    this.closed = true;
    this.stopWatching();
    for (const group of this.groups.values()) group.timer?.cancel();
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
