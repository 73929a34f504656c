// Transactional producers written elsewhere (kafkajs, and librdkafka through Debian's
// confluent-kafka) against the listener on embedded topics: commits and aborts, what
// read_committed and read_uncommitted consumers see, fencing, and read-process-write with the
// group's offsets in the transaction.
import { Kafka, logLevel, type Consumer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBatches } from "../../engine/index.js";
import type { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { KafkaServer } from "./kafka-server.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import {
  addOffsetsToTxn,
  addPartitionsToTxn,
  apiVersions,
  endTxn,
  fetch,
  initProducerId,
  offsetFetch,
  txnOffsetCommit,
  type ApiVersionsResponse,
  type FetchResponse,
  type OffsetFetchResponse,
} from "./protocol/schemas/index.js";
import { PYTHON, clientScript, pythonHas, runJson } from "./test-support/client-processes.js";
import { MemoryBackend } from "./test-support/memory-backend.js";
import { EmbeddedListener } from "./test-support/embedded-listener.js";
import { RawKafkaClient } from "./test-support/raw-client.js";

const inCi = process.env.CI === "true";
let listener: EmbeddedListener;
let topics: EmbeddedTopicService;
let server: KafkaServer;
let kafka: Kafka;
let connectionErrors: Error[];

beforeAll(async () => {
  listener = await EmbeddedListener.start("kafka-txn");
  ({ topics, server, connectionErrors } = listener);
  kafka = new Kafka({
    clientId: "kafkajs-txn-test",
    brokers: [`127.0.0.1:${server.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
});

afterAll(async () => {
  await listener.close();
});

const values = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  await topics.admin.createTopic({ name: topic, partitions: numPartitions });
}

/** Reads a topic from the beginning with a kafkajs consumer until `done` holds over what it saw. */
async function readWithKafkajs(
  topic: string,
  readUncommitted: boolean,
  done: (seen: string[]) => boolean,
): Promise<string[]> {
  const seen: string[] = [];
  const consumer: Consumer = kafka.consumer({
    groupId: `reader-${topic}-${readUncommitted}`,
    readUncommitted,
    sessionTimeout: 6000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => Promise.resolve(void seen.push(message.value!.toString())),
    });
    await expect.poll(() => done(seen), { timeout: 20_000 }).toBe(true);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe("kafkajs transactions", () => {
  it("a committed transaction is read by read_committed consumers, an aborted one only by read_uncommitted ones", async () => {
    await createTopic("kjs-txn", 2);
    const producer = kafka.producer({ transactionalId: "kjs-txn-1", maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const [prefix, commit] of [
        ["committed", true],
        ["aborted", false],
        ["later", true],
      ] as const) {
        const txn = await producer.transaction();
        await txn.send({
          topic: "kjs-txn",
          messages: values(prefix, 6).map((value, i) => ({ value, partition: i % 2 })),
        });
        if (commit) await txn.commit();
        else await txn.abort();
      }
    } finally {
      await producer.disconnect();
    }

    const committed = [...values("committed", 6), ...values("later", 6)];
    // Records of one partition arrive in offset order, so once every "later" record is in, the
    // aborted ones (written before them) would have been too.
    const readCommitted = await readWithKafkajs("kjs-txn", false, (seen) =>
      values("later", 6).every((v) => seen.includes(v)),
    );
    expect(readCommitted.sort()).toEqual(committed.sort());
    const readUncommitted = await readWithKafkajs("kjs-txn", true, (seen) => seen.length >= 18);
    expect(readUncommitted.sort()).toEqual([...committed, ...values("aborted", 6)].sort());
  });

  it("a second producer with the same transactional id fences the first; its open transaction is aborted", async () => {
    await createTopic("kjs-fenced", 1);
    const first = kafka.producer({ transactionalId: "kjs-fenced-1", maxInFlightRequests: 1 });
    const second = kafka.producer({ transactionalId: "kjs-fenced-1", maxInFlightRequests: 1 });
    await first.connect();
    try {
      const open = await first.transaction();
      await open.send({ topic: "kjs-fenced", messages: [{ value: "from-the-first" }] });
      await second.connect();
      // kafkajs sends InitProducerId with its first transaction: a new epoch, and the first
      // producer's open transaction is aborted.
      const txn = await second.transaction();
      await expect(open.commit()).rejects.toThrow(/epoch|fenced/i);
      await txn.send({ topic: "kjs-fenced", messages: [{ value: "from-the-second" }] });
      await txn.commit();
    } finally {
      await first.disconnect();
      await second.disconnect();
    }
    const seen = await readWithKafkajs("kjs-fenced", false, (s) => s.includes("from-the-second"));
    expect(seen).toEqual(["from-the-second"]);
  });

  it("a transaction left open past its timeout is aborted: read_committed readers go on, the producer is fenced", async () => {
    await createTopic("kjs-timeout", 1);
    const producer = kafka.producer({
      transactionalId: "kjs-timeout-1",
      maxInFlightRequests: 1,
      transactionTimeout: 1000,
    });
    await producer.connect();
    try {
      const open = await producer.transaction();
      await open.send({ topic: "kjs-timeout", messages: [{ value: "never committed" }] });
      const log = topics.broker.partitionLog("kjs-timeout", 0);
      expect(log.lastStableOffset).toBe(0); // the open transaction holds read_committed back
      // Aborted by the coordinator: its marker (offset 1) closes the transaction.
      await expect
        .poll(() => [log.lastStableOffset, log.highWatermark], { timeout: 10_000 })
        .toEqual([2, 2]);
      await expect(open.commit()).rejects.toThrow(/epoch|fenced/i);
    } finally {
      await producer.disconnect();
    }
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: "kjs-timeout", messages: [{ value: "after" }] });
    await plain.disconnect();
    expect(await readWithKafkajs("kjs-timeout", false, (s) => s.includes("after"))).toEqual([
      "after",
    ]);
  });

  it("read-process-write: output and the group's offsets commit together (sendOffsets)", async () => {
    await createTopic("kjs-in", 2);
    await createTopic("kjs-out", 2);
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({
      topic: "kjs-in",
      messages: values("in", 20).map((value, i) => ({ value, partition: i % 2 })),
    });
    await plain.disconnect();

    const producer = kafka.producer({ transactionalId: "kjs-rpw", maxInFlightRequests: 1 });
    const consumer = kafka.consumer({
      groupId: "kjs-rpw-group",
      sessionTimeout: 6000,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 100,
    });
    let processed = 0;
    await producer.connect();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: "kjs-in", fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const txn = await producer.transaction();
          try {
            await txn.send({
              topic: "kjs-out",
              messages: batch.messages.map((m) => ({
                value: m.value!.toString().toUpperCase(),
                partition: batch.partition,
              })),
            });
            await txn.sendOffsets({
              consumerGroupId: "kjs-rpw-group",
              topics: [
                {
                  topic: batch.topic,
                  partitions: [
                    { partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
                  ],
                },
              ],
            });
            await txn.commit();
            processed += batch.messages.length;
          } catch (error) {
            await txn.abort();
            throw error;
          }
        },
      });
      await expect.poll(() => processed, { timeout: 20_000 }).toBe(20);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
    const output = await readWithKafkajs("kjs-out", false, (s) => s.length >= 20);
    expect(output.sort()).toEqual(values("IN", 20).sort());
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: "kjs-rpw-group", topics: ["kjs-in"] });
      expect(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
        [0, "10"],
        [1, "10"],
      ]);
    } finally {
      await admin.disconnect();
    }
  });
});

describe("confluent-kafka (librdkafka) transactions", () => {
  const available = pythonHas("confluent_kafka");
  const script = clientScript("confluent_kafka_client.py");
  const step = <T>(...args: string[]) =>
    runJson<T>(PYTHON, [script, `127.0.0.1:${server.port}`, ...args]);

  it.runIf(inCi && !available)("confluent-kafka is installed (CI installs it)", () => {
    expect.fail(`${PYTHON} cannot import confluent_kafka: .ci/run installs the Debian package`);
  });

  it.skipIf(!available)(
    "commit, abort, commit: read_committed never sees the aborted records, read_uncommitted does",
    async () => {
      await createTopic("rdk-txn", 2);
      await step("transactions", "rdk-txn", "rdk-txn-1", "5");
      const committed = [...values("committed", 5), ...values("later", 5)];
      const readCommitted = await step<{ records: string[] }>(
        "read-isolated",
        "rdk-txn",
        "read_committed",
      );
      expect(readCommitted.records.sort()).toEqual(committed.sort());
      const readUncommitted = await step<{ records: string[] }>(
        "read-isolated",
        "rdk-txn",
        "read_uncommitted",
      );
      expect(readUncommitted.records.sort()).toEqual(
        [...committed, ...values("aborted", 5)].sort(),
      );
    },
    60_000,
  );

  it.skipIf(!available)(
    "read-process-write with send_offsets_to_transaction: output once, offsets committed with it",
    async () => {
      await createTopic("rdk-in", 2);
      await createTopic("rdk-out", 2);
      const producer = topics.producer();
      await Promise.all(
        values("in", 20).map((value, i) =>
          producer.send({ topic: "rdk-in", value, partition: i % 2 }),
        ),
      );
      await producer.close();
      const result = await step<{ processed: number }>(
        "read-process-write",
        "rdk-in",
        "rdk-out",
        "rdk-rpw-group",
        "rdk-rpw",
      );
      expect(result.processed).toBe(20);
      const output = await step<{ records: string[] }>(
        "read-isolated",
        "rdk-out",
        "read_committed",
      );
      expect(output.records.sort()).toEqual(values("IN", 20).sort());
      const committed = await topics.admin.listGroupOffsets("rdk-rpw-group");
      expect(committed.map((o) => [o.topic, o.partition, o.offset])).toEqual([
        ["rdk-in", 0, 10],
        ["rdk-in", 1, 10],
      ]);
    },
    60_000,
  );
});

describe("the transaction APIs on the wire", () => {
  const TRANSACTION_APIS = [addPartitionsToTxn, addOffsetsToTxn, endTxn, txnOffsetCommit];

  it("are advertised (v0-3, with InitProducerId v0-4) and every version answers a request with a response that decodes", async () => {
    const client = await RawKafkaClient.connect(server.port);
    try {
      const { apiKeys } = await client.request<ApiVersionsResponse>(apiVersions, 0, {});
      for (const api of TRANSACTION_APIS)
        expect(apiKeys!.find((k) => k.apiKey === api.apiKey)).toEqual({
          apiKey: api.apiKey,
          minVersion: 0,
          maxVersion: 3,
        });
      expect(apiKeys!.find((k) => k.apiKey === initProducerId.apiKey)).toEqual({
        apiKey: initProducerId.apiKey,
        minVersion: 0,
        maxVersion: 4,
      });
      for (const api of TRANSACTION_APIS)
        for (let version = 0; version <= 3; version++)
          expect(
            await client.request(api, version, { transactionalId: "never-initialised" }),
            `${api.name} v${version}`,
          ).toBeTypeOf("object");
      // An id nobody initialised is refused with Kafka's code (v2+ of EndTxn knows it).
      expect(
        await client.request(endTxn, 3, {
          transactionalId: "never-initialised",
          producerId: 7,
          producerEpoch: 0,
          committed: true,
        }),
      ).toMatchObject({ errorCode: KafkaErrorCode.TRANSACTIONAL_ID_NOT_FOUND });
    } finally {
      client.close();
    }
  });

  it("are neither served nor advertised by a backend without a transaction coordinator", async () => {
    const plain = await KafkaServer.listen({ backend: new MemoryBackend(), port: 0 });
    const client = await RawKafkaClient.connect(plain.port);
    try {
      const { apiKeys } = await client.request<ApiVersionsResponse>(apiVersions, 0, {});
      const keys = apiKeys!.map((k) => k.apiKey);
      for (const api of TRANSACTION_APIS) expect(keys).not.toContain(api.apiKey);
      expect(
        await client.request(initProducerId, 4, {
          transactionalId: "t",
          transactionTimeoutMs: 60_000,
        }),
      ).toMatchObject({ errorCode: KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED });
    } finally {
      client.close();
      await plain.close();
    }
  });

  it("a read_committed fetch stops at the last stable offset and lists the aborted transactions", async () => {
    await createTopic("raw-txn", 1);
    const producer = topics.producer({ transactionalId: "raw-txn-1" });
    await producer.initTransactions();
    await producer.beginTransaction();
    await producer.send({ topic: "raw-txn", value: "aborted" });
    await producer.abortTransaction(); // offsets 0 (record) and 1 (marker)
    await producer.beginTransaction();
    await producer.send({ topic: "raw-txn", value: "open" }); // offset 2, still open
    await producer.flush();
    const client = await RawKafkaClient.connect(server.port);
    try {
      const fetchAt = async (isolationLevel: number) => {
        const answer = await client.request<FetchResponse>(fetch, 11, {
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel,
          topics: [
            {
              topic: "raw-txn",
              partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }],
            },
          ],
        });
        return answer.responses![0]!.partitions![0]!;
      };
      const committed = await fetchAt(1);
      expect(committed).toMatchObject({ highWatermark: 3, lastStableOffset: 2 });
      const { producerId } = topics.transactions.describe("raw-txn-1")!;
      expect(committed.abortedTransactions).toEqual([{ producerId, firstOffset: 0 }]);
      // The stored batches as they are: the aborted record and its marker, which the client drops
      // by the list above; nothing of the open transaction.
      const offsets = (records: Buffer | null | undefined) =>
        (decodeBatches(records!) as Array<{ offset: number }>).map((r) => r.offset);
      expect(offsets(committed.records)).toEqual([0, 1]);
      const uncommitted = await fetchAt(0);
      expect(uncommitted.abortedTransactions).toBeNull();
      expect(offsets(uncommitted.records)).toEqual([0, 1, 2]);
    } finally {
      client.close();
      await producer.abortTransaction();
      await producer.close();
    }
  });

  it("InitProducerId for an id whose transaction is open answers CONCURRENT_TRANSACTIONS while the abort proceeds, then the next epoch", async () => {
    await createTopic("raw-init-open", 1);
    const producer = topics.producer({ transactionalId: "raw-init-open-1" });
    await producer.initTransactions();
    await producer.beginTransaction();
    await producer.send({ topic: "raw-init-open", value: "left-open" });
    await producer.flush();
    const before = topics.transactions.describe("raw-init-open-1")!;
    expect(before.state).toBe("Ongoing");
    const client = await RawKafkaClient.connect(server.port);
    try {
      const init = () =>
        client.request<{ errorCode: number; producerId: number; producerEpoch: number }>(
          initProducerId,
          4,
          { transactionalId: "raw-init-open-1", transactionTimeoutMs: 60_000 },
        );
      // Answered at once, the abort under way; as a Kafka client does, retry until it is done.
      expect(await init()).toMatchObject({
        errorCode: KafkaErrorCode.CONCURRENT_TRANSACTIONS,
        producerId: -1,
        producerEpoch: -1,
      });
      let answer = await init();
      for (let i = 0; i < 200 && answer.errorCode === KafkaErrorCode.CONCURRENT_TRANSACTIONS; i++) {
        await new Promise((r) => setTimeout(r, 10));
        answer = await init();
      }
      // The abort bumped the epoch (fencing the open producer), then InitProducerId did.
      expect(answer).toMatchObject({
        errorCode: 0,
        producerId: before.producerId,
        producerEpoch: before.producerEpoch + 2,
      });
      expect(topics.transactions.describe("raw-init-open-1")!.state).toBe("Empty");
      const partition = await topics.admin.describePartition("raw-init-open", 0);
      expect(partition.highWatermark).toBe(2); // the record and the abort marker
      await expect(producer.commitTransaction()).rejects.toThrow(/fenced/i);
    } finally {
      client.close();
      await producer.close().catch(() => undefined);
    }
  });
});

describe("offsets held by an open transaction", () => {
  it("OffsetFetch asking for stable offsets gets UNSTABLE_OFFSET_COMMIT until the transaction ends; without asking, the committed offset", async () => {
    await createTopic("raw-offsets", 1);
    const group = "raw-offsets-group";
    await topics.admin.alterGroupOffsets(group, [
      { topic: "raw-offsets", partition: 0, offset: 1 },
    ]);
    const producer = topics.producer({ transactionalId: "raw-offsets-1" });
    await producer.initTransactions();
    await producer.beginTransaction();
    await producer.sendOffsetsToTransaction([{ topic: "raw-offsets", partition: 0, offset: 5 }], {
      groupId: group,
      generationId: -1,
      memberId: "",
    });
    const client = await RawKafkaClient.connect(server.port);
    const offsetsOf = async (requireStable: boolean) => {
      const answer = await client.request<OffsetFetchResponse>(offsetFetch, 7, {
        groupId: group,
        topics: [{ name: "raw-offsets", partitionIndexes: [0] }],
        requireStable,
      });
      const { committedOffset, errorCode } = answer.topics![0]!.partitions![0]!;
      return { committedOffset, errorCode };
    };
    try {
      expect(await offsetsOf(true)).toEqual({
        committedOffset: -1,
        errorCode: KafkaErrorCode.UNSTABLE_OFFSET_COMMIT,
      });
      expect(await offsetsOf(false)).toEqual({ committedOffset: 1, errorCode: 0 });
      await producer.commitTransaction();
      expect(await offsetsOf(true)).toEqual({ committedOffset: 5, errorCode: 0 });
    } finally {
      client.close();
      await producer.close();
    }
  });
});

describe("the listener", () => {
  it("closed no connection for a protocol error", () => {
    expect(connectionErrors).toEqual([]);
  });
});
