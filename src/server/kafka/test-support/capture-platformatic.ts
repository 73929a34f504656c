// Records the requests @platformatic/kafka sends (the first of each API and version) as fixtures
// for the codec test: one run as served, then runs advertising at most v12, v11, … v1 of every
// API (never below the lowest version platformatic implements of it), so that it picks each
// lower version it knows in turn (test-support/capture-harness.ts):
//   npx tsx src/server/kafka/test-support/capture-platformatic.ts
import * as platformatic from "@platformatic/kafka";
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import {
  CapturedRequests,
  type Ceiling,
  UNCLAMPED,
  atMost,
  captureRun,
  writeFixture,
} from "./capture-harness.js";

const TOPIC = "captured";
const GROUP = "capture-group";
const TOPIC_CONFIG = 2;

/**
 * The lowest version platformatic implements of each API, by key: it exports an implementation
 * per version (produceV7, produceV8, …) and gives up on an API whose advertised versions it
 * has none of.
 */
function floors(): Map<number, number> {
  const exported = platformatic as unknown as Record<string, unknown>;
  const lowest = new Map<number, number>();
  for (const [key, name] of Object.entries(platformatic.protocolAPIsById)) {
    const prefix = name[0]!.toLowerCase() + name.slice(1);
    for (let version = 0; version < 20 && !lowest.has(Number(key)); version++)
      if (exported[`${prefix}V${version}`] !== undefined) lowest.set(Number(key), version);
  }
  return lowest;
}

/** platformatic's admin, idempotent producer, consumer group and transactional producer. */
async function session(bootstrap: string): Promise<void> {
  const bootstrapBrokers = [bootstrap];
  const admin = new Admin({ clientId: "capture", bootstrapBrokers });
  const producer = new Producer({
    clientId: "capture",
    bootstrapBrokers,
    idempotent: true,
    serializers: stringSerializers,
  });
  const consumer = new Consumer({
    clientId: "capture",
    groupId: GROUP,
    bootstrapBrokers,
    deserializers: stringDeserializers,
    autocommit: false,
    sessionTimeout: 10_000,
    heartbeatInterval: 100,
  });
  const transactional = new Producer({
    clientId: "capture",
    bootstrapBrokers,
    idempotent: true,
    transactionalId: "capture-txn",
    serializers: stringSerializers,
  });
  try {
    await admin.createTopics({ topics: [TOPIC], partitions: 2, replicas: 1 });
    await admin.createPartitions({ topics: [{ name: TOPIC, count: 3, assignments: [] }] });
    await admin.describeConfigs({
      resources: [
        { resourceType: TOPIC_CONFIG, resourceName: TOPIC, configurationKeys: ["retention.ms"] },
      ],
    });
    await admin.alterConfigs({
      resources: [
        {
          resourceType: TOPIC_CONFIG,
          resourceName: TOPIC,
          configs: [{ name: "retention.ms", value: "60000" }],
        },
      ],
    });
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: TOPIC_CONFIG,
          resourceName: TOPIC,
          configs: [{ name: "retention.ms", configOperation: 0, value: "120000" }],
        },
      ],
    });
    await producer.send({ messages: [{ topic: TOPIC, key: "k", value: "v", partition: 0 }] });
    await admin.listOffsets({
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
    });

    // A member reads the record, commits it, and heartbeats meanwhile.
    const stream = await consumer.consume({
      topics: [TOPIC],
      mode: MessagesStreamModes.EARLIEST,
      maxWaitTime: 100,
    });
    let message: platformatic.Message<string, string, string, string> | undefined;
    for await (const read of stream) {
      message = read;
      break;
    }
    await message!.commit();
    await new Promise((r) => setTimeout(r, 500));
    // Exactly once: a transaction writes and commits the group's offset with it.
    const txn = await transactional.beginTransaction();
    await txn.send({ messages: [{ topic: TOPIC, value: "in a transaction", partition: 1 }] });
    await txn.addConsumer(consumer);
    await txn.addOffset(message!);
    await txn.commit();
    await stream.close();
    await consumer.close();

    await admin.listGroups();
    await admin.describeGroups({ groups: [GROUP] });
    await admin.findCoordinator({ keyType: 0, keys: [GROUP] });
    await admin.listConsumerGroupOffsets({ groups: [GROUP] });
    await admin.deleteGroups({ groups: [GROUP] });
    await admin.deleteRecords({
      topics: [{ name: TOPIC, partitions: [{ partition: 0, offset: 1n }] }],
    });
    await admin.deleteTopics({ topics: [TOPIC] });
  } finally {
    await transactional.close();
    await consumer.close();
    await producer.close();
    await admin.close();
  }
}

const FETCH = 1;
const METADATA = 3;
const DESCRIBE_CONFIGS = 32;
/**
 * Versions platformatic writes wrong, which the runs skip (advertising the next one up):
 * Metadata v11 still carries include_cluster_authorized_operations (gone since v11), so the
 * request does not decode and the listener closes the connection, as Kafka would; DescribeConfigs
 * v2 is v3's layout (include_documentation in the request, config_type and documentation read
 * from the answer), so the request has a byte too many and the answer does not parse.
 */
const WRITTEN_WRONG = new Map([
  [METADATA, 11],
  [DESCRIBE_CONFIGS, 2],
]);

/**
 * At most `level` of every API, as far as platformatic can go on. It reads topics by id once
 * Metadata gives ids (v10 on), by name before; but its Fetch v12 puts an id where v12 has the
 * name, and its Fetch v13 without an id is malformed. So Fetch v12 goes with Metadata v9, and
 * Metadata v10 on with Fetch v13.
 */
function ceilingAt(level: number, lowest: Map<number, number>): Ceiling {
  const ceiling = atMost(level, lowest);
  const top = (key: number): number => {
    const version = ceiling(key)!;
    return WRITTEN_WRONG.get(key) === version ? version + 1 : version;
  };
  return (key) => (key === FETCH && top(METADATA) >= 10 ? Math.max(13, top(key)) : top(key));
}

const lowest = floors();
const requests = new CapturedRequests();
for (const level of [undefined, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]) {
  console.log(`advertising ${level === undefined ? "every version" : `at most v${level}`}`);
  requests.add(
    await captureRun(level === undefined ? UNCLAMPED : ceilingAt(level, lowest), session),
  );
}
const file = writeFixture("platformatic-requests.json", {
  client: "@platformatic/kafka 1.35.0",
  requests: requests.sorted(),
});
console.log(`@platformatic/kafka: ${requests.summary()}\nwritten to ${file}`);
