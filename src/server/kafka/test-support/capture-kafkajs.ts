// Records the requests kafkajs sends (the first of each API and version) through a relaying
// socket, as fixtures for the codec test:
//   npx tsx src/server/kafka/test-support/capture-kafkajs.ts
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { KafkaServer } from "../kafka-server.js";
import { FrameDecoder } from "../protocol/frame-decoder.js";
import { EmbeddedTopicService } from "../../../messaging/topics/embedded-topic-service.js";
import { embeddedKafkaBackend } from "../embedded-kafka-backend.js";

const captured = new Map<string, { apiKey: number; apiVersion: number; hex: string }>();
let upstreamPort = 0;
const relay = createServer((client) => {
  const upstream = connect(upstreamPort, "127.0.0.1");
  const frames = new FrameDecoder();
  client.on("data", (chunk: Buffer) => {
    for (const frame of frames.push(chunk)) {
      const apiKey = frame.readInt16BE(0);
      const apiVersion = frame.readInt16BE(2);
      const key = `${apiKey}/${apiVersion}`;
      if (!captured.has(key)) captured.set(key, { apiKey, apiVersion, hex: frame.toString("hex") });
    }
    upstream.write(chunk);
  });
  upstream.on("data", (chunk: Buffer) => client.write(chunk));
  client.on("close", () => upstream.destroy());
  upstream.on("close", () => client.destroy());
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
});
await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
const relayPort = (relay.address() as AddressInfo).port;
// Embedded topics, so that transactions are served too.
const dir = mkdtempSync(join(tmpdir(), "sluice-capture-"));
const topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
const server = await KafkaServer.listen({
  backend: embeddedKafkaBackend(topics),
  port: 0,
  advertisedPort: relayPort,
});
upstreamPort = server.port;

const kafka = new Kafka({
  clientId: "capture",
  brokers: [`127.0.0.1:${relayPort}`],
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: "captured", numPartitions: 2 }] });
await admin.createPartitions({ topicPartitions: [{ topic: "captured", count: 3 }] });
await admin.describeConfigs({ resources: [{ type: 2, name: "captured" }], includeSynonyms: false });
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
await admin.deleteTopicRecords({ topic: "captured", partitions: [{ partition: 0, offset: "-1" }] });
await admin.deleteTopics({ topics: ["captured"] });
await producer.disconnect();
await admin.disconnect();
await server.close();
await topics.close();
rmSync(dir, { recursive: true, force: true });
relay.close();

const out = [...captured.values()].sort(
  (a, b) => a.apiKey - b.apiKey || a.apiVersion - b.apiVersion,
);
const file = fileURLToPath(new URL("./kafkajs-requests.json", import.meta.url));
writeFileSync(file, JSON.stringify({ client: "kafkajs 2.2.4", requests: out }, null, 2) + "\n");
console.log(`captured ${out.length} requests to ${file}`);
