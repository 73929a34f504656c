import { describe, expect, it } from "vitest";
import { AttributeSetReuse, MessageAttributeSet } from "./message-attribute-set.js";
import { md5OfAttributes } from "./message-digest.js";
import { checkMessageAttributes } from "./message-validation.js";
import type { MessageAttributeValue } from "./queue-service.js";

const ATTRIBUTES: Record<string, MessageAttributeValue> = {
  zeta: { DataType: "String", StringValue: "last by name, née ünïcode ✓" },
  alpha: { DataType: "Number", StringValue: "-1.5e3" },
  "mid.dle": { DataType: "Binary.custom", BinaryValue: Uint8Array.of(9, 8, 7) },
  beta: { DataType: "String.custom", StringValue: "b" },
};

describe("MessageAttributeSet", () => {
  it("answers SQS's MD5 of the attributes, as computed field by field", () => {
    const set = MessageAttributeSet.validated(ATTRIBUTES, "MessageAttributes")!;
    expect(set.md5).toBe(md5OfAttributes(ATTRIBUTES));
  });

  it("gives the attributes back as new objects, and the digest of a selection", () => {
    const set = MessageAttributeSet.validated(ATTRIBUTES, "MessageAttributes")!;
    expect(set.toAttributes()).toEqual(ATTRIBUTES);
    const returned = set.toAttributes();
    returned.alpha = { DataType: "String", StringValue: "changed" };
    expect(set.toAttributes()).toEqual(ATTRIBUTES);
    const some = set.select((name) => name.startsWith("b") || name === "zeta")!;
    const expected = { beta: ATTRIBUTES.beta!, zeta: ATTRIBUTES.zeta! };
    expect(some.attributes).toEqual(expected);
    expect(some.md5).toBe(md5OfAttributes(expected));
    expect(set.select(() => false)).toBeUndefined();
    expect(set.stringValue("beta")).toBe("b");
    expect(set.stringValue("missing")).toBeUndefined();
  });

  it("counts the size as SQS does, also when decoded from its bytes", () => {
    const set = MessageAttributeSet.validated(ATTRIBUTES, "MessageAttributes")!;
    const expected = checkMessageAttributes(ATTRIBUTES, "MessageAttributes");
    expect(set.sizeBytes).toBe(expected);
    const decoded = MessageAttributeSet.decode(Buffer.from(set.encoded));
    expect(decoded.sizeBytes).toBe(expected);
    expect(decoded.count).toBe(4);
    expect(decoded.md5).toBe(set.md5);
    expect(decoded.toAttributes()).toEqual(ATTRIBUTES);
  });

  it("keeps its own copy: the caller's later changes do not reach it", () => {
    const binary = Uint8Array.of(1, 2, 3);
    const input: Record<string, MessageAttributeValue> = {
      a: { DataType: "String", StringValue: "before" },
      b: { DataType: "Binary", BinaryValue: binary },
    };
    const set = MessageAttributeSet.validated(input, "MessageAttributes")!;
    input.a = { DataType: "String", StringValue: "after" };
    binary[0] = 99;
    expect(set.toAttributes()).toEqual({
      a: { DataType: "String", StringValue: "before" },
      b: { DataType: "Binary", BinaryValue: Uint8Array.of(1, 2, 3) },
    });
  });

  it("validates as SQS does, naming the field, and has no set for no attributes", () => {
    expect(MessageAttributeSet.validated(undefined, "MessageAttributes")).toBeUndefined();
    expect(MessageAttributeSet.validated({}, "MessageAttributes")).toBeUndefined();
    expect(() =>
      MessageAttributeSet.validated(
        { n: { DataType: "Number", StringValue: "twelve" } },
        "Entries[2].MessageAttributes",
      ),
    ).toThrow(/Entries\[2\]\.MessageAttributes\.n\.StringValue/);
  });

  it("is validated once for the entries of a call that pass the same object", () => {
    const reuse = new AttributeSetReuse();
    const first = reuse.validated(ATTRIBUTES, "Entries[0].MessageAttributes");
    expect(reuse.validated(ATTRIBUTES, "Entries[1].MessageAttributes")).toBe(first);
    expect(reuse.validated({ ...ATTRIBUTES }, "Entries[2].MessageAttributes")).not.toBe(first);
    // A bad object fails for every entry that passes it, each naming its own field.
    const bad = { n: { DataType: "Number", StringValue: "twelve" } };
    expect(() => reuse.validated(bad, "Entries[3].MessageAttributes")).toThrow(/Entries\[3\]/);
    expect(() => reuse.validated(bad, "Entries[4].MessageAttributes")).toThrow(/Entries\[4\]/);
    expect(reuse.validated(undefined, "Entries[5].MessageAttributes")).toBeUndefined();
  });
});
