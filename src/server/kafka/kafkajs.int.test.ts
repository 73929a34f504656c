// kafkajs, a Kafka client nobody here wrote, against the listener on embedded topics.
import { existsSync } from "node:fs";
import { CompressionTypes, ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBatches, encodeBatch, readBatchHeader, SluiceError } from "../../index.js";
import type { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { embeddedKafkaBackend } from "./embedded-kafka-backend.js";
import type { KafkaBackend } from "./kafka-backend.js";
import type { KafkaServer } from "./kafka-server.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import {
  incrementalAlterConfigs,
  type IncrementalAlterConfigsResponse,
  produce,
  type ProduceResponse,
} from "./protocol/schemas/index.js";
import { run } from "./test-support/client-processes.js";
import { EmbeddedListener } from "./test-support/embedded-listener.js";
import { RawKafkaClient } from "./test-support/raw-client.js";
import {
  storedBytes as storedBytesOf,
  storedValues as storedValuesOf,
} from "./test-support/stored-batches.js";

let listener: EmbeddedListener;
let topics: EmbeddedTopicService;
let backend: KafkaBackend;
let server: KafkaServer;
let kafka: Kafka;
let connectionErrors: Error[];

beforeAll(async () => {
  listener = await EmbeddedListener.start("kafkajs");
  ({ topics, server, connectionErrors } = listener);
  backend = embeddedKafkaBackend(topics);
  kafka = new Kafka({
    clientId: "kafkajs-test",
    brokers: [listener.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
});

afterAll(async () => {
  await listener.close();
});

const storedBytes = (topic: string, partition = 0) => storedBytesOf(topics, topic, partition);
const storedValues = (topic: string, partition = 0) => storedValuesOf(topics, topic, partition);

describe("kafkajs admin", () => {
  it("creates, lists, describes, grows and deletes topics", async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(
        await admin.createTopics({
          topics: [
            {
              topic: "admin-a",
              numPartitions: 3,
              configEntries: [{ name: "retention.ms", value: "60000" }],
            },
          ],
        }),
      ).toBe(true);
      expect(await admin.listTopics()).toContain("admin-a");
      const meta = await admin.fetchTopicMetadata({ topics: ["admin-a"] });
      expect(meta.topics[0]!.partitions).toHaveLength(3);
      await admin.createPartitions({ topicPartitions: [{ topic: "admin-a", count: 5 }] });
      expect(
        (await admin.fetchTopicMetadata({ topics: ["admin-a"] })).topics[0]!.partitions,
      ).toHaveLength(5);
      const configs = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: "admin-a" }],
        includeSynonyms: false,
      });
      expect(
        configs.resources[0]!.configEntries.find((c) => c.configName === "retention.ms")
          ?.configValue,
      ).toBe("60000");
      await expect(
        admin.createTopics({ topics: [{ topic: "admin-a" }], validateOnly: false }),
      ).resolves.toBe(false);
      await admin.deleteTopics({ topics: ["admin-a"] });
      expect(await admin.listTopics()).not.toContain("admin-a");
    } finally {
      await admin.disconnect();
    }
  });
  it('creates topics whose names begin with "__" (Debezium\'s heartbeats), refuses the internal ones with INVALID_REQUEST', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    await producer.connect();
    try {
      const name = "__debezium-heartbeat.inventory";
      expect(await admin.createTopics({ topics: [{ topic: name }] })).toBe(true);
      expect(await admin.listTopics()).toContain(name);
      await producer.send({ topic: name, messages: [{ value: "beat" }] });
      expect(await storedValues(name)).toEqual(["beat"]);
      for (const internal of ["__consumer_offsets", "__transaction_state"]) {
        const error: unknown = await admin.createTopics({ topics: [{ topic: internal }] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        const errors = (error as { errors?: Array<{ type: string; message: string }> }).errors;
        expect(errors?.[0]?.type, internal).toBe("INVALID_REQUEST");
      }
      await admin.deleteTopics({ topics: [name] });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
  it("alters a topic's configs (AlterConfigs), validateOnly changes nothing, bad values are INVALID_CONFIG", async () => {
    const admin = kafka.admin();
    await admin.connect();
    const configOf = async (topic: string) =>
      Object.fromEntries(
        (
          await admin.describeConfigs({
            resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
            includeSynonyms: false,
          })
        ).resources[0]!.configEntries.map((c) => [c.configName, c.configValue]),
      );
    const alter = (topic: string, entries: Record<string, string>, validateOnly = false) =>
      admin.alterConfigs({
        validateOnly,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: Object.entries(entries).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    try {
      await admin.createTopics({
        topics: [
          {
            topic: "admin-alter",
            configEntries: [{ name: "max.message.bytes", value: "2000000" }],
          },
        ],
      });
      await alter("admin-alter", { "retention.ms": "60000" }, true);
      expect(await configOf("admin-alter")).toMatchObject({
        "retention.ms": "604800000",
        "max.message.bytes": "2000000",
      });
      // AlterConfigs replaces the topic's configs: what it leaves out goes back to the default.
      await alter("admin-alter", { "retention.ms": "60000", "cleanup.policy": "compact" });
      expect(await configOf("admin-alter")).toMatchObject({
        "retention.ms": "60000",
        "cleanup.policy": "compact",
        "max.message.bytes": "1048588",
      });
      await expect(alter("admin-alter", { "retention.ms": "soon" })).rejects.toMatchObject({
        type: "INVALID_CONFIG",
      });
      await expect(alter("admin-alter", { "no.such.config": "1" })).rejects.toMatchObject({
        type: "INVALID_CONFIG",
      });
      await expect(alter("admin-missing", { "retention.ms": "1" })).rejects.toMatchObject({
        type: "UNKNOWN_TOPIC_OR_PARTITION",
      });
      expect((await configOf("admin-alter"))["retention.ms"]).toBe("60000");
    } finally {
      await admin.disconnect();
    }
  });
  it("IncrementalAlterConfigs (which kafkajs lacks): SET, DELETE back to the default, APPEND and SUBTRACT on cleanup.policy", async () => {
    await backend.admin.createTopic({ name: "admin-incremental", retentionMs: 5000 });
    const client = await RawKafkaClient.connect(server.port);
    const alter = async (
      configs: Array<{ name: string; configOperation: number; value: string | null }>,
      resourceType = 2,
      resourceName = "admin-incremental",
    ) =>
      (
        await client.request<IncrementalAlterConfigsResponse>(incrementalAlterConfigs, 1, {
          resources: [{ resourceType, resourceName, configs }],
          validateOnly: false,
        })
      ).responses![0]!;
    const config = async () => (await backend.admin.describeTopic("admin-incremental")).config;
    try {
      expect(
        await alter([
          { name: "retention.ms", configOperation: 1, value: null },
          { name: "max.message.bytes", configOperation: 0, value: "4096" },
          { name: "cleanup.policy", configOperation: 2, value: "compact" },
        ]),
      ).toMatchObject({ errorCode: 0, resourceName: "admin-incremental" });
      expect(await config()).toMatchObject({
        retentionMs: 604_800_000,
        maxMessageBytes: 4096,
        cleanupPolicy: "compact,delete",
      });
      expect(
        await alter([{ name: "cleanup.policy", configOperation: 3, value: "delete" }]),
      ).toMatchObject({ errorCode: 0 });
      expect((await config()).cleanupPolicy).toBe("compact");
      expect(
        (await alter([{ name: "retention.ms", configOperation: 2, value: "1" }])).errorCode,
      ).toBe(KafkaErrorCode.INVALID_CONFIG);
      expect(
        (await alter([{ name: "retention.ms", configOperation: 9, value: "1" }])).errorCode,
      ).toBe(KafkaErrorCode.INVALID_REQUEST);
      expect(
        (await alter([{ name: "num.partitions", configOperation: 0, value: "3" }], 4, "0"))
          .errorCode,
      ).toBe(KafkaErrorCode.INVALID_CONFIG);
      expect(await config()).toMatchObject({ maxMessageBytes: 4096, cleanupPolicy: "compact" });
    } finally {
      client.close();
    }
  });
});

describe("kafkajs producer", () => {
  it.each([
    ["acks=all", -1],
    ["acks=1", 1],
  ])(
    "%s: sends batches that are stored as they came and acknowledged with their offsets",
    async (_name, acks) => {
      const topic = `produce-acks${acks}`;
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      try {
        const first = await producer.send({
          topic,
          acks,
          messages: [{ value: "one" }, { value: "two" }],
        });
        expect(first[0]).toMatchObject({ errorCode: 0, baseOffset: "0" });
        const second = await producer.send({
          topic,
          acks,
          compression: CompressionTypes.GZIP,
          messages: [{ key: "k", value: "three" }],
        });
        expect(second[0]).toMatchObject({ errorCode: 0, baseOffset: "2" });
        expect(await storedValues(topic)).toEqual(["one", "two", "three"]);
        // The gzip batch is stored gzip-compressed, as the client sent it (codec bits of its attributes).
        const bytes = await storedBytes(topic);
        const firstBatch = readBatchHeader(bytes, 0);
        if (firstBatch instanceof SluiceError) throw firstBatch;
        const secondBatch = readBatchHeader(bytes, firstBatch.sizeBytes);
        if (secondBatch instanceof SluiceError) throw secondBatch;
        expect(firstBatch.attributes & 0x07).toBe(0);
        expect(secondBatch.attributes & 0x07).toBe(1);
      } finally {
        await producer.disconnect();
      }
    },
  );

  it("acks=0: the send returns without an answer and the records are stored", async () => {
    const producer = kafka.producer();
    await producer.connect();
    try {
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "produce-acks0" }] });
      await admin.disconnect();
      await producer.send({
        topic: "produce-acks0",
        acks: 0,
        messages: [{ value: "fire" }, { value: "forget" }],
      });
      await expect.poll(() => storedValues("produce-acks0")).toEqual(["fire", "forget"]);
    } finally {
      await producer.disconnect();
    }
  });
});

describe("kafkajs offsets", () => {
  it("fetchTopicOffsets (latest, earliest) and fetchTopicOffsetsByTimestamp", async () => {
    const producer = kafka.producer();
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: "offsets" }] });
      await producer.send({
        topic: "offsets",
        messages: [
          { value: "a", timestamp: "1000" },
          { value: "b", timestamp: "2000" },
        ],
      });
      await producer.send({ topic: "offsets", messages: [{ value: "c", timestamp: "3000" }] });
      expect(await admin.fetchTopicOffsets("offsets")).toEqual([
        { partition: 0, offset: "3", high: "3", low: "0" },
      ]);
      expect(await admin.fetchTopicOffsetsByTimestamp("offsets", 2500)).toEqual([
        { partition: 0, offset: "2" },
      ]);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});

describe("kafkajs deleteTopicRecords (DeleteRecords)", () => {
  it("moves the log start to the offset given, or to the end with -1; past the end is refused", async () => {
    const producer = kafka.producer();
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: "trimmed", numPartitions: 2 }] });
      for (const partition of [0, 1])
        await producer.send({
          topic: "trimmed",
          messages: ["a", "b", "c", "d"].map((value) => ({ value, partition })),
        });
      // kafkajs finds the partitions' leaders in metadata it has already loaded (against Kafka
      // too): a first look at the topic loads it.
      expect(await admin.fetchTopicOffsets("trimmed")).toHaveLength(2);
      await admin.deleteTopicRecords({
        topic: "trimmed",
        partitions: [
          { partition: 0, offset: "2" },
          { partition: 1, offset: "-1" },
        ],
      });
      expect(await admin.fetchTopicOffsets("trimmed")).toEqual([
        { partition: 0, offset: "4", high: "4", low: "2" },
        { partition: 1, offset: "4", high: "4", low: "4" },
      ]);
      // kafkajs wraps the partition's error: KafkaJSNonRetriableError, caused by
      // KafkaJSDeleteTopicRecordsError, whose partitions carry the broker's error.
      const refused = (await admin
        .deleteTopicRecords({ topic: "trimmed", partitions: [{ partition: 0, offset: "9" }] })
        .then(
          () => undefined,
          (error: unknown) => error,
        )) as { cause?: { partitions?: Array<{ error?: { type?: string } }> } } | undefined;
      expect(refused?.cause?.partitions?.[0]?.error?.type).toBe("OFFSET_OUT_OF_RANGE");
      expect((await admin.fetchTopicOffsets("trimmed"))[0]).toMatchObject({ low: "2" });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});

describe("kafkajs consumer groups", () => {
  const consumerOptions = (groupId: string) => ({
    groupId,
    sessionTimeout: 6000,
    rebalanceTimeout: 4000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 200,
  });

  it("consumes from the beginning, shares partitions between two members, and resumes from commits", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "grouped", numPartitions: 4 }] });
    const producer = kafka.producer();
    await producer.connect();
    const first = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    await producer.send({ topic: "grouped", messages: first });

    const seen = new Map<string, string[]>();
    const consumerA = kafka.consumer(consumerOptions("g1"));
    const consumerB = kafka.consumer(consumerOptions("g1"));
    const run = async (consumer: typeof consumerA, name: string) => {
      seen.set(name, []);
      await consumer.connect();
      await consumer.subscribe({ topic: "grouped", fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) =>
          Promise.resolve(void seen.get(name)!.push(message.value!.toString())),
      });
    };
    try {
      await run(consumerA, "a");
      await expect.poll(() => seen.get("a")!.length, { timeout: 15_000 }).toBe(40);
      expect(new Set(seen.get("a"))).toEqual(new Set(first.map((m) => m.value)));

      // A second member joins: after the rebalance both own partitions and new records reach both.
      await run(consumerB, "b");
      await expect
        .poll(
          async () =>
            (await admin.describeGroups(["g1"])).groups[0]!.members.filter(
              (m) => m.memberAssignment.length > 0,
            ).length,
          { timeout: 15_000 },
        )
        .toBe(2);
      const second = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `w${i}` }));
      await producer.send({ topic: "grouped", messages: second });
      await expect
        .poll(
          () =>
            new Set([...seen.get("a")!, ...seen.get("b")!].filter((v) => v.startsWith("w"))).size,
          { timeout: 15_000 },
        )
        .toBe(40);
      expect(seen.get("b")!.length).toBeGreaterThan(0);
      expect(seen.get("a")!.filter((v) => v.startsWith("w")).length).toBeGreaterThan(0);

      // A leaves: B takes every partition and continues from the committed offsets.
      await consumerA.disconnect();
      const third = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `x${i}` }));
      await producer.send({ topic: "grouped", messages: third });
      await expect
        .poll(() => new Set(seen.get("b")!.filter((v) => v.startsWith("x"))).size, {
          timeout: 15_000,
        })
        .toBe(40);
      expect(seen.get("b")!.filter((v) => v.startsWith("v"))).toEqual([]);

      const described = (await admin.describeGroups(["g1"])).groups[0]!;
      expect(described.state).toBe("Stable");
      expect(described.members).toHaveLength(1);
      const offsets = await admin.fetchOffsets({ groupId: "g1", topics: ["grouped"] });
      const committed = offsets[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
      expect(committed).toBeLessThanOrEqual(120);
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain("g1");
    } finally {
      await consumerA.disconnect();
      await consumerB.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
  it("resetOffsets (kafkajs commits the -1 and -2 sentinels) moves the group to the log end and start", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "reset", numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "reset",
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}`, partition: i % 2 })),
    });
    const committed = async () =>
      (await admin.fetchOffsets({ groupId: "resetting", topics: ["reset"] }))[0]!.partitions
        .map((p) => [p.partition, p.offset])
        .sort();
    // Refused, kafkajs's consumer behind resetOffsets crashes and its promise never settles.
    const settles = <T>(promise: Promise<T>) =>
      Promise.race([
        promise,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("did not settle in 10 s")), 10_000),
        ),
      ]);
    const seen: string[] = [];
    const consumer = kafka.consumer(consumerOptions("resetting"));
    try {
      await settles(admin.resetOffsets({ groupId: "resetting", topic: "reset", earliest: false }));
      expect(await committed()).toEqual([
        [0, "5"],
        [1, "5"],
      ]);
      await settles(admin.resetOffsets({ groupId: "resetting", topic: "reset", earliest: true }));
      expect(await committed()).toEqual([
        [0, "0"],
        [1, "0"],
      ]);
      // A consumer that would start at the end reads on from the offsets the reset left.
      await consumer.connect();
      await consumer.subscribe({ topic: "reset", fromBeginning: false });
      await consumer.run({
        eachMessage: ({ message }) => Promise.resolve(void seen.push(message.value!.toString())),
      });
      await expect.poll(() => seen.length, { timeout: 15_000 }).toBe(10);
      expect(seen.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 60_000);
});

describe("idempotent producers", () => {
  it("kafkajs with idempotence gets a producer id; its batches carry it and a resent batch is stored once", async () => {
    await backend.admin.createTopic({ name: "idempotent", partitions: 1 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: "idempotent", messages: [{ value: "a" }, { value: "b" }] });
    await producer.send({ topic: "idempotent", messages: [{ value: "c" }] });
    await producer.disconnect();
    const bytes = await storedBytes("idempotent");
    const first = readBatchHeader(bytes, 0);
    if (first instanceof SluiceError) throw first;
    const second = readBatchHeader(bytes, first.sizeBytes);
    if (second instanceof SluiceError) throw second;
    expect(first.producerId).toBeGreaterThanOrEqual(0);
    expect([first.baseSequence, second.baseSequence]).toEqual([0, 2]);
    expect(second.producerId).toBe(first.producerId);

    // The same batch again (a retry after a lost answer) is acknowledged at its first offset.
    const client = await RawKafkaClient.connect(server.port);
    try {
      const resend = Buffer.from(
        bytes.subarray(first.sizeBytes, first.sizeBytes + second.sizeBytes),
      );
      const answer = await client.request<ProduceResponse>(produce, 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: "idempotent", partitionData: [{ index: 0, records: resend }] }],
      });
      expect(answer.responses![0]!.partitionResponses![0]).toMatchObject({
        errorCode: 0,
        baseOffset: 2,
      });
    } finally {
      client.close();
    }
    expect(await storedValues("idempotent")).toEqual(["a", "b", "c"]);
  });

  it.skipIf(!existsSync("/usr/bin/kcat"))(
    "librdkafka (kcat) with enable.idempotence stores batches with its producer id and sequences",
    async () => {
      await backend.admin.createTopic({ name: "idempotent-kcat", partitions: 1 });
      await run(
        "/usr/bin/kcat",
        [
          "-b",
          `127.0.0.1:${server.port}`,
          "-P",
          "-t",
          "idempotent-kcat",
          "-X",
          "enable.idempotence=true",
        ],
        "one\ntwo\nthree\n",
      );
      const header = readBatchHeader(await storedBytes("idempotent-kcat"), 0);
      if (header instanceof SluiceError) throw header;
      expect(header.producerId).toBeGreaterThanOrEqual(0);
      expect(header.baseSequence).toBe(0);
      expect(await storedValues("idempotent-kcat")).toEqual(["one", "two", "three"]);
    },
  );
});

describe("consumer groups shared with library consumers", () => {
  it("a kafkajs consumer and a library consumer in one group get disjoint partitions that cover the topic", async () => {
    await backend.admin.createTopic({ name: "mixed", partitions: 4 });
    const library = topics.consumer({
      groupId: "mixed-group",
      clientId: "library",
      assignors: ["range", "roundrobin"],
      autoOffsetReset: "earliest",
    });
    const kafkajs = kafka.consumer({
      groupId: "mixed-group",
      sessionTimeout: 6000,
      rebalanceTimeout: 4000,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 200,
    });
    let kafkajsAssignment: number[] = [];
    kafkajs.on(kafkajs.events.GROUP_JOIN, (event) => {
      kafkajsAssignment = event.payload.memberAssignment["mixed"] ?? [];
    });
    const stop = new AbortController();
    // The library consumer takes part in rebalances while it polls.
    await library.subscribe(["mixed"]);
    const polling = (async () => {
      while (!stop.signal.aborted) await library.poll({ timeoutMs: 50 });
    })();
    const libraryAssignment = () => library.assignment().map((tp) => tp.partition);
    try {
      await expect.poll(() => libraryAssignment().length, { timeout: 15_000 }).toBe(4);
      await kafkajs.connect();
      await kafkajs.subscribe({ topic: "mixed", fromBeginning: true });
      await kafkajs.run({ eachMessage: () => Promise.resolve() });
      await expect
        .poll(() => [kafkajsAssignment.length, libraryAssignment().length], { timeout: 20_000 })
        .toEqual([2, 2]);
      expect(new Set([...kafkajsAssignment, ...libraryAssignment()])).toEqual(
        new Set([0, 1, 2, 3]),
      );
      const described = await topics.admin.describeGroup("mixed-group");
      expect(described.members.map((m) => m.clientId).sort()).toEqual(["kafkajs-test", "library"]);

      // The Kafka client leaves: the library consumer gets every partition back.
      await kafkajs.disconnect();
      await expect.poll(() => libraryAssignment().length, { timeout: 15_000 }).toBe(4);
    } finally {
      stop.abort();
      await polling;
      await library.close();
      await kafkajs.disconnect();
    }
  });
});

describe("bad batches on the real partition logs", () => {
  it("a batch with a wrong CRC is refused with CORRUPT_MESSAGE and never stored", async () => {
    await backend.admin.createTopic({ name: "corrupt", partitions: 1 });
    const client = await RawKafkaClient.connect(server.port);
    try {
      const batch = encodeBatch([{ value: Buffer.from("x") }], {
        baseOffset: 0,
        defaultTimestamp: Date.now(),
      });
      batch[batch.length - 1] = batch[batch.length - 1]! ^ 0xff;
      const answer = await client.request<ProduceResponse>(produce, 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: "corrupt", partitionData: [{ index: 0, records: batch }] }],
      });
      expect(answer.responses![0]!.partitionResponses![0]!.errorCode).toBe(
        KafkaErrorCode.CORRUPT_MESSAGE,
      );
      expect((await backend.admin.describePartition("corrupt", 0)).highWatermark).toBe(0);
    } finally {
      client.close();
    }
  });
});

describe("mutated batches on the real partition logs", () => {
  it("a batch with any byte changed, cut short or with a wrong length is refused or stored valid; nothing bad is stored", async () => {
    await backend.admin.createTopic({ name: "fuzzed", partitions: 1 });
    const client = await RawKafkaClient.connect(server.port);
    let seed = 19;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const valid = encodeBatch(
      Array.from({ length: 20 }, (_, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`.repeat(20)),
      })),
      { baseOffset: 0, defaultTimestamp: Date.now(), compression: 1 },
    );
    let accepted = 0;
    try {
      for (let i = 0; i < 300; i++) {
        const batch = Buffer.from(valid);
        const kind = i % 3;
        if (kind === 0) {
          const at = Math.floor(random() * batch.length);
          batch[at] = batch[at]! ^ (1 + Math.floor(random() * 255));
        }
        if (kind === 1) batch.writeInt32BE(Math.floor(random() * 2 ** 31), 8); // declared length
        const records = kind === 2 ? batch.subarray(0, Math.floor(random() * batch.length)) : batch;
        const answer = await client.request<ProduceResponse>(produce, 7, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 1000,
          topicData: [{ name: "fuzzed", partitionData: [{ index: 0, records }] }],
        });
        if (answer.responses![0]!.partitionResponses![0]!.errorCode === 0) accepted++;
      }
    } finally {
      client.close();
    }
    // Whatever was stored is whole batches that decode (CRC, length, records, decompression).
    const stored = await storedBytes("fuzzed");
    const records = decodeBatches(stored);
    if (records instanceof Error) throw records;
    expect(records.length).toBe(accepted * 20);
    expect((await backend.admin.describePartition("fuzzed", 0)).highWatermark).toBe(accepted * 20);
  });
});

describe("the listener", () => {
  it("closed no kafkajs connection for a protocol error", () => {
    expect(connectionErrors).toEqual([]);
  });
});
