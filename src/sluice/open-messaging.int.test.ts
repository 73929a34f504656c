import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NatsQueueService } from "../backends/nats/nats-queue-service.js";
import { NatsTopicService } from "../backends/nats/nats-topic-service.js";
import type { LoopbackNatsCluster } from "../backends/nats/loopback-nats-cluster.js";
import { startTestCluster } from "../backends/nats/test-support/nats-cluster.js";
import { isSluiceError } from "../errors/index.js";
import { open } from "./open.js";
import { describeWithNats } from "../backends/nats/test-support/describe-with-nats.js";

// `open(dir, { messaging })`: queues and topics on NATS JetStream, shared by two Sluices on two
// data directories; the event store stays in the directory.
const root = mkdtempSync(join(tmpdir(), "sluice-messaging-"));
let cluster: LoopbackNatsCluster | undefined;

describeWithNats("open(dir, { messaging })", () => {
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("puts queues and topics on NATS, shared by two data directories; the rest stays local", async () => {
    const options = { messaging: cluster!.servers, nats: { namespace: "OPEN1" } };
    const a = await open(join(root, "a"), options);
    const b = await open(join(root, "b"), options);
    try {
      expect(a.queues).toBeInstanceOf(NatsQueueService);
      expect(a.topics).toBeInstanceOf(NatsTopicService);
      const { QueueUrl } = await a.queues.createQueue({ QueueName: "jobs" });
      await a.queues.sendMessage({ QueueUrl, MessageBody: "from a" });
      // b learns of the queue from the catalog bucket's watch, a moment later.
      for (let i = 0; i < 100; i++) {
        const found = await (async () => b.queues.getQueueUrl({ QueueName: "jobs" }))().catch(
          () => undefined,
        );
        if (found !== undefined) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const got = await b.queues.receiveMessage({ QueueUrl, WaitTimeSeconds: 5 });
      expect(got.Messages?.map((m) => m.Body)).toEqual(["from a"]);

      await a.topics.admin.createTopic({ name: "events", partitions: 2 });
      const producer = a.topics.producer();
      const sent = await producer.send({ topic: "events", partition: 1, value: "r0" });
      await producer.close();
      const consumer = b.topics.consumer();
      await consumer.assign([{ topic: "events", partition: 1 }]);
      consumer.seek({ topic: "events", partition: 1 }, sent.offset);
      const records = await consumer.poll({ timeoutMs: 5000 });
      expect(records.map((r) => r.value?.toString())).toEqual(["r0"]);
      await consumer.close();

      // The event store is the directory's own: b does not see a's stream.
      await a.eventStore.appendToStream("s-1", [{ type: "t", data: {} }]);
      expect((await b.eventStore.listStreams()).map((s) => s.stream)).not.toContain("s-1");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("refuses a messaging value that names no NATS server, naming the field", async () => {
    const error = await open(join(root, "c"), { messaging: "http://x:1" }).catch((e: unknown) => e);
    expect(isSluiceError(error, "SLUICE_VALIDATION")).toBe(true);
    expect((error as { field?: string }).field).toBe("messaging");
  });
});
