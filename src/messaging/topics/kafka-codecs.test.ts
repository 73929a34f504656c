import { describe, expect, it } from "vitest";
import { SluiceError } from "../../errors/index.js";
import { CompressionCodec, checkBatch, decodeRecords, encodeBatch } from "../../engine/index.js";
import { codecByName } from "../../engine/compression.js";
import { registerKafkaCodecs } from "./kafka-codecs.js";

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
});
