// An idempotent producer's retry after the listener restarts on the same data directory, and
// sequences past 2147483647.
// Kafka's rule: producer state (each producer's epoch and last batch's sequences and offsets) is
// snapshotted at every segment roll and on shutdown (ProducerStateManager.takeSnapshot) and
// reloaded on start, and a producer is forgotten only after producer.id.expiration.ms (a day;
// transactional.id.expiration.ms, 7 days, before KIP-854) or when all its batches fall below
// the log start. So a producer's last batch resent after a restart is answered with its first
// offset and not stored again, whichever segment it lies in.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBatch } from "../../index.js";
import { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { embeddedKafkaBackend } from "./embedded-kafka-backend.js";
import { KafkaServer } from "./kafka-server.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import { initProducerId, produce, type ProduceResponse } from "./protocol/schemas/index.js";
import { RawKafkaClient } from "./test-support/raw-client.js";
import { storedValues } from "./test-support/stored-batches.js";

let dir: string;
let topics: EmbeddedTopicService;
let server: KafkaServer;
let attempts = 0;

async function start(): Promise<void> {
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
  server = await KafkaServer.listen({ backend: embeddedKafkaBackend(topics), port: 0 });
}

async function stop(): Promise<void> {
  await server.close();
  await topics.close();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-idem-"));
  await start();
});

afterAll(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

async function send(topic: string, batch: Buffer) {
  const client = await RawKafkaClient.connect(server.port);
  try {
    const answer = await client.request<ProduceResponse>(produce, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
    });
    return answer.responses![0]!.partitionResponses![0]!;
  } finally {
    client.close();
  }
}

async function newProducerId(): Promise<number> {
  const client = await RawKafkaClient.connect(server.port);
  try {
    const answer = await client.request<{ errorCode: number; producerId: number }>(
      initProducerId,
      1,
      { transactionalId: null, transactionTimeoutMs: 60000 },
    );
    expect(answer.errorCode).toBe(KafkaErrorCode.NONE);
    return answer.producerId;
  } finally {
    client.close();
  }
}

const idempotentBatch = (producerId: number, sequence: number, value: string) =>
  encodeBatch([{ value: Buffer.from(value) }], {
    baseOffset: 0,
    defaultTimestamp: Date.now(),
    producer: { producerId, producerEpoch: 0, baseSequence: sequence },
  });

describe("idempotent producer state across a restart", () => {
  it("a retried batch is stored once after a restart (same segment)", async () => {
    const topic = `idem-same-${++attempts}`;
    await topics.admin.createTopic({ name: topic, partitions: 1 });
    const pid = await newProducerId();
    const batch = idempotentBatch(pid, 0, "a");
    expect((await send(topic, batch)).baseOffset).toBe(0);
    await stop();
    await start();
    const retry = await send(topic, batch);
    expect([retry.errorCode, retry.baseOffset]).toEqual([KafkaErrorCode.NONE, 0]);
    expect(await storedValues(topics, topic)).toEqual(["a"]);
  });

  it("a retried batch is stored once after a restart, when another producer's batch rolled the segment", async () => {
    const topic = `idem-rolled-${++attempts}`;
    // A small segment, so the next batch goes to a new one (Kafka's segment.bytes).
    await topics.admin.createTopic({ name: topic, partitions: 1, segmentBytes: 1024 });
    const pid = await newProducerId();
    const mine = idempotentBatch(pid, 0, "p".repeat(700));
    expect((await send(topic, mine)).baseOffset).toBe(0);
    // Another producer's batch (not idempotent) that does not fit the first segment.
    const other = encodeBatch([{ value: Buffer.from("o".repeat(700)) }], {
      baseOffset: 0,
      defaultTimestamp: Date.now(),
    });
    expect((await send(topic, other)).baseOffset).toBe(1);
    await stop();
    await start();
    // The first producer never saw its acknowledgement and resends its batch, unchanged.
    const retry = await send(topic, mine);
    expect([retry.errorCode, retry.baseOffset]).toEqual([KafkaErrorCode.NONE, 0]);
    expect((await storedValues(topics, topic)).map((v) => v[0])).toEqual(["p", "o"]);
    // And its next batch continues the sequence.
    const next = await send(topic, idempotentBatch(pid, 1, "q"));
    expect([next.errorCode, next.baseOffset]).toEqual([KafkaErrorCode.NONE, 2]);
  });
});

describe("sequence numbers wrap", () => {
  // Kafka's rule: sequences are int32 and wrap from Int.MaxValue to 0
  // (ProducerStateManager.inSequence: next == last + 1 || (next == 0 && last == Int.MaxValue);
  // DefaultRecordBatch.incrementSequence computes a batch's last sequence with the wrap). The
  // Java producer and librdkafka wrap after 2^31 records to one partition.
  const MAX = 2147483647;
  const batchOf = (producerId: number, sequence: number, values: string[]) =>
    encodeBatch(
      values.map((v) => ({ value: Buffer.from(v) })),
      {
        baseOffset: 0,
        defaultTimestamp: Date.now(),
        producer: { producerId, producerEpoch: 0, baseSequence: sequence },
      },
    );

  it("after sequence 2147483647 comes 0", async () => {
    const topic = `wrap-${++attempts}`;
    await topics.admin.createTopic({ name: topic, partitions: 1 });
    const pid = await newProducerId();
    // A producer the partition does not know yet may start at any sequence (Kafka since KIP-360).
    expect((await send(topic, batchOf(pid, MAX - 1, ["a", "b"]))).errorCode).toBe(0);
    const next = await send(topic, batchOf(pid, 0, ["c"]));
    expect([next.errorCode, next.baseOffset]).toEqual([KafkaErrorCode.NONE, 2]);
    expect(await storedValues(topics, topic)).toEqual(["a", "b", "c"]);
  });

  it("a batch spanning the wrap, then the sequence after it", async () => {
    const topic = `wrap-span-${++attempts}`;
    await topics.admin.createTopic({ name: topic, partitions: 1 });
    const pid = await newProducerId();
    // Sequences MAX, 0 and 1.
    const first = await send(topic, batchOf(pid, MAX, ["a", "b", "c"]));
    expect(first.errorCode).toBe(KafkaErrorCode.NONE);
    const next = await send(topic, batchOf(pid, 2, ["d"]));
    expect([next.errorCode, next.baseOffset]).toEqual([KafkaErrorCode.NONE, 3]);
    expect(await storedValues(topics, topic)).toEqual(["a", "b", "c", "d"]);
  });
});
