import { describe, expect, it } from "vitest";
import {
  type PublishedMessage,
  asDecoded,
  decodeMessage,
  encodeMessage,
} from "./published-message.js";

const fromLog = (m: PublishedMessage): PublishedMessage =>
  decodeMessage(Buffer.from(encodeMessage(m)), 0);

describe("asDecoded", () => {
  const shapes: PublishedMessage[] = [
    { MessageId: "a", Message: "plain", MessageAttributes: {}, timestamp: 1 },
    {
      MessageId: "b",
      Message: "with everything",
      Subject: "s",
      MessageAttributes: {
        n: { DataType: "Number", StringValue: "42" },
        e: { DataType: "String" },
        bin: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 255]) },
        list: { DataType: "String.Array", StringValue: '["x","y"]' },
      },
      timestamp: 1_700_000_000_000,
      MessageGroupId: "g",
      MessageDeduplicationId: "d",
    },
    {
      MessageId: "c",
      Message: "undefined fields",
      Subject: undefined,
      MessageAttributes: {},
      timestamp: 3,
    } as unknown as PublishedMessage,
  ];

  it("gives the message as the log gives it back", () => {
    for (const m of shapes) {
      const made = asDecoded(m);
      const read = fromLog(m);
      expect(made).toStrictEqual(read);
      expect(Object.keys(made)).toEqual(Object.keys(read));
    }
  });

  it("shares nothing the publisher may change afterwards", () => {
    const binary = new Uint8Array([1, 2]);
    const attributes = {
      k: { DataType: "String", StringValue: "before" },
      b: { DataType: "Binary", BinaryValue: binary },
    };
    const made = asDecoded({
      MessageId: "m",
      Message: "x",
      MessageAttributes: attributes,
      timestamp: 1,
    });
    attributes.k.StringValue = "after";
    binary[0] = 9;
    (attributes as Record<string, unknown>).added = { DataType: "String", StringValue: "z" };
    expect(made.MessageAttributes.k).toEqual({ DataType: "String", StringValue: "before" });
    expect([...(made.MessageAttributes.b!.BinaryValue as Uint8Array)]).toEqual([1, 2]);
    expect(made.MessageAttributes.added).toBeUndefined();
  });
});
