import { randomUUID } from "node:crypto";
import type { GroupState } from "../../../messaging/topics/index.js";
import type { Clock, Timer } from "../../../time/index.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import { type KafkaGroups, failedJoin, failedSync } from "./kafka-groups.js";

/** A member's offer of one assignment protocol (e.g. "range") with its opaque metadata. */
export interface ProtocolOffer {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinInput {
  readonly groupId: string;
  /** Empty on a member's first join: the coordinator gives it one. */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly ProtocolOffer[];
}

export interface JoinResult {
  readonly errorCode: number;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leader: string;
  readonly memberId: string;
  /** Every member and its metadata for the chosen protocol: the leader's, to compute assignments. */
  readonly members: ReadonlyArray<{
    memberId: string;
    groupInstanceId: string | null;
    metadata: Buffer;
  }>;
}

export interface SyncResult {
  readonly errorCode: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Buffer;
}

interface Member {
  readonly memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: readonly ProtocolOffer[];
  assignment: Buffer;
  lastSeenMs: number;
  joining: ((result: JoinResult) => void) | undefined;
  syncing: ((result: SyncResult) => void) | undefined;
}

interface Group {
  readonly groupId: string;
  state: GroupState;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  readonly members: Map<string, Member>;
  rebalanceTimer: Timer | undefined;
  readonly offsets: Map<string, CommittedOffset>;
}

/** A committed offset: the next record the group reads in that partition. */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string | null;
}

/** What a group looks like from outside (DescribeGroups). */
export interface GroupView {
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  readonly protocolName: string;
  readonly members: ReadonlyArray<{
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }>;
}

const EMPTY = Buffer.alloc(0);
const MIN_SESSION_TIMEOUT_MS = 1_000;
const MAX_SESSION_TIMEOUT_MS = 3_600_000;
/** How often members are checked for an expired session. */
const SWEEP_INTERVAL_MS = 500;

/**
 * Kafka's classic group protocol, as a broker runs it: members join, the coordinator picks a
 * protocol every member offers and a leader, the leader computes assignments and hands them in
 * with SyncGroup, heartbeats tell members when to rejoin, and a member silent past its session
 * timeout is removed. Assignments are opaque bytes: the clients' own assignors decide them.
 */
export class KafkaGroupCoordinator implements KafkaGroups {
  private readonly groups = new Map<string, Group>();
  private sweepTimer: Timer | undefined;
  private closed = false;

  constructor(private readonly clock: Clock) {
    this.scheduleSweep();
  }

  /** Joins (or rejoins) a member; resolves when the rebalance completes. */
  join(input: JoinInput): Promise<JoinResult> {
    if (input.groupId === "") return Promise.resolve(failedJoin(KafkaErrorCode.INVALID_GROUP_ID));
    if (
      input.sessionTimeoutMs < MIN_SESSION_TIMEOUT_MS ||
      input.sessionTimeoutMs > MAX_SESSION_TIMEOUT_MS
    )
      return Promise.resolve(failedJoin(KafkaErrorCode.INVALID_SESSION_TIMEOUT));
    const group = this.groupFor(input.groupId);
    if (
      input.protocols.length === 0 ||
      (group.members.size > 0 && group.protocolType !== input.protocolType)
    )
      return Promise.resolve(failedJoin(KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    if (group.members.size > 0 && !this.anyCommonProtocol(group, input.protocols))
      return Promise.resolve(failedJoin(KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    let member: Member | undefined;
    if (input.memberId !== "") {
      member = group.members.get(input.memberId);
      if (member === undefined)
        return Promise.resolve(failedJoin(KafkaErrorCode.UNKNOWN_MEMBER_ID, input.memberId));
    } else {
      member = {
        memberId: `${input.clientId || "member"}-${randomUUID()}`,
        groupInstanceId: input.groupInstanceId,
        clientId: input.clientId,
        clientHost: input.clientHost,
        sessionTimeoutMs: input.sessionTimeoutMs,
        rebalanceTimeoutMs: input.rebalanceTimeoutMs,
        protocols: input.protocols,
        assignment: EMPTY,
        lastSeenMs: this.clock.now(),
        joining: undefined,
        syncing: undefined,
      };
      group.members.set(member.memberId, member);
    }
    member.protocols = input.protocols;
    member.sessionTimeoutMs = input.sessionTimeoutMs;
    member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    member.lastSeenMs = this.clock.now();
    group.protocolType = input.protocolType;
    const joined = new Promise<JoinResult>((resolve) => {
      member.joining?.(failedJoin(KafkaErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
      member.joining = resolve;
    });
    if (group.state !== "PreparingRebalance") this.prepareRebalance(group);
    this.tryCompleteJoin(group);
    return joined;
  }

  /** Hands in the leader's assignments, or waits for them; resolves with this member's share. */
  sync(
    groupId: string,
    generationId: number,
    memberId: string,
    assignments: ReadonlyArray<{ memberId: string; assignment: Buffer }>,
  ): Promise<SyncResult> {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (group === undefined || member === undefined)
      return Promise.resolve(failedSync(KafkaErrorCode.UNKNOWN_MEMBER_ID));
    if (generationId !== group.generationId)
      return Promise.resolve(failedSync(KafkaErrorCode.ILLEGAL_GENERATION));
    if (group.state === "PreparingRebalance")
      return Promise.resolve(failedSync(KafkaErrorCode.REBALANCE_IN_PROGRESS));
    member.lastSeenMs = this.clock.now();
    if (group.state === "Stable") return Promise.resolve(this.syncAnswer(group, member));
    const synced = new Promise<SyncResult>((resolve) => (member.syncing = resolve));
    if (memberId === group.leaderId) {
      for (const m of group.members.values()) m.assignment = EMPTY;
      for (const a of assignments) {
        const target = group.members.get(a.memberId);
        if (target !== undefined) target.assignment = a.assignment;
      }
      group.state = "Stable";
      for (const m of group.members.values()) {
        const resolve = m.syncing;
        m.syncing = undefined;
        resolve?.(this.syncAnswer(group, m));
      }
    }
    return synced;
  }

  /** Keeps a member alive; REBALANCE_IN_PROGRESS tells it to rejoin. */
  heartbeat(groupId: string, generationId: number, memberId: string): number {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (group === undefined || member === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    member.lastSeenMs = this.clock.now();
    if (group.state === "PreparingRebalance") return KafkaErrorCode.REBALANCE_IN_PROGRESS;
    if (generationId !== group.generationId) return KafkaErrorCode.ILLEGAL_GENERATION;
    return KafkaErrorCode.NONE;
  }

  /** Removes a member at its request; the others rebalance. */
  leave(groupId: string, memberId: string): number {
    const group = this.groups.get(groupId);
    if (group === undefined || !group.members.has(memberId))
      return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMember(group, memberId);
    return KafkaErrorCode.NONE;
  }

  /**
   * Commits offsets for a member of the current generation, or, with generation -1 and no member
   * id, for a group without members (a consumer that assigns its own partitions, or an admin).
   */
  commit(
    groupId: string,
    generationId: number,
    memberId: string,
    offsets: readonly CommittedOffset[],
  ): number {
    if (groupId === "") return KafkaErrorCode.INVALID_GROUP_ID;
    const group = this.groupFor(groupId);
    if (generationId < 0 && memberId === "") {
      if (group.members.size > 0) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    } else {
      const member = group.members.get(memberId);
      if (member === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
      // Commits stay open while a rebalance gathers members (they commit before rejoining),
      // and close while assignments are handed out, as in Kafka.
      if (group.state === "CompletingRebalance") return KafkaErrorCode.REBALANCE_IN_PROGRESS;
      if (generationId !== group.generationId) return KafkaErrorCode.ILLEGAL_GENERATION;
      member.lastSeenMs = this.clock.now();
    }
    for (const o of offsets) group.offsets.set(`${o.topic}\u0000${o.partition}`, o);
    return KafkaErrorCode.NONE;
  }

  /** The group's committed offsets (all of them, or those of the given partitions that have one). */
  committed(groupId: string): CommittedOffset[] {
    return [...(this.groups.get(groupId)?.offsets.values() ?? [])];
  }

  /** Never: transactions need a backend with a transaction coordinator. */
  hasPendingOffsets(): boolean {
    return false;
  }

  /** One group as DescribeGroups shows it (state Dead when there is no such group). */
  describe(groupId: string): GroupView {
    const group = this.groups.get(groupId);
    if (group === undefined)
      return { groupId, state: "Dead", protocolType: "", protocolName: "", members: [] };
    const stable = group.state === "Stable";
    return {
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? "",
      protocolName: stable ? (group.protocolName ?? "") : "",
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable
          ? (m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY)
          : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  /** Every group with its state and protocol type. */
  list(): Array<{ groupId: string; state: GroupState; protocolType: string }> {
    return [...this.groups.values()].map((g) => ({
      groupId: g.groupId,
      state: g.state,
      protocolType: g.protocolType ?? "",
    }));
  }

  /** Deletes a group without members, with its offsets. */
  delete(groupId: string): number {
    const group = this.groups.get(groupId);
    if (group === undefined) return KafkaErrorCode.GROUP_ID_NOT_FOUND;
    if (group.members.size > 0) return KafkaErrorCode.NON_EMPTY_GROUP;
    this.groups.delete(groupId);
    return KafkaErrorCode.NONE;
  }

  /** Stops the session sweep and the rebalance timers; pending joins and syncs are answered. */
  close(): void {
    this.closed = true;
    this.sweepTimer?.cancel();
    for (const group of this.groups.values()) {
      group.rebalanceTimer?.cancel();
      for (const m of group.members.values()) {
        m.joining?.(failedJoin(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, m.memberId));
        m.syncing?.(failedSync(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE));
        m.joining = undefined;
        m.syncing = undefined;
      }
    }
  }

  private groupFor(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = {
        groupId,
        state: "Empty",
        generationId: 0,
        protocolType: null,
        protocolName: null,
        leaderId: "",
        members: new Map(),
        rebalanceTimer: undefined,
        offsets: new Map(),
      };
      this.groups.set(groupId, group);
    }
    return group;
  }

  private anyCommonProtocol(group: Group, offers: readonly ProtocolOffer[]): boolean {
    return offers.some((offer) =>
      [...group.members.values()].every((m) => m.protocols.some((p) => p.name === offer.name)),
    );
  }

  private syncAnswer(group: Group, member: Member): SyncResult {
    return {
      errorCode: KafkaErrorCode.NONE,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment: member.assignment,
    };
  }

  private prepareRebalance(group: Group): void {
    // Members waiting for an assignment of the old generation must rejoin instead.
    for (const m of group.members.values()) {
      const resolve = m.syncing;
      m.syncing = undefined;
      resolve?.(failedSync(KafkaErrorCode.REBALANCE_IN_PROGRESS));
    }
    group.state = "PreparingRebalance";
    const timeoutMs = Math.max(0, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    group.rebalanceTimer?.cancel();
    group.rebalanceTimer = this.clock.setTimer(timeoutMs, () => {
      group.rebalanceTimer = undefined;
      // Whoever has not rejoined by now is out.
      for (const m of [...group.members.values()])
        if (m.joining === undefined) group.members.delete(m.memberId);
      this.completeJoin(group);
    });
  }

  private tryCompleteJoin(group: Group): void {
    if (group.state !== "PreparingRebalance") return;
    for (const m of group.members.values()) if (m.joining === undefined) return;
    this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    group.rebalanceTimer?.cancel();
    group.rebalanceTimer = undefined;
    group.generationId++;
    const members = [...group.members.values()];
    if (members.length === 0) {
      group.state = "Empty";
      group.protocolName = null;
      group.leaderId = "";
      return;
    }
    if (!group.members.has(group.leaderId)) group.leaderId = members[0]!.memberId;
    const leader = group.members.get(group.leaderId)!;
    const protocol = leader.protocols.find((p) =>
      members.every((m) => m.protocols.some((q) => q.name === p.name)),
    );
    group.protocolName = protocol?.name ?? leader.protocols[0]!.name;
    group.state = "CompletingRebalance";
    const everyone = members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
    }));
    const now = this.clock.now();
    for (const m of members) {
      const resolve = m.joining;
      m.joining = undefined;
      m.lastSeenMs = now;
      resolve?.({
        errorCode: KafkaErrorCode.NONE,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId,
        memberId: m.memberId,
        members: m.memberId === group.leaderId ? everyone : [],
      });
    }
  }

  private removeMember(group: Group, memberId: string): void {
    const member = group.members.get(memberId);
    if (member === undefined) return;
    group.members.delete(memberId);
    member.joining?.(failedJoin(KafkaErrorCode.UNKNOWN_MEMBER_ID, memberId));
    member.syncing?.(failedSync(KafkaErrorCode.UNKNOWN_MEMBER_ID));
    if (group.state === "PreparingRebalance") this.tryCompleteJoin(group);
    else if (group.state === "Stable" || group.state === "CompletingRebalance") {
      if (group.members.size === 0) this.completeJoin(group);
      else this.prepareRebalance(group);
    }
  }

  private scheduleSweep(): void {
    if (this.closed) return;
    this.sweepTimer = this.clock.setTimer(SWEEP_INTERVAL_MS, () => {
      this.expireSessions();
      this.scheduleSweep();
    });
  }

  private expireSessions(): void {
    const now = this.clock.now();
    for (const group of this.groups.values())
      for (const m of [...group.members.values()])
        if (
          m.joining === undefined &&
          m.syncing === undefined &&
          now - m.lastSeenMs > m.sessionTimeoutMs
        )
          this.removeMember(group, m.memberId);
  }
}
