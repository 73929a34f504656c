import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckedSend, type CheckedSendInput } from "./checked-send.js";
import type { PreparedSend } from "./durable-queue.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import { REQUEST_FIELDS } from "./entry-fields.js";
import { md5OfBody } from "./message-digest.js";
import { SEND_SETTINGS } from "./prepared-send.js";
import { defaultAttributes, parseConfig, type QueueConfig } from "./queue-attributes.js";
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

/** What `config` makes of a message, or how it refuses it. */
function outcome(send: CheckedSend, config: QueueConfig): PreparedSend | { refused: string } {
  try {
    return send.preparedFor(config, REQUEST_FIELDS);
  } catch (error) {
    if (error instanceof QueueError) return { refused: error.message };
    throw error;
  }
}

const standard = parseConfig(defaultAttributes(false));
const fifo = parseConfig(defaultAttributes(true));

/**
 * For each setting a send depends on, two queues that differ in it alone and a message that
 * they make different sends of (or one refuses).
 */
const DIFFERING_IN: Record<
  (typeof SEND_SETTINGS)[number],
  { input: CheckedSendInput; first: QueueConfig; then: QueueConfig }
> = {
  fifo: { input: { MessageBody: "m" }, first: standard, then: { ...standard, fifo: true } },
  delaySeconds: {
    input: { MessageBody: "m" },
    first: standard,
    then: { ...standard, delaySeconds: 5 },
  },
  contentBasedDeduplication: {
    input: { MessageBody: "m", MessageGroupId: "g" },
    first: { ...fifo, contentBasedDeduplication: true },
    then: fifo,
  },
  maximumMessageSize: {
    input: { MessageBody: "m".repeat(2000) },
    first: standard,
    then: { ...standard, maximumMessageSize: 1024 },
  },
};

describe("CheckedSend.preparedFor", () => {
  it.each(SEND_SETTINGS)("queues differing only in %s do not share a prepared send", (setting) => {
    const { input, first, then } = DIFFERING_IN[setting];
    const alone = outcome(CheckedSend.of(input), then);
    expect(alone).not.toEqual(outcome(CheckedSend.of(input), first));
    const send = CheckedSend.of(input);
    outcome(send, first);
    expect(outcome(send, then)).toEqual(alone);
  });

  it("queues agreeing on those settings share one, whatever size limit the message is within", () => {
    const send = CheckedSend.of({ MessageBody: "m" });
    const shared = send.preparedFor(standard, REQUEST_FIELDS);
    for (const config of [
      parseConfig(defaultAttributes(false)),
      { ...standard, maximumMessageSize: 1024, visibilityTimeout: 5 },
    ])
      expect(send.preparedFor(config, REQUEST_FIELDS)).toBe(shared);
  });
});
