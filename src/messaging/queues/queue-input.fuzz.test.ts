import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import { isQueueError } from "./queue-error.js";
import { ReceiptHandles, encodeReceipt, newReceiptKey } from "./receipt-handle.js";
import type { SendMessageInput } from "./queue-service.js";

// Anything at all where a caller (or a JSON request) may put a value.
const anything = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  fc.uint8Array({ maxLength: 8 }),
);

describe("queue inputs under fuzzing", () => {
  let dir: string;
  let service: EmbeddedQueueService;
  let std: string;
  let fifo: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-qfuzz-"));
    service = await EmbeddedQueueService.open(dir, { clock: new VirtualClock(), fsync: "never" });
    std = (await service.createQueue({ QueueName: "std" })).QueueUrl;
    fifo = (await service.createQueue({ QueueName: "f.fifo", Attributes: { FifoQueue: "true" } }))
      .QueueUrl;
  });
  afterAll(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a call: it either succeeds or fails with a QueueError naming an SQS error. */
  async function typed(call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (error) {
      if (!isQueueError(error)) throw error;
      expect(error.sqsError.length).toBeGreaterThan(0);
      return false;
    }
  }

  it("refuses any handle it did not issue with ReceiptHandleIsInvalid, and round-trips real ones", () => {
    const handles = new ReceiptHandles(newReceiptKey());
    const forged = fc.record({
      queueUid: fc.string({
        unit: fc.constantFrom(..."0123456789abcdef"),
        minLength: 16,
        maxLength: 16,
      }),
      seq: fc.nat(),
      receiveCount: fc.integer({ min: 1, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          // Well-formed fields without the signature, or with random bytes in its place.
          forged.map((r) => encodeReceipt(r)),
          fc
            .tuple(forged, fc.uint8Array({ minLength: 16, maxLength: 16 }))
            .map(([r, mac]) =>
              Buffer.concat([Buffer.from(encodeReceipt(r), "base64url"), mac]).toString(
                "base64url",
              ),
            ),
        ),
        (handle) => {
          let error: unknown;
          try {
            handles.decode(handle);
          } catch (caught) {
            error = caught;
          }
          expect(isQueueError(error, "ReceiptHandleIsInvalid")).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 16, maxLength: 16 }),
        fc.nat(),
        fc.integer({ min: 1, max: 1_000_000 }),
        (queueUid, seq, receiveCount) => {
          const receipt = { queueUid, seq, receiveCount };
          expect(handles.decode(handles.encode(receipt))).toEqual(receipt);
        },
      ),
    );
  });

  it("answers random sends with a result or a typed error, and stores exactly the accepted ones", async () => {
    const before = await counts();
    let accepted = 0;
    let acceptedStandard = 0;
    // Well-formed sends mixed in, so both queues accept a good share of the runs.
    const body = fc.string({
      minLength: 1,
      maxLength: 40,
      unit: fc.constantFrom(..."abcXYZ 09{}"),
    });
    const toStandard = fc.record({ MessageBody: body }).map((i) => [i, false] as const);
    const toFifoQueue = fc
      .record({
        MessageBody: body,
        MessageGroupId: fc.constantFrom("g1", "g2"),
        MessageDeduplicationId: fc.string({
          minLength: 1,
          maxLength: 12,
          unit: fc.constantFrom(..."abcdef0123"),
        }),
      })
      .map((i) => [i, true] as const);
    const fuzzed = fc.record(
      {
        MessageBody: fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), anything),
        DelaySeconds: fc.oneof(fc.integer({ min: -5, max: 1000 }), anything),
        MessageGroupId: fc.oneof(fc.string({ maxLength: 5 }), anything),
        MessageDeduplicationId: fc.oneof(fc.string({ maxLength: 5 }), anything),
        MessageAttributes: fc.oneof(
          anything,
          fc.dictionary(
            fc.string({ maxLength: 8 }),
            fc.record(
              {
                DataType: fc.oneof(
                  fc.constantFrom("String", "Number", "Binary", "Number.int"),
                  anything,
                ),
                StringValue: anything,
                BinaryValue: anything,
              },
              { requiredKeys: [] },
            ),
            { maxKeys: 3 },
          ),
        ),
      },
      { requiredKeys: [] },
    );
    const send = fc.oneof(toStandard, toFifoQueue, fc.tuple(fuzzed, fc.boolean()));
    await fc.assert(
      fc.asyncProperty(send, async ([input, toFifo]) => {
        const ok = await typed(() =>
          service.sendMessage({
            ...(input as Omit<SendMessageInput, "QueueUrl">),
            QueueUrl: toFifo ? fifo : std,
          }),
        );
        if (ok) accepted++;
        if (ok && !toFifo) acceptedStandard++;
      }),
      { numRuns: 1500 },
    );
    const after = await counts();
    // Every accepted standard send is stored (FIFO sends may be accepted duplicates).
    expect(after.total - before.total).toBe(acceptedStandard);
    expect(acceptedStandard).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(acceptedStandard);
    // The queues still work after all that.
    await service.sendMessage({ QueueUrl: std, MessageBody: "still fine" });
    expect(
      (await service.peekMessages({ QueueUrl: std, MaxNumberOfMessages: 1000 })).Messages.length,
    ).toBeGreaterThan(0);
  });

  it("answers random receive, delete and visibility calls with a result or a typed error", async () => {
    const call = fc.oneof(
      fc.record({ kind: fc.constant("receive"), a: anything, b: anything, c: anything }),
      fc.record({ kind: fc.constant("delete"), a: anything }),
      fc.record({ kind: fc.constant("visibility"), a: anything, b: anything }),
      fc.record({
        kind: fc.constant("batch"),
        a: fc.array(fc.record({ Id: anything, ReceiptHandle: anything }), { maxLength: 12 }),
      }),
      fc.record({ kind: fc.constant("attributes"), a: anything }),
    );
    await fc.assert(
      fc.asyncProperty(call, async (c) => {
        const v = c as { kind: string; a: unknown; b?: unknown; c?: unknown };
        await typed(() => {
          if (v.kind === "receive")
            return service.receiveMessage({
              QueueUrl: std,
              MaxNumberOfMessages: v.a as number,
              VisibilityTimeout: v.b as number,
              MessageAttributeNames: v.c as string[],
            });
          if (v.kind === "delete")
            return service.deleteMessage({ QueueUrl: std, ReceiptHandle: v.a as string });
          if (v.kind === "visibility")
            return service.changeMessageVisibility({
              QueueUrl: std,
              ReceiptHandle: v.a as string,
              VisibilityTimeout: v.b as number,
            });
          if (v.kind === "batch")
            return service.deleteMessageBatch({
              QueueUrl: std,
              Entries: v.a as { Id: string; ReceiptHandle: string }[],
            });
          return service.setQueueAttributes({
            QueueUrl: std,
            Attributes: v.a as Record<string, string>,
          });
        });
      }),
      { numRuns: 1500 },
    );
  });

  async function counts(): Promise<{ total: number }> {
    let total = 0;
    for (const QueueUrl of [std]) {
      const { Attributes } = await service.getQueueAttributes({
        QueueUrl,
        AttributeNames: ["All"],
      });
      total +=
        Number(Attributes.ApproximateNumberOfMessages) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible) +
        Number(Attributes.ApproximateNumberOfMessagesDelayed);
    }
    return { total };
  }
});
