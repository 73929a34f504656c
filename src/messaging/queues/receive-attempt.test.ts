import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";

// Backend-specific: the embedded queue journals ReceiveRequestAttemptIds with its receives.
describe("FIFO receive attempts across a restart", () => {
  const dirs: string[] = [];
  const services: EmbeddedQueueService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function open(dir: string, clock: VirtualClock): Promise<EmbeddedQueueService> {
    const service = await EmbeddedQueueService.open(dir, {
      clock,
      fsync: "never",
      segmentBytes: 4096,
      compactionIntervalMs: 1000,
    });
    services.push(service);
    return service;
  }

  async function reopen(
    service: EmbeddedQueueService,
    dir: string,
    clock: VirtualClock,
  ): Promise<EmbeddedQueueService> {
    await service.close();
    services.splice(services.indexOf(service), 1);
    return open(dir, clock);
  }

  async function setUp(): Promise<{
    dir: string;
    clock: VirtualClock;
    service: EmbeddedQueueService;
    QueueUrl: string;
  }> {
    const dir = mkdtempSync(join(tmpdir(), "sluice-qa-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    const service = await open(dir, clock);
    const { QueueUrl } = await service.createQueue({
      QueueName: "q.fifo",
      Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
    });
    for (const body of ["a", "b", "c"])
      await service.sendMessage({ QueueUrl, MessageBody: body, MessageGroupId: "g" });
    return { dir, clock, service, QueueUrl };
  }

  const receive = (service: EmbeddedQueueService, QueueUrl: string) =>
    service.receiveMessage({
      QueueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 30,
      ReceiveRequestAttemptId: "attempt-1",
    });

  // A visibility timeout longer than the attempt window, so the messages are still in flight.
  const receiveLong = (service: EmbeddedQueueService, QueueUrl: string) =>
    service.receiveMessage({
      QueueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 200,
      ReceiveRequestAttemptId: "attempt-1",
    });

  it("a retry after a restart returns the same messages and receipt handles, and resets visibility", async () => {
    const setup = await setUp();
    const { dir, clock, QueueUrl } = setup;
    const first = await receive(setup.service, QueueUrl);
    expect(first.Messages.map((m) => m.Body)).toEqual(["a", "b", "c"]);
    const service = await reopen(setup.service, dir, clock);
    await clock.advance(20_000);
    const retry = await receive(service, QueueUrl);
    expect(retry.Messages.map((m) => [m.MessageId, m.ReceiptHandle])).toEqual(
      first.Messages.map((m) => [m.MessageId, m.ReceiptHandle]),
    );
    // Reset at 20 s to 30 s more: still invisible at 45 s, when the first deadline has passed.
    await clock.advance(25_000);
    expect((await service.receiveMessage({ QueueUrl })).Messages).toEqual([]);
    for (const m of retry.Messages)
      await service.deleteMessage({ QueueUrl, ReceiptHandle: m.ReceiptHandle });
    await clock.advance(60_000);
    expect((await service.receiveMessage({ QueueUrl })).Messages).toEqual([]);
  });

  it("survives compaction of the receive's record and a restart", async () => {
    const setup = await setUp();
    const { dir, clock, QueueUrl } = setup;
    let service = setup.service;
    const first = await receive(service, QueueUrl);
    // Traffic in other groups rolls segments past the receive's record; compaction drops it.
    for (let i = 0; i < 300; i++) {
      await service.sendMessage({
        QueueUrl,
        MessageBody: `x${i}-${"y".repeat(80)}`,
        MessageGroupId: "h",
      });
      const { Messages } = await service.receiveMessage({ QueueUrl });
      await service.deleteMessage({ QueueUrl, ReceiptHandle: Messages[0]!.ReceiptHandle });
    }
    const queueDir = join(dir, "queues", readdirSync(join(dir, "queues"))[0]!);
    const firstSegment = (): string =>
      readdirSync(queueDir)
        .filter((f) => f.endsWith(".log"))
        .sort()[0]!;
    const before = firstSegment();
    await clock.advance(2000);
    await vi.waitFor(() => expect(firstSegment()).not.toBe(before), { timeout: 10_000 });
    service = await reopen(service, dir, clock);
    const retry = await receive(service, QueueUrl);
    expect(retry.Messages.map((m) => [m.MessageId, m.ReceiptHandle])).toEqual(
      first.Messages.map((m) => [m.MessageId, m.ReceiptHandle]),
    );
  }, 60_000);

  it("a visibility change by another caller before the restart ends the attempt", async () => {
    const setup = await setUp();
    const { dir, clock, QueueUrl } = setup;
    const first = await receive(setup.service, QueueUrl);
    await setup.service.changeMessageVisibility({
      QueueUrl,
      ReceiptHandle: first.Messages[0]!.ReceiptHandle,
      VisibilityTimeout: 100,
    });
    const service = await reopen(setup.service, dir, clock);
    // Not repeated: a new receive, which finds the group blocked by its in-flight head.
    expect((await receive(service, QueueUrl)).Messages).toEqual([]);
  });

  it("forgets an attempt five minutes after its receive, restart or not", async () => {
    const setup = await setUp();
    const { dir, clock, QueueUrl } = setup;
    const first = await receiveLong(setup.service, QueueUrl);
    await clock.advance(5 * 60_000);
    const service = await reopen(setup.service, dir, clock);
    const retry = await receiveLong(service, QueueUrl);
    expect(retry.Messages.map((m) => m.MessageId)).toEqual(first.Messages.map((m) => m.MessageId));
    expect(retry.Messages[0]!.ReceiptHandle).not.toBe(first.Messages[0]!.ReceiptHandle);
  });
});
