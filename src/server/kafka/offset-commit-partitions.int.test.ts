// OffsetCommit / OffsetFetch against Kafka's rules.
// - Kafka answers OffsetCommit per partition: a partition the broker does not know gets
//   UNKNOWN_TOPIC_OR_PARTITION and the request's other partitions are committed
//   (KafkaApis.handleOffsetCommitRequest splits "nonExistingTopicErrors" from the authorized,
//   existing partitions, which go to the coordinator).
// - Metadata longer than offset.metadata.max.bytes (4096) is OFFSET_METADATA_TOO_LARGE for that
//   partition (GroupMetadataManager.validateOffsetMetadataLength); the others are committed.
// - OffsetFetch answers -1 (and metadata "") for a partition never committed, error NONE.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { embeddedKafkaBackend } from "./embedded-kafka-backend.js";
import { KafkaServer } from "./kafka-server.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import {
  addOffsetsToTxn,
  endTxn,
  initProducerId,
  txnOffsetCommit,
  type TxnOffsetCommitResponse,
  offsetCommit,
  offsetFetch,
  type OffsetCommitResponse,
  type OffsetFetchResponse,
} from "./protocol/schemas/index.js";
import { RawKafkaClient } from "./test-support/raw-client.js";

let dir: string;
let topics: EmbeddedTopicService;
let server: KafkaServer;
let client: RawKafkaClient;
/** The same broker with the listener's own in-memory groups (a backend without a coordinator). */
let memoryServer: KafkaServer;
let memoryClient: RawKafkaClient;
let groups = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-commit-"));
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
  server = await KafkaServer.listen({ backend: embeddedKafkaBackend(topics), port: 0 });
  client = await RawKafkaClient.connect(server.port);
  const { groups: _shared, ...withoutGroups } = embeddedKafkaBackend(topics);
  memoryServer = await KafkaServer.listen({
    backend: withoutGroups,
    port: 0,
  });
  memoryClient = await RawKafkaClient.connect(memoryServer.port);
  await topics.admin.createTopic({ name: "oc", partitions: 2 });
});

afterAll(async () => {
  client.close();
  memoryClient.close();
  await server.close();
  await memoryServer.close();
  await topics.close();
  rmSync(dir, { recursive: true, force: true });
});

type Commit = { topic: string; partition: number; offset: number; metadata?: string };

async function commit(groupId: string, commits: Commit[], via = client) {
  const byTopic = new Map<string, Commit[]>();
  for (const c of commits) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), c]);
  const answer = await via.request<OffsetCommitResponse>(offsetCommit, 2, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    retentionTimeMs: -1,
    topics: [...byTopic].map(([name, ps]) => ({
      name,
      partitions: ps.map((p) => ({
        partitionIndex: p.partition,
        committedOffset: p.offset,
        committedMetadata: p.metadata ?? "",
      })),
    })),
  });
  return answer.topics!.flatMap((t) =>
    t.partitions!.map((p) => [t.name, p.partitionIndex, p.errorCode] as const),
  );
}

async function fetched(groupId: string, partitions: number[], via = client) {
  const answer = await via.request<OffsetFetchResponse>(offsetFetch, 5, {
    groupId,
    topics: [{ name: "oc", partitionIndexes: partitions }],
  });
  expect(answer.errorCode).toBe(KafkaErrorCode.NONE);
  return answer.topics![0]!.partitions!.map((p) => [p.committedOffset, p.metadata, p.errorCode]);
}

describe("OffsetCommit", () => {
  it("never committed: -1 and empty metadata", async () => {
    expect(await fetched(`g-none-${++groups}`, [0, 1])).toEqual([
      [-1, "", 0],
      [-1, "", 0],
    ]);
  });

  it("metadata is kept", async () => {
    const g = `g-meta-${++groups}`;
    expect(await commit(g, [{ topic: "oc", partition: 0, offset: 5, metadata: "ünï" }])).toEqual([
      ["oc", 0, 0],
    ]);
    expect(await fetched(g, [0])).toEqual([[5, "ünï", 0]]);
  });

  it("an unknown partition fails alone: the request's other partitions are committed", async () => {
    const g = `g-partial-${++groups}`;
    const answer = await commit(g, [
      { topic: "oc", partition: 0, offset: 7 },
      { topic: "oc", partition: 9, offset: 7 },
      { topic: "no-such-topic", partition: 0, offset: 7 },
    ]);
    expect(answer).toEqual([
      ["oc", 0, KafkaErrorCode.NONE],
      ["oc", 9, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ["no-such-topic", 0, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(await fetched(g, [0])).toEqual([[7, "", 0]]);
  });

  it("metadata over 4096 bytes: OFFSET_METADATA_TOO_LARGE for that partition only", async () => {
    const g = `g-big-${++groups}`;
    const answer = await commit(g, [
      { topic: "oc", partition: 0, offset: 3, metadata: "m".repeat(5000) },
      { topic: "oc", partition: 1, offset: 4 },
    ]);
    expect(answer).toEqual([
      ["oc", 0, KafkaErrorCode.OFFSET_METADATA_TOO_LARGE],
      ["oc", 1, KafkaErrorCode.NONE],
    ]);
    expect(await fetched(g, [0, 1])).toEqual([
      [-1, "", 0],
      [4, "", 0],
    ]);
  });
});

describe("OffsetCommit on the listener's own groups (a backend without a coordinator)", () => {
  it("answers per partition too: unknown and oversized partitions fail alone", async () => {
    const g = `g-memory-${++groups}`;
    const answer = await commit(
      g,
      [
        { topic: "oc", partition: 0, offset: 7 },
        { topic: "oc", partition: 1, offset: 8, metadata: "m".repeat(4097) },
        { topic: "oc", partition: 9, offset: 7 },
        { topic: "no-such-topic", partition: 0, offset: 7 },
      ],
      memoryClient,
    );
    expect(answer).toEqual([
      ["oc", 0, KafkaErrorCode.NONE],
      ["oc", 1, KafkaErrorCode.OFFSET_METADATA_TOO_LARGE],
      ["oc", 9, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ["no-such-topic", 0, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(await fetched(g, [0, 1], memoryClient)).toEqual([
      [7, "", 0],
      [-1, "", 0],
    ]);
  });

  it("a group error still applies to every partition handed to the group (both coordinators)", async () => {
    for (const via of [client, memoryClient]) {
      const answer = await via.request<OffsetCommitResponse>(offsetCommit, 2, {
        groupId: `g-member-${++groups}`,
        generationIdOrMemberEpoch: 1,
        memberId: "nobody",
        retentionTimeMs: -1,
        topics: [
          {
            name: "oc",
            partitions: [
              { partitionIndex: 0, committedOffset: 1, committedMetadata: "" },
              { partitionIndex: 1, committedOffset: 1, committedMetadata: "m".repeat(5000) },
              { partitionIndex: 9, committedOffset: 1, committedMetadata: "" },
            ],
          },
        ],
      });
      expect(answer.topics![0]!.partitions!.map((p) => p.errorCode)).toEqual([
        KafkaErrorCode.UNKNOWN_MEMBER_ID,
        KafkaErrorCode.UNKNOWN_MEMBER_ID,
        KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ]);
    }
  });
});

describe("TxnOffsetCommit, per partition as Kafka answers it", () => {
  it("an unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION, the others are committed with the transaction", async () => {
    await topics.admin.createTopic({ name: "txo", partitions: 1 });
    const transactionalId = "txo-1";
    const groupId = "txo-group";
    const init = await client.request<{
      errorCode: number;
      producerId: number;
      producerEpoch: number;
    }>(initProducerId, 1, { transactionalId, transactionTimeoutMs: 60_000 });
    expect(init.errorCode).toBe(KafkaErrorCode.NONE);
    const producer = { producerId: init.producerId, producerEpoch: init.producerEpoch };
    expect(
      await client.request<{ errorCode: number }>(addOffsetsToTxn, 1, {
        transactionalId,
        ...producer,
        groupId,
      }),
    ).toMatchObject({ errorCode: KafkaErrorCode.NONE });
    const partition = (partitionIndex: number, committedMetadata = "") => ({
      partitionIndex,
      committedOffset: 5,
      committedLeaderEpoch: -1,
      committedMetadata,
    });
    const answer = await client.request<TxnOffsetCommitResponse>(txnOffsetCommit, 2, {
      transactionalId,
      groupId,
      ...producer,
      topics: [
        { name: "txo", partitions: [partition(0), partition(9), partition(0, "m".repeat(5000))] },
        { name: "no-such-topic", partitions: [partition(0)] },
      ],
    });
    expect(answer.topics!.flatMap((t) => t.partitions!.map((p) => p.errorCode))).toEqual([
      KafkaErrorCode.NONE,
      KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      KafkaErrorCode.OFFSET_METADATA_TOO_LARGE,
      KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    expect(
      await client.request<{ errorCode: number }>(endTxn, 1, {
        transactionalId,
        ...producer,
        committed: true,
      }),
    ).toMatchObject({ errorCode: KafkaErrorCode.NONE });
    expect(await topics.admin.listGroupOffsets(groupId)).toEqual([
      { topic: "txo", partition: 0, offset: 5, metadata: "" },
    ]);
  });
});
