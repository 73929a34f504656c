// Fetch at the edges of a partition, against Kafka's rules (all should hold):
// - below the log start or past the log end: OFFSET_OUT_OF_RANGE (Log.read / UnifiedLog.read);
// - at the log end: no records, error NONE (a consumer that caught up);
// - inside a batch (the log start moved there by DeleteRecords, or a committed offset): the
//   batch holding it is served whole, logStartOffset tells the new start.
import { beforeAll, describe, expect, it } from "vitest";
import { decodeBatches, encodeBatch } from "../../index.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import {
  deleteRecords,
  fetch,
  listOffsets,
  produce,
  type FetchResponse,
  type ListOffsetsResponse,
} from "./protocol/schemas/index.js";
import { listenerWithRawClient } from "./test-support/listener-fixture.js";

const file = listenerWithRawClient("fetch-edges");

beforeAll(async () => {
  await file.topics.admin.createTopic({ name: "edges", partitions: 1 });
  for (const base of [0, 10]) {
    const batch = encodeBatch(
      Array.from({ length: 10 }, (_, i) => ({ value: Buffer.from(`v${base + i}`) })),
      { baseOffset: 0, defaultTimestamp: Date.now() },
    );
    await file.client.request(produce, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: "edges", partitionData: [{ index: 0, records: batch }] }],
    });
  }
});

async function fetchAt(fetchOffset: number) {
  const answer = await file.client.request<FetchResponse>(fetch, 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: "edges",
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset,
            logStartOffset: -1,
            partitionMaxBytes: 1 << 20,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  });
  const p = answer.responses![0]!.partitions![0]!;
  const records = p.records && p.records.length > 0 ? decodeBatches(p.records) : [];
  if (!Array.isArray(records)) throw records;
  return {
    errorCode: p.errorCode,
    logStartOffset: p.logStartOffset,
    highWatermark: p.highWatermark,
    offsets: records.map((r) => r.offset),
  };
}

describe("Fetch at the edges", () => {
  it("past the end, at the end, in the middle of a batch", async () => {
    expect((await fetchAt(21)).errorCode).toBe(KafkaErrorCode.OFFSET_OUT_OF_RANGE);
    expect(await fetchAt(20)).toMatchObject({ errorCode: 0, offsets: [], highWatermark: 20 });
    const mid = await fetchAt(13);
    expect(mid.errorCode).toBe(0);
    expect(mid.offsets[0]).toBe(10);
    expect(mid.offsets).toContain(13);
  });

  it("after DeleteRecords into a batch: below the start is out of range, the start is served", async () => {
    await file.client.request(deleteRecords, 1, {
      topics: [{ name: "edges", partitions: [{ partitionIndex: 0, offset: 5 }] }],
      timeoutMs: 5000,
    });
    const earliest = await file.client.request<ListOffsetsResponse>(listOffsets, 4, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: "edges",
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2 }],
        },
      ],
    });
    expect(earliest.topics![0]!.partitions![0]!.offset).toBe(5);
    expect((await fetchAt(4)).errorCode).toBe(KafkaErrorCode.OFFSET_OUT_OF_RANGE);
    const at5 = await fetchAt(5);
    expect(at5).toMatchObject({ errorCode: 0, logStartOffset: 5 });
    expect(at5.offsets).toContain(5);
  });
});
