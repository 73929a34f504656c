import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ReceiptHandles, encodeReceipt, newReceiptKey } from "./receipt-handle.js";
import { QueueError } from "./queue-error.js";

describe("ReceiptHandles", () => {
  const key = Buffer.alloc(32, 7);
  const receipt = { queueUid: "0123456789abcdef", seq: 123_456_789, receiveCount: 3 };

  it("signs the fields with SHA-256 over key || fields, truncated to 128 bits", () => {
    // Handles issued before a restart or an upgrade must still verify: pin the exact bytes.
    const fields = `${receipt.queueUid}.${receipt.seq.toString(36)}.${receipt.receiveCount.toString(36)}`;
    const mac = createHash("sha256").update(key).update(fields, "latin1").digest().subarray(0, 16);
    const expected = Buffer.concat([Buffer.from(fields, "latin1"), mac]).toString("base64url");
    expect(new ReceiptHandles(key).encode(receipt)).toBe(expected);
  });

  it("peeks at the sequence number a handle names, and at nothing in a malformed one", () => {
    const handles = new ReceiptHandles(newReceiptKey());
    for (const seq of [0, 35, 36, 1295, 2 ** 31, Number.MAX_SAFE_INTEGER])
      expect(handles.peekSeq(handles.encode({ ...receipt, seq }))).toBe(seq);
    for (const bad of ["", "x", encodeReceipt(receipt), "a".repeat(80), "0123456789abcdef..1"])
      expect(handles.peekSeq(Buffer.from(bad).toString("base64url"))).toBe(-1);
  });

  it("decodes what it issued, for fields of every length", () => {
    const handles = new ReceiptHandles(newReceiptKey());
    for (const seq of [0, 35, 36, 1295, 1296, 2 ** 31, Number.MAX_SAFE_INTEGER])
      for (const receiveCount of [1, 36, 1_000_000]) {
        const r = { queueUid: "fedcba9876543210", seq, receiveCount };
        expect(handles.decode(handles.encode(r))).toEqual(r);
      }
  });

  it("refuses a handle signed with another key, an unsigned one and a changed MAC", () => {
    const handles = new ReceiptHandles(key);
    const other = new ReceiptHandles(Buffer.alloc(32, 8)).encode(receipt);
    expect(() => handles.decode(other)).toThrow(QueueError);
    expect(() => handles.decode(encodeReceipt(receipt))).toThrow(QueueError);
    const bytes = Buffer.from(handles.encode(receipt), "base64url");
    bytes[bytes.length - 1]! ^= 1;
    expect(() => handles.decode(bytes.toString("base64url"))).toThrow(QueueError);
    // The good one still decodes after the failures (no state left behind).
    expect(handles.decode(handles.encode(receipt))).toEqual(receipt);
  });
});
