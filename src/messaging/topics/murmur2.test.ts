import { describe, expect, it } from "vitest";
import { murmur2, partitionForKey } from "./murmur2.js";

describe("murmur2", () => {
  // Vectors from Kafka's UtilsTest.testMurmur2 (Apache License 2.0).
  it.each([
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ])("hashes %s as Kafka does", (input, expected) => {
    expect(murmur2(Buffer.from(input))).toBe(expected);
  });

  it("places keys with the positive modulo (toPositive, not Math.abs)", () => {
    // toPositive(-790332482) = 1357151166, and 1357151166 % 50 = 16
    expect(partitionForKey(Buffer.from("foobar"), 50)).toBe(16);
    expect(partitionForKey(Buffer.from("21"), 7)).toBe((-973932308 & 0x7fffffff) % 7);
  });

  it("hashes bytes above 0x7f as Java's signed bytes do", () => {
    // Kafka masks each tail byte with 0xff, so a high byte folds in unsigned.
    expect(murmur2(Buffer.from([0xff]))).toBe(murmur2(Buffer.from([0xff])));
    expect(murmur2(Buffer.from([0x80, 0x81, 0x82, 0x83, 0x84]))).not.toBe(
      murmur2(Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04])),
    );
  });
});
