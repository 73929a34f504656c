import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckedSend } from "./checked-send.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import { md5OfBody } from "./message-digest.js";
import { QueueError } from "./queue-error.js";

let dir: string;
let queues: EmbeddedQueueService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-checked-send-"));
  queues = await EmbeddedQueueService.open(dir, { fsync: "never" });
});

afterEach(async () => {
  await queues.close();
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(run: () => unknown): Promise<QueueError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof QueueError) return error;
    throw error;
  }
  throw new Error("expected a QueueError");
}

async function bodies(QueueUrl: string): Promise<string[]> {
  const { Messages } = await queues.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 });
  return Messages.map((m) => m.Body);
}

describe("CheckedSend", () => {
  it("refuses what a send refuses, with the same error", async () => {
    const { QueueUrl } = await queues.createQueue({ QueueName: "q" });
    for (const input of [
      { MessageBody: "nul \u0000" },
      { MessageBody: "lone \uD800 surrogate" },
      { MessageBody: "" },
      {
        MessageBody: "ok",
        MessageAttributes: { "bad name!": { DataType: "String", StringValue: "v" } },
      },
    ]) {
      const sent = await refusal(() => queues.sendMessage({ QueueUrl, ...input }));
      const checked = await refusal(() => CheckedSend.of(input));
      expect([checked.sqsError, checked.message]).toEqual([sent.sqsError, sent.message]);
    }
  });

  it("cannot be made without its checks", () => {
    const construct = (): unknown =>
      Reflect.construct(CheckedSend, [Symbol("CheckedSend"), "nul \u0000", "", 1, undefined, {}]);
    expect(construct).toThrow(TypeError);
  });

  it("a bulk send still checks every body given as text", async () => {
    const { QueueUrl } = await queues.createQueue({ QueueName: "q" });
    const { failed } = await queues.sendMessagesInBulk(QueueUrl, [
      { MessageBody: "nul \u0000" },
      CheckedSend.of({ MessageBody: "checked" }),
      { MessageBody: "plain" },
    ]);
    expect(failed.map((f) => [f.index, (f.error as QueueError).sqsError])).toEqual([
      [0, "InvalidMessageContents"],
    ]);
    expect((await bodies(QueueUrl)).sort()).toEqual(["checked", "plain"]);
  });

  it("each queue checks its own limits, whichever queue it went to first", async () => {
    const roomy = (await queues.createQueue({ QueueName: "roomy" })).QueueUrl;
    const alike = (await queues.createQueue({ QueueName: "alike" })).QueueUrl;
    const small = (
      await queues.createQueue({ QueueName: "small", Attributes: { MaximumMessageSize: "1024" } })
    ).QueueUrl;
    const fifo = (
      await queues.createQueue({ QueueName: "q.fifo", Attributes: { FifoQueue: "true" } })
    ).QueueUrl;
    const body = "é".repeat(600); // 1,200 bytes in UTF-8
    const send = CheckedSend.of({
      MessageBody: body,
      MessageAttributes: { n: { DataType: "Number", StringValue: "1" } },
    });
    for (const url of [roomy, alike])
      expect((await queues.sendMessagesInBulk(url, [send])).failed).toEqual([]);
    const [tooLarge] = (await queues.sendMessagesInBulk(small, [send])).failed;
    expect((tooLarge?.error as QueueError).message).toMatch(/at most 1024 bytes.*got 1208/);
    const [noGroup] = (await queues.sendMessagesInBulk(fifo, [send])).failed;
    expect((noGroup?.error as QueueError).sqsError).toBe("MissingParameter");
    expect((await queues.sendMessagesInBulk(fifo, [send.inGroup("g", "d-1")])).failed).toEqual([]);
    for (const url of [roomy, alike, fifo]) {
      const { Messages } = await queues.receiveMessage({
        QueueUrl: url,
        MessageAttributeNames: ["All"],
      });
      expect(Messages.map((m) => [m.Body, m.MD5OfBody, m.MessageAttributes])).toEqual([
        [body, md5OfBody(body), { n: { DataType: "Number", StringValue: "1" } }],
      ]);
    }
    expect(await bodies(small)).toEqual([]);
  });
});
