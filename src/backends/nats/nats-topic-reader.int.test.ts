import { randomBytes } from "node:crypto";
import type { JetStreamClient } from "@nats-io/jetstream";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ConsumerRecord } from "../../messaging/topics/topic-consumer.js";
import { NatsTopicService } from "./nats-topic-service.js";
import { PartitionReader } from "./partition-reader.js";
import type { PartitionAddress } from "./partition-stream.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";

// A partition's reader is an ordered consumer, made on the servers when the reader starts. A
// loaded cluster can take seconds to make one (the queues' tails met that: their attempts gave
// up after 2 s and none ever succeeded). Here every reader takes 4 s to make, longer than a poll
// waits for records the stream has before it starts its reader again: the records must still
// come, rather than each new start abandoning the one about to succeed.
const SLOW_START_MS = 4000;

type Subscribe = (
  js: JetStreamClient,
  address: PartitionAddress,
  offset: number,
) => Promise<unknown>;
const readers = PartitionReader as unknown as { subscribe: Subscribe };

describeWithNats("NATS partition readers that take long to start", () => {
  let cluster: LoopbackNatsCluster;
  const original = readers.subscribe;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    readers.subscribe = original;
    await cluster?.stop();
  });

  it("a reader whose consumer takes 4 s to make still brings the records", async () => {
    const service = await NatsTopicService.open({
      servers: cluster.servers,
      namespace: `R${randomBytes(4).toString("hex")}`,
    });
    const consumer = service.consumer({ groupId: "g", autoOffsetReset: "earliest" });
    try {
      await service.admin.createTopic({ name: "slow", partitions: 1 });
      const producer = service.producer();
      await producer.sendBatch([0, 1, 2].map((i) => ({ topic: "slow", value: `${i}` })));
      await producer.close();
      readers.subscribe = async (js, address, offset) => {
        await new Promise((resolve) => setTimeout(resolve, SLOW_START_MS));
        return original(js, address, offset);
      };
      await consumer.subscribe(["slow"]);
      const read: ConsumerRecord[] = [];
      const deadline = Date.now() + 20_000;
      while (read.length < 3 && Date.now() < deadline)
        read.push(...(await consumer.poll({ timeoutMs: 500 })));
      expect(read.map((r) => r.value?.toString())).toEqual(["0", "1", "2"]);
    } finally {
      readers.subscribe = original;
      await consumer.close();
      await service.close();
    }
  });
});
