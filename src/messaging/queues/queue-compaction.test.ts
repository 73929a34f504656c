import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";

// Backend-specific: how the embedded queue keeps its log from growing without bound.
describe("embedded queue log compaction", () => {
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

  /** A service on a fresh directory and virtual clock, with one queue created in it. */
  async function withQueue(name: string, attributes: Record<string, string> = {}) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-qc-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    const service = await open(dir, clock);
    const { QueueUrl } = await service.createQueue({ QueueName: name, Attributes: attributes });
    return { dir, clock, service, QueueUrl };
  }

  function segmentFiles(dir: string): string[] {
    const queueDir = readdirSync(join(dir, "queues"))[0]!;
    return readdirSync(join(dir, "queues", queueDir)).filter((f) => f.endsWith(".log"));
  }

  // Compaction runs on the virtual clock's timer but does real disk I/O: wait for it. A pass
  // arms the next one only when its last unlink is done, which on a busy disk can come after
  // the file count dropped and the test moved the clock on: time keeps moving while waiting.
  async function compacted(dir: string, clock: VirtualClock, below = 4): Promise<void> {
    await vi.waitFor(
      async () => {
        await clock.advance(100);
        expect(segmentFiles(dir).length).toBeLessThan(below);
      },
      { timeout: 15_000 },
    );
  }

  async function fill(
    service: EmbeddedQueueService,
    url: string,
    count: number,
    prefix: string,
  ): Promise<void> {
    for (let i = 0; i < count; i += 10)
      await service.sendMessageBatch({
        QueueUrl: url,
        Entries: Array.from({ length: Math.min(10, count - i) }, (_, j) => ({
          Id: `e${j}`,
          MessageBody: `${prefix}-${i + j}-${"x".repeat(80)}`,
        })),
      });
  }

  async function drain(service: EmbeddedQueueService, url: string): Promise<string[]> {
    const bodies: string[] = [];
    for (;;) {
      const { Messages } = await service.receiveMessage({ QueueUrl: url, MaxNumberOfMessages: 10 });
      if (Messages.length === 0) return bodies;
      bodies.push(...Messages.map((m) => m.Body));
      await service.deleteMessageBatch({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      });
    }
  }

  it("drops the segments of consumed messages", async () => {
    const { dir, clock, service, QueueUrl } = await withQueue("q");
    await fill(service, QueueUrl, 500, "a");
    const before = segmentFiles(dir).length;
    expect(before).toBeGreaterThan(5);
    expect(await drain(service, QueueUrl)).toHaveLength(500);
    await fill(service, QueueUrl, 20, "b"); // rolls a new segment past the dead ones
    await clock.advance(2000);
    await compacted(dir, clock);
    expect((await drain(service, QueueUrl)).map((b) => b.split("-")[0])).toEqual(
      Array(20).fill("b"),
    );
  });

  it("holds no timer for an idle queue: compaction is armed only when there is something to cut", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-qc-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    const service = await open(dir, clock);
    // The service's own (its catalog's maintenance): none of them per queue.
    const serviceTimers = clock.pendingTimers;
    const { QueueUrl } = await service.createQueue({ QueueName: "q" });
    const fifo = await service.createQueue({
      QueueName: "q.fifo",
      Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
    });
    const others: string[] = [];
    for (let i = 0; i < 20; i++)
      others.push((await service.createQueue({ QueueName: `idle-${i}` })).QueueUrl);
    // Traffic that stays within each log's first segment: nothing to compact, ever.
    for (const url of [QueueUrl, fifo.QueueUrl, ...others]) {
      await service.sendMessage({ QueueUrl: url, MessageBody: "one", MessageGroupId: "g" });
      await drain(service, url);
    }
    await clock.advance(10_000);
    expect(clock.pendingTimers).toBe(serviceTimers);

    // A queue whose log rolls past consumed segments is compacted, then goes quiet again.
    await fill(service, QueueUrl, 500, "a");
    await drain(service, QueueUrl);
    expect(clock.pendingTimers).toBe(serviceTimers + 1);
    const segments = (): number =>
      readdirSync(join(dir, "queues"), { recursive: true }).filter((f) =>
        String(f).endsWith(".log"),
      ).length;
    const before = segments();
    // Compaction does real disk I/O between the virtual clock's steps: step until it is done.
    const settled = async (check: () => void): Promise<void> =>
      vi.waitFor(
        async () => {
          await clock.advance(1000);
          check();
        },
        { timeout: 15_000 },
      );
    await settled(() => expect(segments()).toBeLessThan(before - 3));
    await settled(() => expect(clock.pendingTimers).toBe(serviceTimers));
    await clock.advance(10_000);
    expect(clock.pendingTimers).toBe(serviceTimers);
  });

  it("carries a long-lived message forward with its state, across a reopen", async () => {
    const queue = await withQueue("q", { VisibilityTimeout: "600" });
    const { dir, clock, QueueUrl } = queue;
    let service = queue.service;
    await service.sendMessage({
      QueueUrl,
      MessageBody: "old",
      MessageAttributes: { kind: { DataType: "String", StringValue: "pinned" } },
    });
    const first = await service.receiveMessage({ QueueUrl, AttributeNames: ["All"] });
    const { MessageId } = first.Messages[0]!;
    await fill(service, QueueUrl, 500, "a");
    await drain(service, QueueUrl);
    await fill(service, QueueUrl, 20, "b");
    await drain(service, QueueUrl);
    await clock.advance(2000);
    await compacted(dir, clock);

    await service.close();
    services.splice(services.indexOf(service), 1);
    service = await open(dir, clock);
    // Still in flight until its deadline, then back with its receive count and attributes.
    expect((await service.receiveMessage({ QueueUrl })).Messages).toEqual([]);
    await clock.advance(600_000);
    const again = await service.receiveMessage({
      QueueUrl,
      AttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    });
    expect(again.Messages).toHaveLength(1);
    const message = again.Messages[0]!;
    expect(message.MessageId).toBe(MessageId);
    expect(message.Body).toBe("old");
    expect(message.Attributes?.ApproximateReceiveCount).toBe("2");
    expect(message.Attributes?.SentTimestamp).toBe(first.Messages[0]!.Attributes?.SentTimestamp);
    expect(message.MessageAttributes).toEqual({
      kind: { DataType: "String", StringValue: "pinned" },
    });
  });

  it("keeps a FIFO queue's deduplication window through compaction and reopen", async () => {
    const queue = await withQueue("q.fifo", {
      FifoQueue: "true",
      ContentBasedDeduplication: "true",
    });
    const { dir, clock, QueueUrl } = queue;
    let service = queue.service;
    await service.sendMessage({ QueueUrl, MessageBody: "once", MessageGroupId: "g" });
    expect(await drain(service, QueueUrl)).toEqual(["once"]);
    for (let i = 0; i < 300; i++)
      await service.sendMessage({
        QueueUrl,
        MessageBody: `filler-${i}-${"x".repeat(80)}`,
        MessageGroupId: "g",
      });
    await drain(service, QueueUrl);
    await clock.advance(60_000);
    await service.close();
    services.splice(services.indexOf(service), 1);
    service = await open(dir, clock);
    await service.sendMessage({ QueueUrl, MessageBody: "once", MessageGroupId: "g" });
    expect(await drain(service, QueueUrl)).toEqual([]);
    await clock.advance(5 * 60_000);
    await compacted(dir, clock);
    await service.sendMessage({ QueueUrl, MessageBody: "once", MessageGroupId: "g" });
    expect(await drain(service, QueueUrl)).toEqual(["once"]);
  });

  /** Bytes of the queue's log and, for a FIFO queue, of its window log. */
  /** A file's size; 0 for one a compaction dropped since it was listed (unlinks run aside). */
  function sizeOf(path: string): number {
    return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  }

  function segmentBytes(dir: string): number {
    const queueDir = join(dir, "queues", readdirSync(join(dir, "queues"))[0]!);
    return segmentFiles(dir).reduce((sum, f) => sum + sizeOf(join(queueDir, f)), 0);
  }

  function windowBytes(dir: string): number {
    const windowDir = join(dir, "queues", readdirSync(join(dir, "queues"))[0]!, "window");
    return windowLogFiles(dir).reduce((sum, f) => sum + sizeOf(join(windowDir, f)), 0);
  }

  function logBytes(dir: string): number {
    return segmentBytes(dir) + windowBytes(dir);
  }

  function windowLogFiles(dir: string): string[] {
    const queueDir = join(dir, "queues", readdirSync(join(dir, "queues"))[0]!);
    return readdirSync(join(queueDir, "window")).filter((f) => f.endsWith(".log"));
  }

  async function fillFifo(
    service: EmbeddedQueueService,
    url: string,
    from: number,
    count: number,
  ): Promise<string[]> {
    const ids: string[] = [];
    for (let i = from; i < from + count; i += 10) {
      const { Successful } = await service.sendMessageBatch({
        QueueUrl: url,
        Entries: Array.from({ length: 10 }, (_, j) => ({
          Id: `e${j}`,
          MessageBody: `m-${i + j}-${"x".repeat(80)}`,
          MessageGroupId: `g${j % 3}`,
          MessageDeduplicationId: `d${i + j}`,
        })),
      });
      ids.push(...Successful.map((s) => s.MessageId));
    }
    return ids;
  }

  it("cuts a FIFO log inside the deduplication window: the window lives on in compact records", async () => {
    const queue = await withQueue("q.fifo", { FifoQueue: "true" });
    const { dir, clock, QueueUrl } = queue;
    let service = queue.service;
    const ids = await fillFifo(service, QueueUrl, 0, 500);
    expect(await drain(service, QueueUrl)).toHaveLength(500);
    await fillFifo(service, QueueUrl, 500, 20);
    expect(await drain(service, QueueUrl)).toHaveLength(20);
    // Ten seconds later, well inside the five-minute window, the dead segments are gone.
    await clock.advance(10_000);
    await compacted(dir, clock);
    const duplicate = {
      QueueUrl,
      MessageBody: "again",
      MessageGroupId: "g0",
      MessageDeduplicationId: "d3",
    };
    expect((await service.sendMessage(duplicate)).MessageId).toBe(ids[3]);
    expect(await drain(service, QueueUrl)).toEqual([]);

    await service.close();
    services.splice(services.indexOf(service), 1);
    service = await open(dir, clock);
    expect((await service.sendMessage(duplicate)).MessageId).toBe(ids[3]);
    expect(await drain(service, QueueUrl)).toEqual([]);
    await clock.advance(5 * 60_000);
    expect((await service.sendMessage(duplicate)).MessageId).not.toBe(ids[3]);
    expect(await drain(service, QueueUrl)).toEqual(["again"]);
  });

  it("keeps a busy FIFO queue's log bounded inside the window (no five minutes of history)", async () => {
    const { dir, clock, service, QueueUrl } = await withQueue("q.fifo", { FifoQueue: "true" });
    const ids: string[] = [];
    for (let round = 0; round < 4; round++) {
      ids.push(...(await fillFifo(service, QueueUrl, round * 300, 300)));
      await drain(service, QueueUrl);
      await clock.advance(2000);
      await compacted(dir, clock, 6);
    }
    // 1,200 sends of about 200 bytes each (with their receives and deletes): 240 KB of log
    // without the window records, and every one of them still deduplicates.
    expect(logBytes(dir)).toBeLessThan(1200 * 200 * 0.4);
    const { Successful } = await service.sendMessageBatch({
      QueueUrl,
      Entries: [0, 777, 1199].map((n) => ({
        Id: `x${n}`,
        MessageBody: "dup",
        MessageGroupId: "g0",
        MessageDeduplicationId: `d${n}`,
      })),
    });
    expect(Successful.map((s) => s.MessageId)).toEqual([ids[0], ids[777], ids[1199]]);
    expect(await drain(service, QueueUrl)).toEqual([]);
  }, 60_000);

  it("carries each window entry out of the queue log once, and drops it when its five minutes end", async () => {
    const { dir, clock, service, QueueUrl } = await withQueue("q.fifo", { FifoQueue: "true" });
    await fillFifo(service, QueueUrl, 0, 300);
    await drain(service, QueueUrl);
    // Many compactions while other traffic rolls the queue log: the first 300 entries move
    // to the window log once and are not copied again each time the queue log is cut.
    for (let round = 1; round <= 8; round++) {
      await fillFifo(service, QueueUrl, round * 1000, 100);
      await drain(service, QueueUrl);
      await clock.advance(1000);
      await compacted(dir, clock);
    }
    // 1,100 entries of about 30 bytes, each written once; copying the window forward at every
    // cut would write the first 300 again at each of the eight rounds.
    const carried = windowBytes(dir);
    expect(carried).toBeGreaterThan(1100 * 20);
    expect(carried).toBeLessThan(1100 * 60);
    // Past the window, a later compaction leaves none of those segments behind.
    await clock.advance(5 * 60_000 + 1000);
    await fillFifo(service, QueueUrl, 90_000, 100);
    await drain(service, QueueUrl);
    await clock.advance(1000);
    await vi.waitFor(() => expect(windowLogFiles(dir).length).toBeLessThanOrEqual(1), {
      timeout: 15_000,
    });
    const duplicate = { QueueUrl, MessageBody: "late", MessageGroupId: "g0" };
    expect(
      (await service.sendMessage({ ...duplicate, MessageDeduplicationId: "d3" })).MessageId,
    ).toBeDefined();
    expect(await drain(service, QueueUrl)).toEqual(["late"]);
  }, 60_000);
});
