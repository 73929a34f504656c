// @platformatic/kafka (1.x, the line that installs on Node 20), a client that names topics by id
// when it fetches (Fetch v13+), against the listener on embedded topics.
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { KafkaServer } from "./kafka-server.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import {
  fetch,
  metadata,
  type FetchResponse,
  type MetadataResponse,
} from "./protocol/schemas/index.js";
import { EmbeddedListener } from "./test-support/embedded-listener.js";
import { RawKafkaClient } from "./test-support/raw-client.js";
import { topicIdOf } from "./topic-ids.js";

let listener: EmbeddedListener;
let topics: EmbeddedTopicService;
let server: KafkaServer;
let connectionErrors: Error[];

beforeAll(async () => {
  listener = await EmbeddedListener.start("platformatic");
  ({ topics, server, connectionErrors } = listener);
});

afterAll(async () => {
  await listener.close();
});

const fetchBody = (topicId: Buffer) => ({
  maxWaitMs: 0,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  topics: [{ topicId, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
});

describe("@platformatic/kafka", () => {
  it("creates a topic, produces, and a consumer group reads every record from the earliest offset", async () => {
    const bootstrapBrokers = [`127.0.0.1:${server.port}`];
    const admin = new Admin({ clientId: "plat-admin", bootstrapBrokers });
    const producer = new Producer({
      clientId: "plat-producer",
      bootstrapBrokers,
      serializers: stringSerializers,
    });
    const consumer = new Consumer({
      groupId: "plat-group",
      clientId: "plat-consumer",
      bootstrapBrokers,
      deserializers: stringDeserializers,
    });
    try {
      await admin.createTopics({ topics: ["plat"], partitions: 2, replicas: 1 });
      expect((await topics.admin.describeTopic("plat")).partitions).toBe(2);
      const values = Array.from({ length: 10 }, (_, i) => `v${i}`);
      await producer.send({
        messages: values.map((value, i) => ({
          topic: "plat",
          key: `k${i}`,
          value,
          partition: i % 2,
        })),
      });
      const stream = await consumer.consume({
        topics: ["plat"],
        mode: MessagesStreamModes.EARLIEST,
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        autocommit: false,
      });
      const seen: string[] = [];
      try {
        for await (const message of stream) {
          seen.push(message.value);
          if (seen.length === values.length) break;
        }
      } finally {
        await stream.close();
      }
      expect(seen.sort()).toEqual(values.sort());
    } finally {
      await consumer.close();
      await producer.close();
      await admin.close();
    }
  }, 60_000);
});

describe("@platformatic/kafka producer ids", () => {
  const bootstrapBrokers = () => [`127.0.0.1:${server.port}`];

  it("two idempotent producers each store their records: every producer gets an id of its own", async () => {
    // platformatic's first InitProducerId carries producer id 0 and epoch 0; taken back, both
    // producers shared one id and the second's record was acknowledged as a duplicate, unstored.
    await topics.admin.createTopic({ name: "plat-idem", partitions: 1 });
    const producers = ["a", "b"].map(
      (name) =>
        new Producer({
          clientId: `plat-idem-${name}`,
          bootstrapBrokers: bootstrapBrokers(),
          idempotent: true,
          serializers: stringSerializers,
        }),
    );
    try {
      for (const [i, producer] of producers.entries())
        await producer.send({
          messages: [{ topic: "plat-idem", value: `from ${i}`, partition: 0 }],
        });
      const partition = await topics.admin.describePartition("plat-idem", 0);
      expect(partition.highWatermark).toBe(2);
    } finally {
      for (const producer of producers) await producer.close();
    }
  });

  it("a transactional producer commits with the client's own first request (producer id 0, epoch 0)", async () => {
    await topics.admin.createTopic({ name: "plat-txn", partitions: 1 });
    const producer = new Producer({
      clientId: "plat-txn",
      bootstrapBrokers: bootstrapBrokers(),
      idempotent: true,
      transactionalId: "plat-txn-1",
      serializers: stringSerializers,
    });
    try {
      const transaction = await producer.beginTransaction();
      await transaction.send({
        messages: [{ topic: "plat-txn", value: "committed", partition: 0 }],
      });
      await transaction.commit();
      expect(topics.transactions.describe("plat-txn-1")).toMatchObject({ state: "CompleteCommit" });
      // The record and the commit marker.
      expect((await topics.admin.describePartition("plat-txn", 0)).highWatermark).toBe(2);
    } finally {
      await producer.close();
    }
  });
});

describe("topic ids", () => {
  it("Metadata gives each topic its id, and Fetch v13 reads a topic by it", async () => {
    await topics.admin.createTopic({ name: "by-id", partitions: 1 });
    const producer = topics.producer();
    await producer.send({ topic: "by-id", value: "named by id" });
    await producer.close();
    const client = await RawKafkaClient.connect(server.port);
    try {
      const meta = await client.request<MetadataResponse>(metadata, 12, {
        topics: [{ topicId: Buffer.alloc(16), name: "by-id" }],
        allowAutoTopicCreation: false,
      });
      const topicId = meta.topics![0]!.topicId!;
      expect(topicId).toEqual(topicIdOf("by-id"));
      const answer = await client.request<FetchResponse>(fetch, 13, fetchBody(topicId));
      expect(answer.responses![0]!.topicId).toEqual(topicId);
      const partition = answer.responses![0]!.partitions![0]!;
      expect(partition.errorCode).toBe(KafkaErrorCode.NONE);
      expect(partition.records!.toString()).toContain("named by id");

      const unknown = await client.request<FetchResponse>(
        fetch,
        13,
        fetchBody(topicIdOf("no-such-topic")),
      );
      expect(unknown.responses![0]!.partitions![0]!.errorCode).toBe(
        KafkaErrorCode.UNKNOWN_TOPIC_ID,
      );
    } finally {
      client.close();
    }
  });

  it("closed no connection for a protocol error", () => {
    expect(connectionErrors).toEqual([]);
  });
});
