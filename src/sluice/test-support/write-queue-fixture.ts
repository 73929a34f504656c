/**
 * Writes the queue fixture with the queue service of this release, so later releases can
 * prove they open it unchanged. Run once: `npx tsx src/sluice/test-support/write-queue-fixture.ts <dir>`.
 */
import { EmbeddedQueueService } from "../../messaging/queues/index.js";
import { VirtualClock } from "../../time/virtual-clock.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: write-queue-fixture.ts <dir>");
const clock = new VirtualClock(Date.UTC(2026, 11, 1));
const sqs = await EmbeddedQueueService.open(dir, { clock, fsync: "always" });
const { QueueUrl: jobs } = await sqs.createQueue({
  QueueName: "jobs",
  Attributes: { VisibilityTimeout: "60" },
});
const { QueueUrl: fifo } = await sqs.createQueue({
  QueueName: "orders.fifo",
  Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
});
for (let i = 0; i < 5; i++) await sqs.sendMessage({ QueueUrl: jobs, MessageBody: `job-${i}` });
for (let i = 0; i < 3; i++)
  await sqs.sendMessage({
    QueueUrl: fifo,
    MessageBody: `order-${i}`,
    MessageGroupId: "customer-1",
  });
// One received and deleted, so the journal holds a delete too.
const { Messages } = await sqs.receiveMessage({ QueueUrl: jobs, MaxNumberOfMessages: 1 });
await sqs.deleteMessage({ QueueUrl: jobs, ReceiptHandle: Messages[0]!.ReceiptHandle });
await sqs.close();
