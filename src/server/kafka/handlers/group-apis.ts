// The consumer-group APIs, on the listener's group coordinator.
import { defineApi, type RequestContext } from "../api-handler.js";
import type { CommittedOffset } from "../groups/group-coordinator.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  deleteGroups,
  describeGroups,
  findCoordinator,
  heartbeat,
  joinGroup,
  leaveGroup,
  listGroups,
  offsetCommit,
  offsetFetch,
  syncGroup,
  type DeleteGroupsRequest,
  type DeleteGroupsResponse,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  type ListGroupsRequest,
  type ListGroupsResponse,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from "../protocol/schemas/index.js";
import { screenCommit } from "./commit-partitions.js";

/** FindCoordinator: this broker coordinates every group (and transaction). v4 asks for many keys at once. */
export const findCoordinatorApi = defineApi<FindCoordinatorRequest, FindCoordinatorResponse>({
  schema: findCoordinator,
  minVersion: 0,
  maxVersion: 4,
  handle(request, context) {
    const { nodeId, host, port } = context.broker;
    if (context.apiVersion < 4)
      return Promise.resolve({ errorCode: KafkaErrorCode.NONE, nodeId, host, port });
    return Promise.resolve({
      coordinators: request.coordinatorKeys.map((key) => ({
        key,
        nodeId,
        host,
        port,
        errorCode: KafkaErrorCode.NONE,
      })),
    });
  },
});

/** JoinGroup: resolves when the rebalance completes (it holds the connection meanwhile, as Kafka does). */
export const joinGroupApi = defineApi<JoinGroupRequest, JoinGroupResponse>({
  schema: joinGroup,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, context) {
    const result = await context.groups.join(
      {
        groupId: request.groupId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        clientId: context.clientId ?? "",
        clientHost: context.clientHost,
        sessionTimeoutMs: request.sessionTimeoutMs,
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        rebalanceTimeoutMs:
          context.apiVersion === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
        protocolType: request.protocolType,
        protocols: request.protocols,
      },
      context.signal,
    );
    return { ...result, members: [...result.members] };
  },
});

export const syncGroupApi = defineApi<SyncGroupRequest, SyncGroupResponse>({
  schema: syncGroup,
  minVersion: 0,
  maxVersion: 5,
  handle: (request, context) =>
    context.groups.sync(
      request.groupId,
      request.generationId,
      request.memberId,
      request.assignments,
    ),
});

export const heartbeatApi = defineApi<HeartbeatRequest, HeartbeatResponse>({
  schema: heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle: (request, context) =>
    Promise.resolve({
      errorCode: context.groups.heartbeat(request.groupId, request.generationId, request.memberId),
    }),
});

/** LeaveGroup: one member (v0-v2) or several (v3 and up). */
export const leaveGroupApi = defineApi<LeaveGroupRequest, LeaveGroupResponse>({
  schema: leaveGroup,
  minVersion: 0,
  maxVersion: 4,
  handle(request, context) {
    if (context.apiVersion < 3)
      return Promise.resolve({
        errorCode: context.groups.leave(request.groupId, request.memberId),
      });
    const members = request.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: context.groups.leave(request.groupId, m.memberId),
    }));
    return Promise.resolve({ errorCode: KafkaErrorCode.NONE, members });
  },
});

/**
 * OffsetCommit, answered per partition as Kafka does: a partition the broker does not have gets
 * UNKNOWN_TOPIC_OR_PARTITION and metadata over offset.metadata.max.bytes OFFSET_METADATA_TOO_LARGE,
 * and the request's other partitions are committed. The group's own errors (unknown member,
 * illegal generation, rebalance in progress...) apply to every partition handed to the group.
 */
export const offsetCommitApi = defineApi<OffsetCommitRequest, OffsetCommitResponse>({
  schema: offsetCommit,
  minVersion: 0,
  maxVersion: 8,
  async handle(request, context) {
    const screened = await screenCommit(request.topics, context);
    const offsets: CommittedOffset[] = [];
    for (const { topic, partition: p } of screened.accepted)
      offsets.push({
        topic,
        partition: p.partitionIndex,
        offset: await resolveSentinel(topic, p.partitionIndex, p.committedOffset, context),
        metadata: p.committedMetadata,
      });
    // v0 commits are kept by ZooKeeper in Kafka, without a generation: treat them as simple commits.
    const generation = context.apiVersion === 0 ? -1 : request.generationIdOrMemberEpoch;
    const memberId = context.apiVersion === 0 ? "" : request.memberId;
    // With only oversized metadata the group is still asked (with nothing to write), so a
    // member's errors come first, as in Kafka; with no known partition at all it is not.
    const groupError = screened.anyKnown
      ? await context.groups.commit(request.groupId, generation, memberId, offsets)
      : KafkaErrorCode.NONE;
    return {
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: screened.answer(t.name, p, groupError),
        })),
      })),
    };
  },
});

/** ListOffsets' sentinels, which kafkajs commits when told to seek (resetOffsets, setOffsets). */
const LATEST = -1;
const EARLIEST = -2;

/**
 * The offset a committed sentinel stands for now: -2 the partition's log start, -1 its high
 * watermark, as Kafka's own reset tool resolves them (a Kafka broker stores the negative number,
 * which every client reads back as "nothing committed"; the group coordinator here keeps only
 * real offsets). Anything else, or a partition that does not exist, is committed as given.
 */
async function resolveSentinel(
  topic: string,
  partition: number,
  offset: number,
  context: RequestContext,
): Promise<number> {
  if (offset !== LATEST && offset !== EARLIEST) return offset;
  try {
    const p = await context.backend.admin.describePartition(topic, partition);
    return offset === EARLIEST ? p.logStartOffset : p.highWatermark;
  } catch {
    return offset;
  }
}

type FetchTopics = OffsetFetchRequest["topics"];

/**
 * OffsetFetch: one group (v0-v7) or several (v8); -1 where nothing is committed;
 * UNSTABLE_OFFSET_COMMIT for a partition whose offsets an open transaction holds, when asked.
 */
export const offsetFetchApi = defineApi<OffsetFetchRequest, OffsetFetchResponse>({
  schema: offsetFetch,
  minVersion: 0,
  maxVersion: 8,
  handle(request, context) {
    const answer = (groupId: string, topics: FetchTopics) => {
      const committed = context.groups.committed(groupId);
      const find = (topic: string, partition: number) =>
        committed.find((c) => c.topic === topic && c.partition === partition);
      const wanted =
        topics ??
        groupTopics(committed).map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
      return wanted.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          const hit = find(t.name, partitionIndex);
          // A read_committed consumer asks for stable offsets (v7+): while a transaction holds
          // offsets for this partition it is told to retry, so it never starts from the older one.
          const unstable =
            request.requireStable &&
            context.groups.hasPendingOffsets(groupId, t.name, partitionIndex);
          return {
            partitionIndex,
            committedOffset: unstable ? -1 : (hit?.offset ?? -1),
            committedLeaderEpoch: -1,
            metadata: unstable ? "" : (hit?.metadata ?? ""),
            errorCode: unstable ? KafkaErrorCode.UNSTABLE_OFFSET_COMMIT : KafkaErrorCode.NONE,
          };
        }),
      }));
    };
    if (context.apiVersion >= 8)
      return Promise.resolve({
        groups: request.groups.map((g) => ({
          groupId: g.groupId,
          topics: answer(g.groupId, g.topics),
          errorCode: KafkaErrorCode.NONE,
        })),
      });
    return Promise.resolve({
      topics: answer(request.groupId, request.topics),
      errorCode: KafkaErrorCode.NONE,
    });
  },
});

function groupTopics(committed: readonly CommittedOffset[]): Array<[string, number[]]> {
  const byTopic = new Map<string, number[]>();
  for (const c of committed) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), c.partition]);
  return [...byTopic.entries()];
}

export const describeGroupsApi = defineApi<DescribeGroupsRequest, DescribeGroupsResponse>({
  schema: describeGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(request, context) {
    return Promise.resolve({
      groups: request.groups.map((groupId) => {
        const view = context.groups.describe(groupId);
        return {
          errorCode: KafkaErrorCode.NONE,
          groupId,
          groupState: view.state,
          protocolType: view.protocolType,
          protocolData: view.protocolName,
          members: view.members.map((m) => ({
            ...m,
            memberMetadata: m.metadata,
            memberAssignment: m.assignment,
          })),
        };
      }),
    });
  },
});

export const listGroupsApi = defineApi<ListGroupsRequest, ListGroupsResponse>({
  schema: listGroups,
  minVersion: 0,
  maxVersion: 4,
  handle(request, context) {
    const states = request.statesFilter;
    const groups = context.groups
      .list()
      .filter((g) => states.length === 0 || states.includes(g.state))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state }));
    return Promise.resolve({ errorCode: KafkaErrorCode.NONE, groups });
  },
});

export const deleteGroupsApi = defineApi<DeleteGroupsRequest, DeleteGroupsResponse>({
  schema: deleteGroups,
  minVersion: 0,
  maxVersion: 2,
  handle: async (request, context) => {
    const results = [];
    for (const groupId of request.groupsNames)
      results.push({ groupId, errorCode: await context.groups.delete(groupId) });
    return { results };
  },
});
