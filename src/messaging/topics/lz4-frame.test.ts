import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { decompressLz4Frame, xxh32Short } from "./lz4-frame.js";

const require = createRequire(import.meta.url);
const lz4 = require("lz4-napi") as typeof import("lz4-napi");

const KiB = 1024;

/** Records-like bytes: repetitive enough to compress, varied enough to need real matches. */
function sample(bytes: number, seed = 1): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = i % 100 < 60 ? 0x72 : 0x61 + ((x >>> 16) % 26);
  }
  return out;
}

/** Sets the frame's FLG and BD bytes and recomputes its header checksum (no content size or dictionary). */
function withDescriptor(frame: Buffer, flags: number, bd = frame[5]!): Buffer {
  const copy = Buffer.from(frame);
  copy[4] = flags;
  copy[5] = bd;
  copy[6] = (xxh32Short(copy.subarray(4, 6)) >>> 8) & 0xff;
  return copy;
}

/** A frame of the given descriptor holding `blocks`, each [bytes, uncompressed]. */
function frameOf(flags: number, bd: number, blocks: [Buffer, boolean][]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18, flags, bd, 0])];
  for (const [bytes, uncompressed] of blocks) {
    const size = Buffer.alloc(4);
    size.writeUInt32LE((bytes.length | (uncompressed ? 0x80000000 : 0)) >>> 0);
    parts.push(size, bytes);
  }
  parts.push(Buffer.alloc(4));
  return withDescriptor(Buffer.concat(parts), flags, bd);
}

/** One LZ4 block (no size prefix) of `data`. */
const block = (data: Buffer): Buffer => lz4.compressSync(data).subarray(4);

describe("LZ4 frames", () => {
  it("computes the header checksum as xxHash32 does", () => {
    expect(xxh32Short(Buffer.alloc(0))).toBe(0x02cc5d05); // xxHash32 of nothing, seed 0
    // librdkafka's frame descriptor (independent 64 KiB blocks) and the checksum byte it writes.
    expect((xxh32Short(Buffer.from([0x60, 0x40])) >>> 8) & 0xff).toBe(0x82);
  });

  it.each([
    ["independent blocks", undefined],
    ["block checksums", { blockChecksums: true }],
    ["a content checksum", { contentChecksum: true }],
  ])("decodes frames with %s as the reference decoder does", (_, options) => {
    for (const bytes of [0, 1, 100, 64 * KiB, 300 * KiB + 7, 1024 * KiB]) {
      const data = sample(bytes, bytes);
      const frame = lz4.compressFrameSync(data, options);
      // lz4-napi picks the block size from the input (up to 4 MiB), which bounds the output.
      expect(decompressLz4Frame(frame, 4 * 1024 * KiB).equals(data)).toBe(true);
    }
  });

  it("decodes frames of 64 KiB blocks, uncompressed blocks among them", () => {
    const parts = [sample(64 * KiB, 1), sample(64 * KiB, 2), sample(1000, 3)];
    const frame = frameOf(0x60, 0x40, [
      [block(parts[0]!), false],
      [parts[1]!, true],
      [block(parts[2]!), false],
    ]);
    expect(decompressLz4Frame(frame, 1024 * KiB).equals(Buffer.concat(parts))).toBe(true);
  });

  it("takes frames flagged with linked blocks through the reference decoder", () => {
    const data = sample(600 * KiB);
    const linked = withDescriptor(lz4.compressFrameSync(data), 0x40);
    expect(decompressLz4Frame(linked, 4 * 1024 * KiB).equals(data)).toBe(true);
  });

  it("refuses a frame whose blocks could exceed the limit before decoding any", () => {
    const bomb = lz4.compressFrameSync(Buffer.alloc(8 * 1024 * KiB));
    expect(() => decompressLz4Frame(bomb, 1024 * KiB)).toThrow(
      expect.objectContaining({ code: "ERR_BUFFER_TOO_LARGE" }),
    );
  });

  it("never lets a block decode past the frame's block size", () => {
    // One block holding 100 KiB, in a frame that declares 64 KiB blocks.
    const frame = frameOf(0x60, 0x40, [[block(Buffer.alloc(100 * KiB, 7)), false]]);
    expect(() => decompressLz4Frame(frame, 1024 * KiB)).toThrow();
  });

  it("refuses damaged frames", () => {
    const frame = lz4.compressFrameSync(sample(200 * KiB));
    const badChecksum = Buffer.from(frame);
    badChecksum[6]! ^= 0xff;
    expect(() => decompressLz4Frame(badChecksum, 1024 * KiB)).toThrow(/checksum/);
    expect(() => decompressLz4Frame(frame.subarray(0, frame.length - 10), 1024 * KiB)).toThrow(
      /truncated/,
    );
    expect(() => decompressLz4Frame(Buffer.from("not a frame at all"), 1024 * KiB)).toThrow();
    const garbled = Buffer.from(frame);
    for (let i = 20; i < garbled.length - 8; i += 7) garbled[i]! ^= 0x5a;
    expect(() => decompressLz4Frame(garbled, 1024 * KiB)).toThrow();
  });
});
