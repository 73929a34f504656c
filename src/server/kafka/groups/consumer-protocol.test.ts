import { describe, expect, it } from "vitest";
import { WireWriter } from "../protocol/wire-writer.js";
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from "./consumer-protocol.js";

function str(w: WireWriter, s: string): void {
  w.int16(Buffer.byteLength(s));
  w.utf8(s, Buffer.byteLength(s));
}

describe("consumer protocol", () => {
  it("reads a v1 subscription with user data and owned partitions, as cooperative clients send it", () => {
    const w = new WireWriter();
    w.int16(1);
    w.int32(2);
    str(w, "a");
    str(w, "b");
    w.int32(3);
    w.bytes(Buffer.from("xyz"));
    w.int32(1);
    str(w, "a");
    w.int32(2);
    w.int32(0);
    w.int32(2);
    expect(decodeSubscription(w.toBuffer())).toEqual({
      topics: ["a", "b"],
      owned: [
        { topic: "a", partition: 0 },
        { topic: "a", partition: 2 },
      ],
    });
  });

  it("round-trips subscriptions and assignments it writes", () => {
    expect(decodeSubscription(encodeSubscription(["t", "u"]))).toEqual({
      topics: ["t", "u"],
      owned: [],
    });
    const partitions = [
      { topic: "t", partition: 1 },
      { topic: "u", partition: 0 },
      { topic: "t", partition: 0 },
    ];
    expect(decodeAssignment(encodeAssignment(partitions))).toEqual([
      { topic: "t", partition: 0 },
      { topic: "t", partition: 1 },
      { topic: "u", partition: 0 },
    ]);
  });

  it("refuses counts larger than the bytes left and truncated metadata", () => {
    const w = new WireWriter();
    w.int16(0);
    w.int32(1_000_000_000);
    expect(() => decodeSubscription(w.toBuffer())).toThrow(/count/);
    expect(() => decodeSubscription(encodeSubscription(["topic"]).subarray(0, 7))).toThrow();
  });
});
