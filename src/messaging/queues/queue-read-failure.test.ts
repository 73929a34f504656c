import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../../engine/index.js";
import { isSluiceError } from "../../errors/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import { queueWithDeadLetterQueue } from "./test-support/dead-letter-queue.js";
import { once } from "./test-support/once-reopened.js";
import { peekAll } from "./test-support/peek-all.js";

const DIR = "/data/queues";
const isIo = (e: unknown): boolean => isSluiceError(e, "SLUICE_IO");

async function setUp(): Promise<{
  fs: SimulatedFileSystem;
  clock: VirtualClock;
  service: EmbeddedQueueService;
}> {
  const fs = new SimulatedFileSystem(11);
  const clock = new VirtualClock();
  // No bodies kept in memory: every receive reads them from the queue's log.
  const service = await EmbeddedQueueService.open(DIR, { fs, clock, hotBodyBytes: 0 });
  return { fs, clock, service };
}

async function send(service: EmbeddedQueueService, QueueUrl: string, n: number): Promise<void> {
  await service.sendMessageBatch({
    QueueUrl,
    Entries: Array.from({ length: n }, (_, i) => ({ Id: `m${i}`, MessageBody: `body-${i}` })),
  });
}

/**
 * A receive reads the bodies it answers with from the queue's log. When the disk refuses that
 * read, the receive fails, and its messages must neither vanish nor wait out a visibility
 * timeout that no consumer ever started.
 */
describe("a queue whose log read fails", () => {
  it("fails the receive; its messages can be received again at once, bodies intact", async () => {
    const { fs, service } = await setUp();
    const { QueueUrl } = await service.createQueue({ QueueName: "jobs" });
    await send(service, QueueUrl, 3);
    fs.failNextReads(1, "/jobs.");
    await expect(
      service.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
    ).rejects.toSatisfy(isIo);
    const { Messages } = await service.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 });
    expect(Messages.map((m) => m.Body).sort()).toEqual(["body-0", "body-1", "body-2"]);
    await service.close();
  });

  it("loses nothing it was moving to the dead-letter queue", async () => {
    const { fs, clock, service: first } = await setUp();
    let service = first;
    const { dlq, QueueUrl } = await queueWithDeadLetterQueue(service);
    await send(service, QueueUrl, 3);
    const received = await service.receiveMessage({
      QueueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 1,
    });
    expect(received.Messages).toHaveLength(3);
    // Reopened, so that nothing read before is at hand in memory.
    await service.close();
    service = await EmbeddedQueueService.open(DIR, { fs, clock, hotBodyBytes: 0 });
    await clock.advance(2000);
    // This receive finds them past maxReceiveCount and moves them, reading their bodies.
    fs.failNextReads(1, "/jobs.");
    await service.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 }).catch(() => undefined);
    fs.clearFaults();
    // Wherever they are now, each is in one of the two queues, once, its body intact.
    const moved = await once(async () => {
      const left = await peekAll(service, QueueUrl);
      const dead = await peekAll(service, dlq.QueueUrl);
      return [...left, ...dead].map((m) => m.Body).sort();
    });
    expect(moved).toEqual(["body-0", "body-1", "body-2"]);
    await service.close();
  });

  it("fails a message move task, which moved nothing it could not read", async () => {
    const { fs, service } = await setUp();
    const { dlq, QueueUrl } = await queueWithDeadLetterQueue(service);
    await send(service, dlq.QueueUrl, 3);
    fs.failNextReads(1, "/jobs-dlq.");
    const { TaskHandle } = await service.startMessageMoveTask({
      SourceArn: "arn:aws:sqs:us-east-1:000000000000:jobs-dlq",
      DestinationArn: "arn:aws:sqs:us-east-1:000000000000:jobs",
    });
    expect(TaskHandle).toBeTruthy();
    let status = "RUNNING";
    for (let i = 0; i < 100 && status === "RUNNING"; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      const { Results } = await service.listMessageMoveTasks({
        SourceArn: "arn:aws:sqs:us-east-1:000000000000:jobs-dlq",
      });
      status = Results[0]!.Status;
    }
    expect(status).toBe("FAILED");
    const all = [...(await peekAll(service, dlq.QueueUrl)), ...(await peekAll(service, QueueUrl))];
    expect(all.map((m) => m.Body).sort()).toEqual(["body-0", "body-1", "body-2"]);
    await service.close();
  });
});
