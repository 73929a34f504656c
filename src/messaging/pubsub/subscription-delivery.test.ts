import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EmbeddedQueueService } from "../queues/index.js";
import { EmbeddedPubSubService } from "./embedded-pubsub-service.js";

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function open(): Promise<{ queues: EmbeddedQueueService; pubsub: EmbeddedPubSubService }> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-delivery-"));
  dirs.push(dir);
  const queues = await EmbeddedQueueService.open(join(dir, "q"), { fsync: "never" });
  const pubsub = await EmbeddedPubSubService.open(join(dir, "p"), { queues, fsync: "never" });
  return { queues, pubsub };
}

describe("queue subscriptions", () => {
  it("while publishers keep publishing, a bulk send to the queue carries several publishing turns", async () => {
    const { queues, pubsub } = await open();
    const sizes: number[] = [];
    const bulk = queues.sendMessagesInBulk.bind(queues);
    queues.sendMessagesInBulk = (url, entries) => {
      sizes.push(entries.length);
      return bulk(url, entries);
    };
    const { TopicArn } = await pubsub.createTopic({ Name: "t" });
    const { QueueUrl } = await queues.createQueue({ QueueName: "q" });
    await pubsub.subscribe({
      TopicArn,
      Protocol: "sqs",
      Endpoint: "arn:aws:sqs:us-east-1:000000000000:q",
      Attributes: { RawMessageDelivery: "true" },
    });
    // Four publishers of 10 messages a call: one turn's appends carry 40 messages.
    const publisher = async (p: number): Promise<void> => {
      for (let round = 0; round < 25; round++)
        await pubsub.publishBatch({
          TopicArn,
          PublishBatchRequestEntries: Array.from({ length: 10 }, (_, k) => ({
            Id: `m${k}`,
            Message: `${p}-${round}-${k}`,
          })),
        });
    };
    await Promise.all([0, 1, 2, 3].map(publisher));
    for (;;) {
      const { Attributes } = await queues.getQueueAttributes({
        QueueUrl,
        AttributeNames: ["ApproximateNumberOfMessages"],
      });
      if (Attributes.ApproximateNumberOfMessages === "1000") break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Math.max(...sizes)).toBeGreaterThan(80);
    // A lone message after publishing stopped is delivered without waiting for more (a wait
    // would last until the test times out).
    await pubsub.publish({ TopicArn, Message: "last" });
    for (;;) {
      const { Attributes } = await queues.getQueueAttributes({
        QueueUrl,
        AttributeNames: ["ApproximateNumberOfMessages"],
      });
      if (Attributes.ApproximateNumberOfMessages === "1001") break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(sizes.at(-1)).toBe(1);
    await pubsub.close();
    await queues.close();
  });
});
