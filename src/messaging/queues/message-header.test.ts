import { describe, expect, it } from "vitest";
import { attributes, trace } from "./test-support/header-attributes.js";
import {
  BINARY_HEADER_FORMAT,
  type MessageHeader,
  decodeHeader,
  encodeHeader,
} from "./message-header.js";

function roundTrip(header: MessageHeader): MessageHeader {
  const encoded = encodeHeader(header);
  expect(encoded[0]).toBe(BINARY_HEADER_FORMAT);
  // JSON headers of the first format begin with "{": the two never meet.
  expect(encoded[0]).not.toBe("{".charCodeAt(0));
  return decodeHeader(encoded);
}

describe("binary message header", () => {
  it("round-trips a message id alone", () => {
    expect(roundTrip({ i: "0b7f3c52-3b1e-4a4e-9a53-2f1f2d0e5c11" })).toEqual({
      i: "0b7f3c52-3b1e-4a4e-9a53-2f1f2d0e5c11",
    });
  });

  it("round-trips every field, carried state included", () => {
    const header: MessageHeader = {
      i: "id-ü",
      g: "group-7",
      d: "dedup-✓",
      src: "arn:aws:sqs:us-east-1:000000000000:source",
      a: attributes,
      y: trace,
      v: 1_700_000_123_456,
      st: 1_700_000_000_001,
      q: 2 ** 40 + 3,
      rc: 4,
      fr: 1_700_000_000_500,
      rt: 1_700_000_000_900,
      due: 1_700_000_030_900,
    };
    const decoded = roundTrip(header);
    const { a, y, ...rest } = decoded;
    const { a: _a, y: _y, ...expected } = header;
    expect(rest).toEqual(expected);
    expect(a?.toAttributes()).toEqual(attributes.toAttributes());
    expect(a?.md5).toBe(attributes.md5);
    expect(y?.stringValue("AWSTraceHeader")).toBe("Root=1-abc");
  });

  it("round-trips carried state without a deadline", () => {
    const decoded = roundTrip({ i: "x", q: 5, rc: 0, fr: 0, rt: 0 });
    expect(decoded).toEqual({ i: "x", q: 5, rc: 0, fr: 0, rt: 0 });
  });

  it("refuses a header cut short", () => {
    const encoded = encodeHeader({ i: "abc", g: "group" });
    expect(() => decodeHeader(encoded.subarray(0, encoded.length - 2))).toThrow(RangeError);
  });
});
