import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MetricsRegistry } from "../../observability/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";

describe("queue metrics", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("counts sends, receives, deletes and dead letters, and gauges the depth per queue", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-qm-"));
    dirs.push(dir);
    const metrics = new MetricsRegistry();
    const clock = new VirtualClock();
    const service = await EmbeddedQueueService.open(dir, { clock, fsync: "never", metrics });
    const dlq = await service.createQueue({ QueueName: "dlq" });
    const { QueueUrl } = await service.createQueue({
      QueueName: "work",
      Attributes: {
        VisibilityTimeout: "10",
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:dlq",
          maxReceiveCount: 1,
        }),
      },
    });
    await service.sendMessageBatch({
      QueueUrl,
      Entries: ["a", "b", "c", "d"].map((b) => ({ Id: b, MessageBody: b })),
    });
    await service.sendMessage({ QueueUrl, MessageBody: "late", DelaySeconds: 60 });
    const { Messages } = await service.receiveMessage({ QueueUrl, MaxNumberOfMessages: 3 });
    await service.deleteMessage({ QueueUrl, ReceiptHandle: Messages[0]!.ReceiptHandle });
    const value = (name: string, queue = "work"): number | undefined => {
      const sample = metrics.collect().find((m) => m.name === name && m.labels.queue === queue);
      return sample === undefined || sample.kind === "histogram" ? undefined : sample.value;
    };
    expect(value("sluice_queue_messages_sent_total")).toBe(5);
    expect(value("sluice_queue_messages_received_total")).toBe(3);
    expect(value("sluice_queue_messages_deleted_total")).toBe(1);
    expect(value("sluice_queue_messages_visible")).toBe(1);
    expect(value("sluice_queue_messages_inflight")).toBe(2);
    expect(value("sluice_queue_messages_delayed")).toBe(1);

    await clock.advance(11_000); // the two in flight come back, already received once
    await service.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 });
    expect(value("sluice_queue_messages_dead_lettered_total")).toBe(2);
    await service.getQueueAttributes({ QueueUrl: dlq.QueueUrl });
    expect(value("sluice_queue_messages_sent_total", "dlq")).toBe(2);
    await service.close();
  });
});
