import { describe, expect, it } from "vitest";
import { attributes, trace } from "./test-support/header-attributes.js";
import type { PreparedSend } from "./durable-queue.js";
import { decodeHeader, encodeHeader } from "./message-header.js";
import { messageIds } from "./message-id.js";
import { SendHeader, headerOfSend, keepsHeader, writeSendHeader } from "./send-header.js";

const SENT_AT = 1_764_000_000_000;

/** What SendHeader writes for `send`, sent at SENT_AT with a new id. */
function written(send: PreparedSend): { bytes: Buffer; idBytes: Buffer; idAt: number } {
  const idAt = messageIds.reserve();
  const idBytes = messageIds.bytes;
  const header = new SendHeader().fill(send, idBytes, idAt, SENT_AT + send.delayMs);
  const bytes = Buffer.alloc(header.bytes);
  expect(writeSendHeader(bytes, 0, header)).toBe(bytes.length);
  return { bytes, idBytes, idAt };
}

describe("SendHeader", () => {
  const sends: [string, PreparedSend][] = [
    ["a plain send", { body: "x", delayMs: 0 }],
    ["a send with attributes", { body: "x", delayMs: 0, attributes }],
    [
      "a FIFO send with every field a send has",
      {
        body: "x",
        delayMs: 5000,
        attributes,
        systemAttributes: trace,
        groupId: "group-✓",
        deduplicationId: "dedup-7",
      },
    ],
    [
      "a moved message, keeping its id and send time",
      {
        body: "x",
        delayMs: 0,
        messageId: "id-ü",
        sentAt: SENT_AT - 60_000,
        deadLetterSourceArn: "arn:aws:sqs:us-east-1:000000000000:source",
        skipDeduplication: true,
      },
    ],
  ];

  for (const [name, send] of sends)
    it(`writes ${name} as the header of the send a hot read answers with`, () => {
      const { bytes, idBytes, idAt } = written(send);
      const sentAt = send.sentAt ?? SENT_AT;
      const header = headerOfSend(send, idBytes, idAt, sentAt);
      expect(bytes).toEqual(encodeHeader(header));
      expect(decodeHeader(bytes)).toEqual(decodeHeader(encodeHeader(header)));
      expect(decodeHeader(bytes).i).toBe(header.i);
      expect(keepsHeader(send)).toBe(true);
    });

  it("gives new ids as version 4 UUIDs in the header", () => {
    const { bytes } = written({ body: "x", delayMs: 0 });
    expect(decodeHeader(bytes).i).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("does not keep a header it could not give back: a delay with a send time of its own", () => {
    expect(keepsHeader({ body: "x", delayMs: 1000, sentAt: SENT_AT })).toBe(false);
  });
});
