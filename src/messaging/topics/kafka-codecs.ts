import { createRequire } from "node:module";
import { registerCodec } from "../../engine/index.js";
import { outputTooLarge } from "./codec-output-limit.js";
import { compressLz4Frame, decompressLz4Frame } from "./lz4-frame.js";

// The codec packages are CommonJS native bindings whose exports Node's ESM loader cannot
// detect statically: load them with require, typed by their own declarations.
const require = createRequire(import.meta.url);
const snappy = require("@napi-rs/snappy") as typeof import("@napi-rs/snappy");
const zstd = require("zstd-napi") as typeof import("zstd-napi");
const { DCtx } = require("zstd-napi/binding") as typeof import("zstd-napi/binding.js");

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
    if (snappyLength(data) > maxOutputBytes) throw outputTooLarge("snappy", maxOutputBytes);
    return snappy.uncompressSync(data);
  }
  let total = 0;
  for (const block of blocks) total += snappyLength(block);
  if (total > maxOutputBytes) throw outputTooLarge("snappy", maxOutputBytes);
  return Buffer.concat(
    blocks.map((block) => snappy.uncompressSync(block)),
    total,
  );
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
    if (total > maxOutputBytes) throw outputTooLarge("zstd", maxOutputBytes);
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
    compress: compressLz4Frame,
    decompress: decompressLz4Frame,
  });
  registerCodec({
    name: "zstd",
    compress: (d) => zstd.compress(d, { compressionLevel: 3 }),
    decompress: zstdDecompress,
  });
}
