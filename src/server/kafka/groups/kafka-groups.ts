import type { GroupState } from "../../../messaging/topics/index.js";
import type {
  CommittedOffset,
  GroupView,
  JoinInput,
  JoinResult,
  SyncResult,
} from "./group-coordinator.js";

/**
 * What the listener's group APIs call: Kafka's classic group protocol. Two implementations:
 * `SharedKafkaGroups` runs it on the library's group coordinator (one coordinator for Kafka
 * clients and library consumers, offsets in the durable internal topic), and
 * `KafkaGroupCoordinator` runs it on its own in memory, for backends without a coordinator.
 * Methods answer Kafka error codes rather than throwing.
 */
export interface KafkaGroups {
  /** Joins (or rejoins) a member; resolves when the rebalance completes. */
  join(input: JoinInput, signal?: AbortSignal): Promise<JoinResult>;
  /** Resolves with this member's assignment for the generation. */
  sync(
    groupId: string,
    generationId: number,
    memberId: string,
    assignments: ReadonlyArray<{ memberId: string; assignment: Buffer }>,
  ): Promise<SyncResult>;
  heartbeat(groupId: string, generationId: number, memberId: string): number;
  leave(groupId: string, memberId: string): number;
  commit(
    groupId: string,
    generationId: number,
    memberId: string,
    offsets: readonly CommittedOffset[],
  ): number | Promise<number>;
  committed(groupId: string): CommittedOffset[];
  /** True while an open transaction holds offsets of this group for this partition. */
  hasPendingOffsets(groupId: string, topic: string, partition: number): boolean;
  describe(groupId: string): GroupView;
  list(): Array<{ groupId: string; state: GroupState; protocolType: string }>;
  delete(groupId: string): number | Promise<number>;
  close(): void;
}

const EMPTY = Buffer.alloc(0);

/** A join answered with an error (no generation, no members). */
export const failedJoin = (errorCode: number, memberId = ""): JoinResult => ({
  errorCode,
  generationId: -1,
  protocolType: null,
  protocolName: null,
  leader: "",
  memberId,
  members: [],
});

/** A sync answered with an error (no assignment). */
export const failedSync = (errorCode: number): SyncResult => ({
  errorCode,
  protocolType: null,
  protocolName: null,
  assignment: EMPTY,
});
