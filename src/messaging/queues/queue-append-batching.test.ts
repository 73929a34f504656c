import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MetricsRegistry } from "../../observability/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";

// Backend-specific: how the embedded queue hands its records to its log.
describe("embedded queue appends", () => {
  const dirs: string[] = [];
  const services: EmbeddedQueueService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function setUp(
    fsync: "always" | "never",
    hotBodyBytes?: number,
  ): Promise<{
    service: EmbeddedQueueService;
    QueueUrl: string;
    batches: () => number;
    fsyncs: () => number;
  }> {
    const dir = mkdtempSync(join(tmpdir(), "sluice-qb-"));
    dirs.push(dir);
    const metrics = new MetricsRegistry();
    const service = await EmbeddedQueueService.open(dir, {
      fsync,
      metrics,
      ...(hotBodyBytes === undefined ? {} : { hotBodyBytes }),
    });
    services.push(service);
    const { QueueUrl } = await service.createQueue({ QueueName: "work" });
    const value = (name: string) => (): number =>
      metrics
        .collect()
        .filter((m) => m.name === name && String(m.labels.log).startsWith("queue/work"))
        .reduce((sum, m) => sum + (m.kind === "histogram" ? 0 : m.value), 0);
    return {
      service,
      QueueUrl,
      batches: value("sluice_log_appends_total"),
      fsyncs: value("sluice_log_fsyncs_total"),
    };
  }

  it("writes the sends, receives and deletes of concurrent callers in one turn as one batch", async () => {
    const { service, QueueUrl, batches } = await setUp("never");
    const before = batches();
    const sent = await Promise.all(
      Array.from({ length: 8 }, (_, i) => service.sendMessage({ QueueUrl, MessageBody: `m${i}` })),
    );
    expect(sent).toHaveLength(8);
    expect(batches() - before).toBe(1);
    const received = await Promise.all(
      Array.from({ length: 4 }, () =>
        service.receiveMessage({ QueueUrl, MaxNumberOfMessages: 2, VisibilityTimeout: 60 }),
      ),
    );
    const handles = received.flatMap((r) => r.Messages.map((m) => m.ReceiptHandle));
    expect(handles).toHaveLength(8);
    expect(batches() - before).toBe(2);
    await Promise.all(
      handles.map((ReceiptHandle) => service.deleteMessage({ QueueUrl, ReceiptHandle })),
    );
    expect(batches() - before).toBe(3);
    expect((await service.receiveMessage({ QueueUrl })).Messages).toEqual([]);
  });

  it("under fsync always, a receive of durable messages waits for no fsync of its own", async () => {
    const { service, QueueUrl, fsyncs } = await setUp("always");
    await service.sendMessage({ QueueUrl, MessageBody: "m" });
    const before = fsyncs();
    const { Messages } = await service.receiveMessage({ QueueUrl, VisibilityTimeout: 60 });
    expect(Messages.map((m) => m.Body)).toEqual(["m"]);
    expect(fsyncs() - before).toBe(0);
    // The delete is an acknowledged change: it resolves only after an fsync.
    await service.deleteMessage({ QueueUrl, ReceiptHandle: Messages[0]!.ReceiptHandle });
    expect(fsyncs() - before).toBeGreaterThan(0);
  });

  it("builds turn after turn in one buffer without spoiling a batch already written", async () => {
    // No hot bodies: every receive reads the records back from the log.
    const { service, QueueUrl } = await setUp("never", 0);
    // Small turns reuse the queue's buffer; the large one outgrows it (a buffer of its own).
    const bodies = ["a".repeat(100), "b".repeat(100), "c".repeat(9000), "d".repeat(100)];
    const handles: string[] = [];
    for (const [i, body] of bodies.entries()) {
      await service.sendMessage({ QueueUrl, MessageBody: body });
      // A receive (earlier ones stay in flight) in a turn of its own, into the same buffer.
      const { Messages } = await service.receiveMessage({ QueueUrl, VisibilityTimeout: 60 });
      expect(Messages.map((m) => m.Body)).toEqual([bodies[i]]);
      handles.push(Messages[0]!.ReceiptHandle);
    }
    await service.changeMessageVisibilityBatch({
      QueueUrl,
      Entries: handles.map((ReceiptHandle, i) => ({
        Id: `${i}`,
        ReceiptHandle,
        VisibilityTimeout: 0,
      })),
    });
    const { Messages } = await service.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 });
    const received = Messages.map((m) => m.Body);
    expect(received.sort()).toEqual(bodies);
  });
});
