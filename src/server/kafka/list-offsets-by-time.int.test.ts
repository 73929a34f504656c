// ListOffsets by timestamp after DeleteRecords, against Kafka's rule.
// Kafka (UnifiedLog.fetchOffsetByTimestamp -> LogSegment.findOffsetByTimestamp ->
// FileRecords.searchForTimestamp) answers the first offset at or after the log start whose
// record timestamp is >= the target, scanning every batch of the segment from the time index's
// position on. A batch wholly below the log start is skipped, not the end of the search.
import { type Admin, Kafka, type Producer, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import { listOffsets, type ListOffsetsResponse } from "./protocol/schemas/index.js";
import { RawKafkaClient } from "./test-support/raw-client.js";
import { EmbeddedListener } from "./test-support/embedded-listener.js";

let listener: EmbeddedListener;
let kafka: Kafka;
let attempts = 0;

beforeAll(async () => {
  listener = await EmbeddedListener.start("list-offsets");
  kafka = new Kafka({
    clientId: "list-offsets",
    brokers: [listener.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
});

afterAll(async () => {
  await listener.close();
});

async function offsetAt(topic: string, timestamp: number, isolationLevel = 0) {
  const client = await RawKafkaClient.connect(listener.port);
  try {
    const response = await client.request<ListOffsetsResponse>(listOffsets, 4, {
      replicaId: -1,
      isolationLevel,
      topics: [
        { name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] },
      ],
    });
    return response.topics![0]!.partitions![0]!;
  } finally {
    client.close();
  }
}

/** Runs `body` with a connected kafkajs admin and producer, disconnected after it. */
async function withAdminAndProducer(
  body: (admin: Admin, producer: Producer) => Promise<void>,
): Promise<void> {
  const admin = kafka.admin();
  const producer = kafka.producer();
  await admin.connect();
  await producer.connect();
  try {
    await body(admin, producer);
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}

describe("ListOffsets by timestamp", () => {
  it("after DeleteRecords at a batch boundary, a time inside the deleted batch answers the log start", async () => {
    const topic = `lo-deleted-${++attempts}`;
    await withAdminAndProducer(async (admin, producer) => {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      // Two batches: offsets 0-9 at t=1000..1009, offsets 10-19 at t=2000..2009.
      for (const base of [1000, 2000])
        await producer.send({
          topic: topic,
          messages: Array.from({ length: 10 }, (_, i) => ({
            value: `v${base + i}`,
            timestamp: String(base + i),
          })),
        });
      // Sanity before deleting: Kafka's answers.
      expect((await offsetAt(topic, 1003)).offset).toBe(3);
      expect((await offsetAt(topic, 0)).offset).toBe(0);
      expect((await offsetAt(topic, 1500)).offset).toBe(10);
      expect((await offsetAt(topic, 9999)).offset).toBe(-1);

      // kafkajs's deleteTopicRecords needs the topic in its cached metadata first.
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({
        topic: topic,
        partitions: [{ partition: 0, offset: "10" }],
      });
      expect((await offsetAt(topic, -2)).offset).toBe(10);
      // 1500 lies past the deleted batch: fine either way.
      expect((await offsetAt(topic, 1500)).offset).toBe(10);
      // 1003 and 0 lie within or before the deleted batch: Kafka answers the first record at or
      // after the log start with timestamp >= target, i.e. offset 10 (timestamp 2000).
      const inside = await offsetAt(topic, 1003);
      expect(inside.errorCode).toBe(KafkaErrorCode.NONE);
      expect([inside.offset, inside.timestamp]).toEqual([10, 2000]);
      const older = await offsetAt(topic, 0);
      expect([older.offset, older.timestamp]).toEqual([10, 2000]);
    });
  });

  it("timestamps out of order within and across batches: the first offset whose timestamp is >= the target", async () => {
    const topic = `lo-unordered-${++attempts}`;
    await withAdminAndProducer(async (admin, producer) => {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      // offsets 0-2 at t=3000, 1000, 2000 (one batch); offset 3 at t=500 (a second batch).
      await producer.send({
        topic,
        messages: [3000, 1000, 2000].map((t) => ({ value: `v${t}`, timestamp: String(t) })),
      });
      await producer.send({ topic, messages: [{ value: "v500", timestamp: "500" }] });
      const at = async (t: number) => {
        const p = await offsetAt(topic, t);
        return [p.offset, p.timestamp];
      };
      expect(await at(400)).toEqual([0, 3000]);
      expect(await at(1500)).toEqual([0, 3000]);
      expect(await at(3000)).toEqual([0, 3000]);
      expect(await at(3001)).toEqual([-1, -1]);
    });
  });

  it("read_committed: a time found only in an open transaction's records answers -1", async () => {
    // Kafka (ReplicaManager.fetchOffsetForTimestamp): the offset found by timestamp must be below
    // the last fetchable offset, the last stable offset under read_committed; else -1.
    const topic = `lo-txn-${++attempts}`;
    const admin = kafka.admin();
    const plain = kafka.producer();
    const txnProducer = kafka.producer({
      transactionalId: `lo-txn-${attempts}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await admin.connect();
    await plain.connect();
    await txnProducer.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      await plain.send({ topic, messages: [{ value: "committed", timestamp: "1000" }] });
      const txn = await txnProducer.transaction();
      await txn.send({ topic, messages: [{ value: "open", timestamp: "5000" }] });
      expect((await offsetAt(topic, -1, 1)).offset).toBe(1); // the last stable offset
      expect((await offsetAt(topic, 4000, 0)).offset).toBe(1); // read_uncommitted sees it
      const committed = await offsetAt(topic, 4000, 1);
      expect([committed.offset, committed.timestamp]).toEqual([-1, -1]);
      await txn.abort();
    } finally {
      await txnProducer.disconnect();
      await plain.disconnect();
      await admin.disconnect();
    }
  });
});
