import { describe, expect, it } from "vitest";
import { SluiceError } from "../../errors/index.js";
import { CompressionCodec, checkBatch, decodeRecords, encodeBatch } from "../../engine/index.js";
import { codecByName } from "../../engine/compression.js";
import { registerKafkaCodecs } from "./kafka-codecs.js";

/** Snappy in xerial's stream framing (as Java and kafka-python producers write it): 16-byte header, then blocks of a big-endian length and raw snappy. */
function xerialFramed(data: Buffer, blockBytes: number): Buffer {
  const snappy = codecByName("snappy")!;
  const header = Buffer.from([
    0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1,
  ]);
  const parts: Buffer[] = [header];
  for (let pos = 0; pos < data.length; pos += blockBytes) {
    const block = snappy.compress(data.subarray(pos, pos + blockBytes));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(block.length);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

registerKafkaCodecs();
const names = ["snappy", "lz4", "zstd"] as const;

describe("Kafka codecs", () => {
  it.each(names)("%s round-trips a batch of records", (name) => {
    const records = Array.from({ length: 200 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`value ${i} `.repeat(5)),
    }));
    const batch = encodeBatch(records, {
      baseOffset: 0,
      defaultTimestamp: 1,
      compression: CompressionCodec[name],
    });
    const header = checkBatch(batch, 0);
    if (header instanceof SluiceError) throw header;
    expect(header.attributes & 7).toBe(CompressionCodec[name]);
    const decoded = decodeRecords(batch, 0, header);
    if (decoded instanceof SluiceError) throw decoded;
    expect(decoded.map((r) => r.value?.toString())).toEqual(records.map((r) => r.value.toString()));
  });

  it.each(names)("%s refuses to decompress past the limit (a decompression bomb)", (name) => {
    const codec = codecByName(name)!;
    const bomb = codec.compress(Buffer.alloc(8 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(512 * 1024);
    expect(() => codec.decompress(bomb, 1024 * 1024)).toThrow(/exceeds/);
    expect(codec.decompress(bomb, 8 * 1024 * 1024).length).toBe(8 * 1024 * 1024);
  });

  it.each(names)("%s rejects garbage without crashing", (name) => {
    const codec = codecByName(name)!;
    expect(() => codec.decompress(Buffer.from("definitely not compressed"), 1024)).toThrow();
  });

  it("snappy reads xerial-framed streams, and bounds them by the sum of their blocks", () => {
    const codec = codecByName("snappy")!;
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => `record ${i};`).join(""));
    const framed = xerialFramed(data, 32 * 1024);
    expect(codec.decompress(framed, 1024 * 1024)).toEqual(data);
    expect(() => codec.decompress(framed, data.length - 1)).toThrow(/exceeds/);
    expect(() => codec.decompress(framed.subarray(0, framed.length - 3), 1024 * 1024)).toThrow();
  });
});
