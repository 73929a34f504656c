// Records the requests kafkajs sends (the first of each API and version) as fixtures for the
// codec test: one run as served, then runs advertising at most v10, v9, … v0 of every API, so
// that kafkajs negotiates each lower version it knows in turn (test-support/capture-harness.ts):
//   npx tsx src/server/kafka/test-support/capture-kafkajs.ts
import { Kafka, logLevel } from "kafkajs";
import {
  CapturedRequests,
  UNCLAMPED,
  atMost,
  captureRun,
  writeFixture,
} from "./capture-harness.js";

/** kafkajs's admin, producer, consumer group and transactional producer, each API at least once. */
async function session(bootstrap: string): Promise<void> {
  const kafka = new Kafka({
    clientId: "capture",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "captured", numPartitions: 2 }] });
  await admin.createPartitions({ topicPartitions: [{ topic: "captured", count: 3 }] });
  await admin.describeConfigs({
    resources: [{ type: 2, name: "captured" }],
    includeSynonyms: false,
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: "captured",
    messages: [{ key: "k", value: "v", headers: { h: "1" } }],
  });
  await admin.fetchTopicOffsets("captured");
  await admin.fetchTopicOffsetsByTimestamp("captured", Date.now() - 60_000);
  const consumer = kafka.consumer({
    groupId: "capture-group",
    maxWaitTimeInMs: 100,
    heartbeatInterval: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: "captured", fromBeginning: true });
  let got = 0;
  await consumer.run({ eachMessage: () => Promise.resolve(void got++) });
  while (got < 1) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  const transactional = kafka.producer({ transactionalId: "capture-txn", maxInFlightRequests: 1 });
  await transactional.connect();
  const txn = await transactional.transaction();
  await txn.send({ topic: "captured", messages: [{ value: "in a transaction" }] });
  await txn.sendOffsets({
    consumerGroupId: "capture-group",
    topics: [{ topic: "captured", partitions: [{ partition: 0, offset: "1" }] }],
  });
  await txn.commit();
  await transactional.disconnect();
  await admin.describeGroups(["capture-group"]);
  await admin.listGroups();
  await admin.fetchOffsets({ groupId: "capture-group", topics: ["captured"] });
  await admin.deleteGroups(["capture-group"]);
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      { type: 2, name: "captured", configEntries: [{ name: "retention.ms", value: "60000" }] },
    ],
  });
  await admin.deleteTopicRecords({
    topic: "captured",
    partitions: [{ partition: 0, offset: "-1" }],
  });
  await admin.deleteTopics({ topics: ["captured"] });
  await producer.disconnect();
  await admin.disconnect();
}

/**
 * Below these versions kafkajs cannot go on: it implements OffsetFetch from v1, and its admin
 * finds the controller in Metadata v1 onwards.
 */
const FLOORS: [number, number][] = [
  [3, 1],
  [9, 1],
];
/**
 * OffsetCommit v0 names no member nor generation: the listener refuses it from a group member
 * (UNKNOWN_MEMBER_ID) and kafkajs rejoins again and again, never getting to a heartbeat. So the
 * runs stay at OffsetCommit v1, and one more run, at v0 of OffsetCommit too, sends it.
 */
const OFFSET_COMMIT_V1: [number, number] = [8, 1];

const requests = new CapturedRequests();
// kafkajs 2.2.4 knows Fetch up to v11, every other API below v10.
for (const level of [undefined, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]) {
  console.log(`advertising ${level === undefined ? "every version" : `at most v${level}`}`);
  const ceiling =
    level === undefined ? UNCLAMPED : atMost(level, new Map([...FLOORS, OFFSET_COMMIT_V1]));
  requests.add(await captureRun(ceiling, session));
}
console.log("advertising at most v0, OffsetCommit too");
requests.add(await captureRun(atMost(0, new Map(FLOORS)), session));
const file = writeFixture("kafkajs-requests.json", {
  client: "kafkajs 2.2.4",
  requests: requests.sorted(),
});
console.log(`kafkajs: ${requests.summary()}\nwritten to ${file}`);
