// A produce that the disk refuses, answered as Kafka answers it, so that clients retry it.
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { decodeBatches, SimulatedFileSystem } from "../../index.js";
import { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { embeddedKafkaBackend } from "./embedded-kafka-backend.js";
import type { KafkaBackend } from "./kafka-backend.js";
import { KafkaServer } from "./kafka-server.js";

const fs = new SimulatedFileSystem(41);
let topics: EmbeddedTopicService;
let backend: KafkaBackend;
let server: KafkaServer;

beforeAll(async () => {
  topics = await EmbeddedTopicService.open("/topics", { fs, fsync: "never" });
  backend = embeddedKafkaBackend(topics);
  server = await KafkaServer.listen({ backend, port: 0 });
  await topics.admin.createTopic({ name: "full", partitions: 1 });
});

afterAll(async () => {
  await server.close();
  await topics.close();
});

/**
 * Kafka answers a write the disk refused with KAFKA_STORAGE_ERROR, which clients retry (with
 * the same sequence: the refused write left none of the batch behind). An unknown server error
 * is not retried: the client gave up on the first full disk.
 */
it("answers a produce the disk refused with a storage error, which an idempotent client retries", async () => {
  const kafka = new Kafka({
    clientId: "storage-error-test",
    brokers: [`127.0.0.1:${server.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 200 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    fs.capacityBytes = fs.usedBytes() + 100;
    const value = "v".repeat(4000);
    const sent = producer.send({ topic: "full", messages: [{ value }] });
    // The disk gets room while the client retries.
    setTimeout(() => (fs.capacityBytes = Number.POSITIVE_INFINITY), 300);
    const [result] = await sent;
    expect(result).toMatchObject({ topicName: "full", partition: 0, errorCode: 0 });
    const read = await backend.partitions.read("full", 0, 0, 1 << 20, "read_uncommitted");
    const records = decodeBatches(read.bytes);
    if (records instanceof Error) throw records;
    expect(records.map((r) => r.value!.toString()).filter((v) => v === value)).toEqual([value]);
  } finally {
    fs.capacityBytes = Number.POSITIVE_INFINITY;
    await producer.disconnect();
  }
});
