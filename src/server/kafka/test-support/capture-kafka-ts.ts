// Records the requests kafka-ts sends (the first of each API and version) as fixtures for the
// codec test: one run as served, then runs advertising at most v12, v11, … v0 of every API (never
// below the lowest version kafka-ts implements of it), so that it picks each lower version it
// knows in turn (test-support/capture-harness.ts):
//   npx tsx src/server/kafka/test-support/capture-kafka-ts.ts
// kafka-ts implements every version of the client APIs, and so sends the versions no other
// client here does: FindCoordinator v3, CreateTopics v5 and v6, DeleteTopics v4 and v5,
// AddPartitionsToTxn v2, EndTxn v2. Its producer is idempotent but not transactional, so the
// session runs a transaction through its low-level API, as a transactional producer would. It
// asks ApiVersions v4 first, which the listener refuses with the versions it serves (KIP-511) and
// kafka-ts goes on with: each run reports that request left out.
import { once } from "node:events";
import { API, createKafkaClient, setLogger, type Message } from "kafka-ts";
import {
  CapturedRequests,
  UNCLAMPED,
  atMost,
  captureRun,
  writeFixture,
} from "./capture-harness.js";

const TOPIC = "captured";
const GROUP = "capture-group";
const TRANSACTIONAL_ID = "capture-txn";
const TRANSACTION_KEY_TYPE = 1;
/** A record batch's attribute bit for a batch in a transaction. */
const TRANSACTIONAL_BATCH = 0x10;

// kafka-ts exports neither its cluster nor its consumer's options.
type Client = ReturnType<typeof createKafkaClient>;
type Cluster = ReturnType<Client["createCluster"]>;
type OnBatch = Parameters<Client["startConsumer"]>[0]["onBatch"];

interface VersionedApi {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly fallback?: VersionedApi;
}

/**
 * The lowest version kafka-ts implements of each API, by key: each API is its highest version,
 * which falls back to the next one down, and kafka-ts gives up on an API whose advertised
 * versions it has none of.
 */
function floors(): Map<number, number> {
  const lowest = new Map<number, number>();
  for (const top of Object.values(API) as VersionedApi[]) {
    let api = top;
    while (api.fallback !== undefined) api = api.fallback;
    lowest.set(api.apiKey, api.apiVersion);
  }
  return lowest;
}

/** Resolves with the first record the group reads, once kafka-ts has taken its offset. */
function firstRecord(): { read: Promise<Required<Message>>; onBatch: OnBatch } {
  let resolve!: (message: Required<Message>) => void;
  const read = new Promise<Required<Message>>((r) => (resolve = r));
  return {
    read,
    onBatch: (messages, { resolveOffset }) => {
      for (const message of messages) resolveOffset(message);
      if (messages.length > 0) resolve(messages[0]!);
    },
  };
}

/** kafka-ts's admin requests, idempotent producer, consumer group and a transaction. */
async function session(bootstrap: string): Promise<void> {
  const [host, port] = bootstrap.split(":");
  const kafka = createKafkaClient({
    clientId: "capture",
    bootstrapServers: [{ host: host!, port: Number(port) }],
  });
  const cluster = kafka.createCluster();
  await cluster.connect();
  const producer = kafka.createProducer({});
  try {
    // Metadata v0 names no controller (-1): the admin requests go to the broker asked then.
    const { controllerId } = await cluster.sendRequest(API.METADATA, { topics: [] });
    const admin = controllerId < 0 ? cluster.sendRequest : cluster.sendRequestToNode(controllerId);
    await admin(API.CREATE_TOPICS, {
      topics: [{ name: TOPIC, numPartitions: 2, replicationFactor: 1, assignments: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    await producer.send([
      { topic: TOPIC, partition: 0, key: "k", value: "v", headers: { h: "1" } },
    ]);

    // A member reads the record, heartbeats (every tenth of its session), and commits its offset
    // on closing.
    const { read, onBatch } = firstRecord();
    const consumer = await kafka.startConsumer({
      groupId: GROUP,
      topics: [TOPIC],
      fromBeginning: true,
      maxWaitMs: 100,
      sessionTimeoutMs: 2_000,
      onBatch,
    });
    const message = await read;
    await once(consumer, "heartbeat");
    await consumer.close();

    await transaction(cluster, message);
    await admin(API.DELETE_TOPICS, { topics: [{ name: TOPIC, topicId: null }], timeoutMs: 10_000 });
  } finally {
    await producer.close();
    await cluster.disconnect();
  }
}

/**
 * A transaction as a transactional producer runs it: it finds its coordinator, takes a producer
 * id, adds a partition, writes to it, commits the group's offset with it, and commits.
 */
async function transaction(cluster: Cluster, consumed: Required<Message>): Promise<void> {
  const {
    coordinators: [coordinator],
  } = await cluster.sendRequest(API.FIND_COORDINATOR, {
    keyType: TRANSACTION_KEY_TYPE,
    keys: [TRANSACTIONAL_ID],
  });
  const send = cluster.sendRequestToNode(coordinator!.nodeId);
  const { producerId, producerEpoch } = await send(API.INIT_PRODUCER_ID, {
    transactionalId: TRANSACTIONAL_ID,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  const producer = { transactionalId: TRANSACTIONAL_ID, producerId, producerEpoch };
  const topics = [{ name: TOPIC, partitions: [1] }];
  // Up to v3 a request adds one producer's partitions, from v4 a batch of transactions.
  await send(API.ADD_PARTITIONS_TO_TXN, {
    v3AndBelowTransactionalId: TRANSACTIONAL_ID,
    v3AndBelowProducerId: producerId,
    v3AndBelowProducerEpoch: producerEpoch,
    v3AndBelowTopics: topics,
    transactions: [{ ...producer, verifyOnly: false, topics }],
  });
  const now = BigInt(Date.now());
  await send(API.PRODUCE, {
    transactionalId: TRANSACTIONAL_ID,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [
      {
        name: TOPIC,
        topicId: "",
        partitionData: [
          {
            index: 1,
            baseOffset: 0n,
            partitionLeaderEpoch: -1,
            attributes: TRANSACTIONAL_BATCH,
            lastOffsetDelta: 0,
            baseTimestamp: now,
            maxTimestamp: now,
            producerId,
            producerEpoch,
            baseSequence: 0,
            records: [
              {
                attributes: 0,
                timestampDelta: 0n,
                offsetDelta: 0,
                key: null,
                value: "in a transaction",
                headers: [],
              },
            ],
          },
        ],
      },
    ],
  });
  await send(API.ADD_OFFSETS_TO_TXN, { ...producer, groupId: GROUP });
  await send(API.TXN_OFFSET_COMMIT, {
    ...producer,
    groupId: GROUP,
    topics: [
      {
        name: consumed.topic,
        partitions: [
          {
            partitionIndex: consumed.partition,
            committedOffset: consumed.offset + 1n,
            committedMetadata: null,
          },
        ],
      },
    ],
  });
  await send(API.END_TXN, { ...producer, committed: true });
}

const quiet = (): void => {};
setLogger({ debug: quiet, info: quiet, warn: quiet, error: console.error });

const lowest = floors();
const requests = new CapturedRequests();
for (const level of [undefined, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]) {
  console.log(`advertising ${level === undefined ? "every version" : `at most v${level}`}`);
  requests.add(await captureRun(level === undefined ? UNCLAMPED : atMost(level, lowest), session));
}
const file = writeFixture("kafka-ts-requests.json", {
  client: "kafka-ts 1.5.0",
  requests: requests.sorted(),
});
console.log(`kafka-ts: ${requests.summary()}\nwritten to ${file}`);
