import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { murmur2, partitionForKey } from "./murmur2.js";

const require = createRequire(import.meta.url);
/** kafkajs's default partitioner's hash (a dev dependency): a port of Kafka's Java murmur2. */
const kafkajsMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2.js") as (
  key: Buffer,
) => number;

/** Vectors from Kafka's UtilsTest.testMurmur2 (Apache License 2.0). */
const KAFKA_VECTORS: ReadonlyArray<readonly [string, number]> = [
  ["21", -973932308],
  ["foobar", -790332482],
  ["a-little-bit-long-string", -985981536],
  ["a-little-bit-longer-string", -1486304829],
  ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ["abc", 479470107],
];

describe("murmur2", () => {
  it.each(KAFKA_VECTORS)("hashes %s as Kafka does", (input, expected) => {
    expect(murmur2(Buffer.from(input))).toBe(expected);
  });

  it("places keys with the positive modulo (toPositive, not Math.abs)", () => {
    // toPositive(-790332482) = 1357151166, and 1357151166 % 50 = 16
    expect(partitionForKey(Buffer.from("foobar"), 50)).toBe(16);
    expect(partitionForKey(Buffer.from("21"), 7)).toBe((-973932308 & 0x7fffffff) % 7);
  });

  it("hashes every byte string as kafkajs's port of Kafka's Java murmur2 does, bytes above 0x7f included", () => {
    // kafkajs's default partitioner hashes with a line-by-line port of Utils.murmur2 (64-bit
    // Long arithmetic, each byte masked with 0xff as Java's signed bytes are), so it is an
    // independent reference for inputs Kafka's own vectors (all ASCII) do not reach.
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const inputs: Buffer[] = [];
    for (let length = 0; length <= 40; length++) {
      // Random bytes, bytes all >= 0x80, and a high byte in each tail position.
      for (let i = 0; i < 25; i++)
        inputs.push(Buffer.from(Array.from({ length }, () => next() & 0xff)));
      inputs.push(Buffer.from(Array.from({ length }, () => 0x80 | (next() & 0x7f))));
      inputs.push(Buffer.alloc(length, 0xff));
      for (let at = 0; at < length; at++) {
        const one = Buffer.alloc(length, 0x41);
        one[at] = 0x80 | (next() & 0x7f);
        inputs.push(one);
      }
    }
    expect(inputs.some((b) => b.some((byte) => byte >= 0x80))).toBe(true);
    // The reference is Kafka's: it gives Kafka's own vectors.
    for (const [text, hash] of KAFKA_VECTORS) expect(kafkajsMurmur2(Buffer.from(text))).toBe(hash);
    for (const input of inputs)
      expect(murmur2(input), `murmur2 of ${input.toString("hex")}`).toBe(kafkajsMurmur2(input));
  });
});
