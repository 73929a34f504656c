import type { GroupCoordinator, MemberView } from "../../../messaging/topics/group-coordinator.js";
import type { AssignorName, GroupState } from "../../../messaging/topics/index.js";
import type { Clock } from "../../../time/index.js";
import { errorCodeOf } from "../handlers/kafka-errors.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import { decodeSubscription, encodeAssignment, type Subscription } from "./consumer-protocol.js";
import type {
  CommittedOffset,
  GroupView,
  JoinInput,
  JoinResult,
  SyncResult,
} from "./group-coordinator.js";
import { type KafkaGroups, failedJoin, failedSync } from "./kafka-groups.js";

/** The Kafka clients' names of the assignors the library computes (kafkajs names its own round robin). */
const ASSIGNOR_OF: ReadonlyMap<string, AssignorName> = new Map([
  ["range", "range"],
  ["roundrobin", "roundrobin"],
  ["RoundRobinAssigner", "roundrobin"],
  ["cooperative-sticky", "cooperative-sticky"],
]);

/** How often a JoinGroup held open checks whether the rebalance completed. */
const JOIN_POLL_MS = 10;
const EMPTY = Buffer.alloc(0);
const MIN_SESSION_TIMEOUT_MS = 1_000;
const MAX_SESSION_TIMEOUT_MS = 3_600_000;

interface KafkaMember {
  /** The member's protocol name for each assignor it offered (to answer in its own terms). */
  readonly names: ReadonlyMap<AssignorName, string>;
  readonly metadata: ReadonlyMap<string, Buffer>;
  readonly groupInstanceId: string | null;
}

/**
 * Kafka's group protocol on the library's group coordinator, so Kafka clients and library
 * consumers share groups, and commits go to the durable internal topic.
 *
 * The library coordinator computes assignments itself (range, roundrobin, cooperative-sticky),
 * so no member is named leader: every member is a follower in Kafka's terms, sends an empty
 * SyncGroup and gets the coordinator's assignment in the consumer protocol's format. Only the
 * "consumer" protocol type with one of those assignors can join.
 */
export class SharedKafkaGroups implements KafkaGroups {
  private readonly members = new Map<string, KafkaMember>();
  private readonly closing = new AbortController();

  constructor(
    private readonly coordinator: GroupCoordinator,
    private readonly clock: Clock,
  ) {}

  async join(input: JoinInput, signal?: AbortSignal): Promise<JoinResult> {
    if (input.groupId === "") return failedJoin(KafkaErrorCode.INVALID_GROUP_ID);
    if (
      input.sessionTimeoutMs < MIN_SESSION_TIMEOUT_MS ||
      input.sessionTimeoutMs > MAX_SESSION_TIMEOUT_MS
    )
      return failedJoin(KafkaErrorCode.INVALID_SESSION_TIMEOUT, input.memberId);
    const names = new Map<AssignorName, string>();
    let subscription: Subscription | undefined;
    if (input.protocolType === "consumer")
      for (const offer of input.protocols) {
        const assignor = ASSIGNOR_OF.get(offer.name);
        if (assignor === undefined || names.has(assignor)) continue;
        try {
          subscription ??= decodeSubscription(offer.metadata);
        } catch {
          return failedJoin(KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL, input.memberId);
        }
        names.set(assignor, offer.name);
      }
    if (subscription === undefined)
      return failedJoin(KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL, input.memberId);
    let memberId: string;
    try {
      memberId = this.coordinator.join({
        groupId: input.groupId,
        memberId: input.memberId,
        clientId: input.clientId,
        host: input.clientHost,
        topics: subscription.topics,
        assignors: [...names.keys()],
        owned: subscription.owned,
        sessionTimeoutMs: input.sessionTimeoutMs,
        rebalanceTimeoutMs: input.rebalanceTimeoutMs,
      });
    } catch (error) {
      return failedJoin(errorCodeOf(error), input.memberId);
    }
    this.members.set(memberId, {
      names,
      metadata: new Map(input.protocols.map((p) => [p.name, p.metadata])),
      groupInstanceId: input.groupInstanceId,
    });
    // Held open until the round this join belongs to completes: every member has rejoined (or
    // was dropped at the rebalance timeout). The answer goes out even when another round has
    // begun since (a cooperative member rejoins at once to hand over what it revoked): the
    // member's SyncGroup then gets REBALANCE_IN_PROGRESS and it rejoins, as with Kafka. Waiting
    // for Stable instead would miss the completed round and hold this member out of the next.
    let completesAt: number | undefined;
    for (;;) {
      const view = this.view(input.groupId, memberId);
      if (view === undefined) return failedJoin(KafkaErrorCode.UNKNOWN_MEMBER_ID, memberId);
      completesAt ??= view.state === "Stable" ? view.generation : view.generation + 1;
      if (view.state === "Stable" || view.generation >= completesAt)
        return {
          errorCode: KafkaErrorCode.NONE,
          generationId: view.generation,
          protocolType: "consumer",
          protocolName: names.get(view.protocol as AssignorName) ?? view.protocol,
          leader: "",
          memberId,
          members: [],
        };
      if (signal?.aborted === true || this.closing.signal.aborted)
        return failedJoin(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, memberId);
      await this.clock.sleep(JOIN_POLL_MS).catch(() => undefined);
    }
  }

  sync(groupId: string, generationId: number, memberId: string): Promise<SyncResult> {
    const view = this.view(groupId, memberId);
    if (view === undefined) return Promise.resolve(failedSync(KafkaErrorCode.UNKNOWN_MEMBER_ID));
    if (view.state !== "Stable")
      return Promise.resolve(failedSync(KafkaErrorCode.REBALANCE_IN_PROGRESS));
    if (generationId !== view.generation)
      return Promise.resolve(failedSync(KafkaErrorCode.ILLEGAL_GENERATION));
    return Promise.resolve({
      errorCode: KafkaErrorCode.NONE,
      protocolType: "consumer",
      protocolName: this.protocolName(memberId, view.protocol),
      assignment: encodeAssignment(view.assignment),
    });
  }

  heartbeat(groupId: string, generationId: number, memberId: string): number {
    const view = this.view(groupId, memberId);
    if (view === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    if (view.state !== "Stable") return KafkaErrorCode.REBALANCE_IN_PROGRESS;
    if (generationId !== view.generation) return KafkaErrorCode.ILLEGAL_GENERATION;
    return KafkaErrorCode.NONE;
  }

  leave(groupId: string, memberId: string): number {
    if (this.view(groupId, memberId) === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    this.coordinator.leave(groupId, memberId);
    this.members.delete(memberId);
    return KafkaErrorCode.NONE;
  }

  async commit(
    groupId: string,
    generationId: number,
    memberId: string,
    offsets: readonly CommittedOffset[],
  ): Promise<number> {
    if (groupId === "") return KafkaErrorCode.INVALID_GROUP_ID;
    const entries = offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
      metadata: o.metadata ?? "",
    }));
    try {
      // A member's commit is checked against its generation, not its assignment, as Kafka
      // does (a cooperative member commits what it has just revoked); generation -1 without a
      // member is a "simple" commit (a consumer that assigns its own partitions, or an admin).
      const simple = generationId < 0 && memberId === "";
      await this.coordinator.commit(
        groupId,
        simple ? undefined : memberId,
        simple ? -1 : generationId,
        entries,
        { anyPartition: true },
      );
      return KafkaErrorCode.NONE;
    } catch (error) {
      return errorCodeOf(error);
    }
  }

  committed(groupId: string): CommittedOffset[] {
    return this.coordinator.offsets.list(groupId);
  }

  hasPendingOffsets(groupId: string, topic: string, partition: number): boolean {
    return this.coordinator.offsets.hasPending(groupId, topic, partition);
  }

  describe(groupId: string): GroupView {
    let group;
    try {
      group = this.coordinator.describe(groupId);
    } catch {
      return { groupId, state: "Dead", protocolType: "", protocolName: "", members: [] };
    }
    const stable = group.state === "Stable";
    const first = group.members[0];
    return {
      groupId,
      state: group.state,
      protocolType: "consumer",
      protocolName:
        stable && first !== undefined ? this.protocolName(first.memberId, group.protocol) : "",
      members: group.members.map((m) => {
        const kafka = this.members.get(m.memberId);
        const name = this.protocolName(m.memberId, group.protocol);
        return {
          memberId: m.memberId,
          groupInstanceId: kafka?.groupInstanceId ?? null,
          clientId: m.clientId,
          clientHost: m.host,
          metadata: stable ? (kafka?.metadata.get(name) ?? EMPTY) : EMPTY,
          assignment: stable ? encodeAssignment(m.assignment) : EMPTY,
        };
      }),
    };
  }

  list(): Array<{ groupId: string; state: GroupState; protocolType: string }> {
    return this.coordinator
      .list()
      .map((g) => ({ groupId: g.groupId, state: g.state, protocolType: "consumer" }));
  }

  async delete(groupId: string): Promise<number> {
    try {
      await this.coordinator.deleteGroup(groupId);
      return KafkaErrorCode.NONE;
    } catch (error) {
      return errorCodeOf(error);
    }
  }

  /** Answers joins held open; the library coordinator is closed by its owner. */
  close(): void {
    this.closing.abort();
  }

  private view(groupId: string, memberId: string): MemberView | undefined {
    try {
      return this.coordinator.view(groupId, memberId);
    } catch {
      this.members.delete(memberId);
      return undefined;
    }
  }

  private protocolName(memberId: string, assignor: string): string {
    return this.members.get(memberId)?.names.get(assignor as AssignorName) ?? assignor;
  }
}
