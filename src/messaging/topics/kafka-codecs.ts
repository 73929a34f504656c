import { createRequire } from "node:module";
import { registerCodec } from "../../engine/index.js";

// The codec packages are CommonJS native bindings whose exports Node's ESM loader cannot
// detect statically: load them with require, typed by their own declarations.
const require = createRequire(import.meta.url);
const snappy = require("@napi-rs/snappy") as typeof import("@napi-rs/snappy");
const lz4 = require("lz4-napi") as typeof import("lz4-napi");
const zstd = require("zstd-napi") as typeof import("zstd-napi");
const { DCtx } = require("zstd-napi/binding") as typeof import("zstd-napi/binding.js");

/** The error a codec throws when a batch would decompress past its limit (as zlib's maxOutputLength). */
function tooLarge(codec: string, maxOutputBytes: number): Error {
  const error = new RangeError(`${codec} output exceeds ${maxOutputBytes} bytes`) as Error & {
    code: string;
  };
  error.code = "ERR_BUFFER_TOO_LARGE";
  return error;
}

/** Snappy's preamble states the uncompressed length (a varint): checked before allocating. */
function snappyLength(data: Buffer): number {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5 && i < data.length; i++) {
    const byte = data[i]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
  }
  throw new Error("snappy: bad length preamble");
}

/** The header of xerial's snappy stream framing, which Java (and kafka-python) producers write. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/** The raw snappy blocks of a xerial-framed stream, or undefined for a plain snappy block. */
function xerialBlocks(data: Buffer): Buffer[] | undefined {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, 8).equals(XERIAL_MAGIC))
    return undefined;
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new Error("snappy: truncated xerial block length");
    const size = data.readUInt32BE(pos);
    pos += 4;
    if (pos + size > data.length) throw new Error("snappy: truncated xerial block");
    blocks.push(data.subarray(pos, pos + size));
    pos += size;
  }
  return blocks;
}

/** Plain or xerial-framed snappy, its stated sizes checked against the limit before decoding. */
function snappyDecompress(data: Buffer, maxOutputBytes: number): Buffer {
  const blocks = xerialBlocks(data);
  if (blocks === undefined) {
    if (snappyLength(data) > maxOutputBytes) throw tooLarge("snappy", maxOutputBytes);
    return snappy.uncompressSync(data);
  }
  let total = 0;
  for (const block of blocks) total += snappyLength(block);
  if (total > maxOutputBytes) throw tooLarge("snappy", maxOutputBytes);
  return Buffer.concat(
    blocks.map((block) => snappy.uncompressSync(block)),
    total,
  );
}

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/**
 * The most bytes an LZ4 frame can decompress to, from its headers alone: each block holds at
 * most the frame's block maximum, so walking the block sizes bounds the output exactly.
 */
function lz4FrameBound(data: Buffer): number {
  if (data.length < 7 || data.readUInt32LE(0) !== LZ4_MAGIC) throw new Error("lz4: not a frame");
  const flags = data[4]!;
  const blockMax = LZ4_BLOCK_MAX[(data[5]! >> 4) & 7]!;
  if (blockMax === 0) throw new Error("lz4: bad block size");
  let pos = 6 + ((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0) + 1;
  const blockChecksum = (flags & 0x10) !== 0 ? 4 : 0;
  let bound = 0;
  while (pos + 4 <= data.length) {
    const size = data.readUInt32LE(pos);
    pos += 4;
    if (size === 0) return bound;
    bound += blockMax;
    pos += (size & 0x7fffffff) + blockChecksum;
  }
  throw new Error("lz4: truncated frame");
}

const ZSTD_CHUNK = 128 * 1024;
let zstdContext: InstanceType<typeof DCtx> | undefined;

/** Streams zstd output in chunks and stops as soon as it passes the limit. */
function zstdDecompress(data: Buffer, maxOutputBytes: number): Buffer {
  zstdContext ??= new DCtx();
  const ctx = zstdContext;
  ctx.reset(1); // session only
  const parts: Buffer[] = [];
  let total = 0;
  let input = data;
  for (;;) {
    const chunk = Buffer.allocUnsafe(ZSTD_CHUNK);
    const [remaining, produced, consumed] = ctx.decompressStream(chunk, input);
    input = input.subarray(consumed);
    total += produced;
    if (total > maxOutputBytes) throw tooLarge("zstd", maxOutputBytes);
    if (produced > 0) parts.push(chunk.subarray(0, produced));
    if (remaining === 0 && input.length === 0) break;
    if (produced === 0 && consumed === 0) throw new Error("zstd: truncated frame");
  }
  return Buffer.concat(parts, total);
}

let registered = false;

/**
 * Registers snappy, lz4 (LZ4 frames, as Kafka writes them) and zstd with the engine. Every
 * decompressor honours the output limit before it allocates the output, so a crafted batch
 * of a few kilobytes cannot ask for gigabytes.
 */
export function registerKafkaCodecs(): void {
  if (registered) return;
  registered = true;
  registerCodec({
    name: "snappy",
    compress: (d) => snappy.compressSync(d),
    decompress: snappyDecompress,
  });
  registerCodec({
    name: "lz4",
    compress: (d) => lz4.compressFrameSync(d),
    decompress: (d, max) => {
      if (lz4FrameBound(d) > max) throw tooLarge("lz4", max);
      return lz4.decompressFrameSync(d);
    },
  });
  registerCodec({
    name: "zstd",
    compress: (d) => zstd.compress(d, { compressionLevel: 3 }),
    decompress: zstdDecompress,
  });
}
