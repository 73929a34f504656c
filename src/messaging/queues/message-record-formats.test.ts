import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openLog } from "../../engine/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import { md5OfAttributes, md5OfBody } from "./message-digest.js";
import type { MessageAttributes } from "./queue-service.js";

const ATTRIBUTES: MessageAttributes = {
  kind: { DataType: "String", StringValue: "order" },
  total: { DataType: "Number.float", StringValue: "42.5" },
  blob: { DataType: "Binary", BinaryValue: Uint8Array.of(0, 1, 2, 255) },
};

/** A message record exactly as the first format wrote it: JSON meta in the "m" header. */
function firstFormatRecord(body: string, meta: object) {
  return {
    key: Buffer.from("m"),
    value: Buffer.from(body, "utf8"),
    headers: [{ key: "m", value: Buffer.from(JSON.stringify(meta), "utf8") }],
  };
}

// Backend-specific: queue logs written before the binary message header still open and serve.
describe("embedded queue message records of the first (JSON) format", () => {
  const dirs: string[] = [];
  const services: EmbeddedQueueService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function open(dir: string, clock: VirtualClock): Promise<EmbeddedQueueService> {
    const service = await EmbeddedQueueService.open(dir, { clock, fsync: "never" });
    services.push(service);
    return service;
  }

  it("reads messages, attributes and FIFO ids written as JSON, beside new binary ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-qf-"));
    dirs.push(dir);
    const clock = new VirtualClock(1_700_000_000_000);
    let service = await open(dir, clock);
    await service.createQueue({ QueueName: "old" });
    await service.createQueue({ QueueName: "old.fifo", Attributes: { FifoQueue: "true" } });
    await service.close();
    services.length = 0;

    // Write records as the first format did, straight into each queue's log.
    // A queue's directory is its name and its 16-hex-digit uid.
    const queueDir = (name: string): string =>
      join(
        dir,
        "queues",
        readdirSync(join(dir, "queues")).find(
          (d) => d.startsWith(`${name}.`) && /^[0-9a-f]{16}$/.test(d.slice(name.length + 1)),
        )!,
      );
    const standardLog = await openLog(queueDir("old"), { clock });
    await standardLog.append([
      firstFormatRecord("plain", { i: "11111111-1111-4111-8111-111111111111" }),
      firstFormatRecord("with attributes", {
        i: "22222222-2222-4222-8222-222222222222",
        a: {
          kind: { t: "String", s: "order" },
          total: { t: "Number.float", s: "42.5" },
          blob: { t: "Binary", b: Buffer.from([0, 1, 2, 255]).toString("base64") },
        },
        y: { AWSTraceHeader: { t: "String", s: "Root=1-abc" } },
        src: "arn:aws:sqs:us-east-1:000000000000:source",
      }),
    ]);
    await standardLog.close();
    const fifoLog = await openLog(queueDir("old.fifo"), { clock });
    await fifoLog.append([
      firstFormatRecord("first in group", {
        i: "33333333-3333-4333-8333-333333333333",
        g: "customer-7",
        d: "dedup-1",
      }),
    ]);
    await fifoLog.close();

    service = await open(dir, clock);
    const { QueueUrl: standard } = await service.getQueueUrl({ QueueName: "old" });
    const { QueueUrl: fifo } = await service.getQueueUrl({ QueueName: "old.fifo" });
    // New messages go in the binary format beside the old ones.
    await service.sendMessage({
      QueueUrl: standard,
      MessageBody: "new",
      MessageAttributes: ATTRIBUTES,
    });
    // A FIFO send with the old record's deduplication id is a duplicate of it.
    const duplicate = await service.sendMessage({
      QueueUrl: fifo,
      MessageBody: "again",
      MessageGroupId: "customer-7",
      MessageDeduplicationId: "dedup-1",
    });
    expect(duplicate.MessageId).toBe("33333333-3333-4333-8333-333333333333");

    for (let round = 0; round < 2; round++) {
      // Round 1 reads the records back from the log after a reopen (no bodies in memory).
      const received = await service.receiveMessage({
        QueueUrl: standard,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
        VisibilityTimeout: 0,
      });
      const byBody = new Map(received.Messages.map((m) => [m.Body, m]));
      expect([...byBody.keys()].sort()).toEqual(["new", "plain", "with attributes"]);
      expect(byBody.get("plain")!.MessageId).toBe("11111111-1111-4111-8111-111111111111");
      expect(byBody.get("plain")!.MessageAttributes).toBeUndefined();
      const old = byBody.get("with attributes")!;
      expect(old.MessageId).toBe("22222222-2222-4222-8222-222222222222");
      expect(old.MD5OfBody).toBe(md5OfBody("with attributes"));
      expect(old.MessageAttributes).toEqual(ATTRIBUTES);
      expect(old.MD5OfMessageAttributes).toBe(md5OfAttributes(ATTRIBUTES));
      expect(old.Attributes?.AWSTraceHeader).toBe("Root=1-abc");
      expect(old.Attributes?.DeadLetterQueueSourceArn).toBe(
        "arn:aws:sqs:us-east-1:000000000000:source",
      );
      expect(byBody.get("new")!.MessageAttributes).toEqual(ATTRIBUTES);
      expect(byBody.get("new")!.MD5OfMessageAttributes).toBe(md5OfAttributes(ATTRIBUTES));
      const [head] = (
        await service.receiveMessage({
          QueueUrl: fifo,
          MessageSystemAttributeNames: ["All"],
          VisibilityTimeout: 0,
        })
      ).Messages;
      expect(head?.Body).toBe("first in group");
      expect(head?.Attributes?.MessageGroupId).toBe("customer-7");
      expect(head?.Attributes?.MessageDeduplicationId).toBe("dedup-1");
      await service.close();
      services.length = 0;
      service = await open(dir, clock);
    }
  });
});
