import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../../engine/index.js";
import { isSluiceError } from "../../errors/index.js";
import { MetricsRegistry } from "../../observability/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import { queueWithDeadLetterQueue } from "./test-support/dead-letter-queue.js";
import { once } from "./test-support/once-reopened.js";
import { peekAll } from "./test-support/peek-all.js";

const DIR = "/data/queues";

interface Setup {
  readonly fs: SimulatedFileSystem;
  readonly clock: VirtualClock;
  readonly open: () => Promise<EmbeddedQueueService>;
}

function setup(fsync: "always" | "never"): Setup {
  const fs = new SimulatedFileSystem(7);
  const clock = new VirtualClock();
  const metrics = new MetricsRegistry();
  return {
    fs,
    clock,
    open: () => EmbeddedQueueService.open(DIR, { fs, clock, fsync, metrics }),
  };
}

async function bodies(service: EmbeddedQueueService, QueueUrl: string): Promise<string[]> {
  return (await once(() => peekAll(service, QueueUrl))).map((m) => m.Body).sort();
}

const BIG = "x".repeat(100_000);

/**
 * A queue applies a change in memory, then appends it to its log. When the append fails (a full
 * disk, an I/O error, a failed fsync) the queue stops and is reopened from its log: nothing the
 * failed call did may be seen, and the queue goes on taking calls once the disk allows.
 */
describe("a queue whose log append fails", () => {
  it("never delivers a send the disk refused, and takes calls again once there is room", async () => {
    const { fs, open } = setup("never");
    const service = await open();
    const { QueueUrl } = await service.createQueue({ QueueName: "jobs" });
    await service.sendMessage({ QueueUrl, MessageBody: "before" });
    fs.capacityBytes = fs.usedBytes() + 2000;
    const refused = service.sendMessage({ QueueUrl, MessageBody: BIG });
    // A receive in the same turn shares the failed write: it must not hand out the message.
    const sameTurn = service.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 });
    await expect(refused).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_IO"));
    const seen = await sameTurn.then(
      (r) => r.Messages.map((m) => m.Body),
      () => [],
    );
    expect(seen).not.toContain(BIG);
    fs.capacityBytes = Number.POSITIVE_INFINITY;

    expect(await bodies(service, QueueUrl)).toEqual(["before"]);
    await once(() => service.sendMessage({ QueueUrl, MessageBody: "after" }));
    expect(await bodies(service, QueueUrl)).toEqual(["after", "before"]);
    const { Attributes } = await service.getQueueAttributes({
      QueueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    });
    expect(
      Number(Attributes.ApproximateNumberOfMessages) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    ).toBe(2);
    await service.close();

    const reopened = await open();
    expect(await bodies(reopened, QueueUrl)).toEqual(["after", "before"]);
    await reopened.close();
  });

  it("after a failed fsync shows only what was acknowledged, before and after a crash", async () => {
    const { fs, open } = setup("always");
    let service = await open();
    const { QueueUrl } = await service.createQueue({ QueueName: "jobs" });
    await service.sendMessage({ QueueUrl, MessageBody: "kept" });
    fs.failNextSyncs(1);
    await expect(service.sendMessage({ QueueUrl, MessageBody: "lost" })).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_IO"),
    );
    expect(await bodies(service, QueueUrl)).toEqual(["kept"]);
    await once(() => service.sendMessage({ QueueUrl, MessageBody: "later" }));
    const { Messages } = await once(() =>
      service.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages.map((m) => m.Body).sort()).toEqual(["kept", "later"]);
    await service.deleteMessage({ QueueUrl, ReceiptHandle: Messages[0]!.ReceiptHandle });

    fs.crash();
    service.kill();
    service = await open();
    expect(await bodies(service, QueueUrl)).toEqual([Messages[1]!.Body]);
    await service.close();
  });

  it("lets a waiting long poll go on in the reopened queue, never handing it the refused send", async () => {
    const { fs, clock, open } = setup("never");
    const service = await open();
    const { QueueUrl } = await service.createQueue({ QueueName: "jobs" });
    const poll = service.receiveMessage({ QueueUrl, WaitTimeSeconds: 20 });
    await clock.advance(1000);
    fs.capacityBytes = fs.usedBytes() + 2000;
    await expect(service.sendMessage({ QueueUrl, MessageBody: BIG })).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_IO"),
    );
    fs.capacityBytes = Number.POSITIVE_INFINITY;
    await clock.advance(1000);
    await once(() => service.sendMessage({ QueueUrl, MessageBody: "after" }));
    const { Messages } = await poll;
    expect(Messages.map((m) => m.Body)).toEqual(["after"]);
    await service.close();
  });

  it("keeps a message whose move to the dead-letter queue failed, and moves it once it can", async () => {
    const { fs, open } = setup("never");
    let service = await open();
    const { dlq, QueueUrl } = await queueWithDeadLetterQueue(service);
    await service.sendMessage({ QueueUrl, MessageBody: "poison" });
    const first = await service.receiveMessage({ QueueUrl, VisibilityTimeout: 0 });
    expect(first.Messages.map((m) => m.Body)).toEqual(["poison"]);
    // The next receive moves it to the dead-letter queue, whose write fails.
    fs.tearNextWrite(10, "/jobs-dlq.");
    const second = await service
      .receiveMessage({ QueueUrl })
      .then((r) => r.Messages.map((m) => m.Body))
      .catch(() => []);
    expect(second).toEqual([]);
    // The move's write is made at the end of the turn (a peek does not wait for writes).
    await new Promise((resolve) => setImmediate(resolve));
    expect(await bodies(service, dlq.QueueUrl)).toEqual([]);
    expect(await bodies(service, QueueUrl)).toEqual(["poison"]);

    // Once the disk takes writes, the next receive moves it.
    const third = await once(() => service.receiveMessage({ QueueUrl }));
    expect(third.Messages).toEqual([]);
    expect(await bodies(service, dlq.QueueUrl)).toEqual(["poison"]);
    expect(await bodies(service, QueueUrl)).toEqual([]);
    await service.close();
    service = await open();
    expect(await bodies(service, dlq.QueueUrl)).toEqual(["poison"]);
    expect(await bodies(service, QueueUrl)).toEqual([]);
    await service.close();
  });

  it("fails a move task whose destination refused a write, keeping its messages in the source", async () => {
    const { fs, clock, open } = setup("never");
    const service = await open();
    const source = await service.createQueue({ QueueName: "parked" });
    await service.createQueue({
      QueueName: "origin",
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:parked",
          maxReceiveCount: 1,
        }),
      },
    });
    const target = await service.createQueue({ QueueName: "target" });
    await service.sendMessageBatch({
      QueueUrl: source.QueueUrl,
      Entries: ["a", "b", "c"].map((body) => ({ Id: body, MessageBody: body })),
    });
    fs.tearNextWrite(10, "/target.");
    const SourceArn = "arn:aws:sqs:us-east-1:000000000000:parked";
    await service.startMessageMoveTask({
      SourceArn,
      DestinationArn: "arn:aws:sqs:us-east-1:000000000000:target",
      MaxNumberOfMessagesPerSecond: 10,
    });
    for (let i = 0; i < 8; i++) await clock.advance(250);
    const { Results } = await service.listMessageMoveTasks({ SourceArn });
    expect(Results[0]).toMatchObject({ Status: "FAILED" });
    expect(Results[0]!.FailureReason).toMatch(/simulated EIO/);
    expect(await bodies(service, target.QueueUrl)).toEqual([]);
    expect(await bodies(service, source.QueueUrl)).toEqual(["a", "b", "c"]);
    await service.close();
  });
});
