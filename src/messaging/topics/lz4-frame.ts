// LZ4 frames, the format of Kafka's lz4 codec (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md).
import { createRequire } from "node:module";
import { outputTooLarge } from "./codec-output-limit.js";

// lz4-napi is a CommonJS native binding: load it with require, typed by its declarations.
const require = createRequire(import.meta.url);
const lz4 = require("lz4-napi") as typeof import("lz4-napi");

const MAGIC = 0x184d2204;
const BLOCK_MAX_BYTES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
// Frame descriptor flags (FLG).
const VERSION_MASK = 0xc0;
const VERSION_01 = 0x40;
const BLOCK_INDEPENDENCE = 0x20;
const BLOCK_CHECKSUM = 0x10;
const CONTENT_SIZE = 0x08;
const CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const DICT_ID = 0x01;
/** A block size with this bit set holds its bytes uncompressed. */
const UNCOMPRESSED_BLOCK = 0x80000000;

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;
const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/** XXH32 (seed 0) of fewer than 16 bytes: what a frame's header checksum is taken from. */
export function xxh32Short(data: Buffer): number {
  let h = (PRIME5 + data.length) | 0;
  let i = 0;
  for (; i + 4 <= data.length; i += 4)
    h = Math.imul(rotl((h + Math.imul(data.readUInt32LE(i), PRIME3)) | 0, 17), PRIME4);
  for (; i < data.length; i++)
    h = Math.imul(rotl((h + Math.imul(data[i]!, PRIME5)) | 0, 11), PRIME1);
  h = Math.imul(h ^ (h >>> 15), PRIME2);
  h = Math.imul(h ^ (h >>> 13), PRIME3);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The blocks of a frame and what its descriptor says about them. */
interface FrameLayout {
  readonly blockMaxBytes: number;
  /** Independent blocks, no checksums, no content size or dictionary, nothing after the end mark. */
  readonly plain: boolean;
  /** [start, size, uncompressed] of each data block. */
  readonly blocks: ReadonlyArray<readonly [number, number, boolean]>;
}

/** Reads a frame's descriptor and walks its block sizes (no block is decoded). */
function layoutOf(data: Buffer): FrameLayout {
  if (data.length < 7 || data.readUInt32LE(0) !== MAGIC) throw new Error("lz4: not a frame");
  const flags = data[4]!;
  if ((flags & VERSION_MASK) !== VERSION_01 || (flags & FLG_RESERVED) !== 0)
    throw new Error("lz4: unsupported frame version or flags");
  const blockMaxBytes = BLOCK_MAX_BYTES[(data[5]! >> 4) & 7]!;
  if (blockMaxBytes === 0 || (data[5]! & 0x8f) !== 0) throw new Error("lz4: bad block size");
  const descriptorEnd =
    6 + ((flags & CONTENT_SIZE) !== 0 ? 8 : 0) + ((flags & DICT_ID) !== 0 ? 4 : 0);
  if (data.length < descriptorEnd + 1) throw new Error("lz4: truncated frame");
  if (data[descriptorEnd] !== ((xxh32Short(data.subarray(4, descriptorEnd)) >>> 8) & 0xff))
    throw new Error("lz4: frame descriptor checksum mismatch");
  const blockChecksumBytes = (flags & BLOCK_CHECKSUM) !== 0 ? 4 : 0;
  const blocks: [number, number, boolean][] = [];
  let pos = descriptorEnd + 1;
  for (;;) {
    if (pos + 4 > data.length) throw new Error("lz4: truncated frame");
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & ~UNCOMPRESSED_BLOCK;
    if (size > blockMaxBytes) throw new Error("lz4: block larger than the frame's block size");
    if (pos + size + blockChecksumBytes > data.length) throw new Error("lz4: truncated frame");
    blocks.push([pos, size, (word & UNCOMPRESSED_BLOCK) !== 0]);
    pos += size + blockChecksumBytes;
  }
  const plain =
    (flags & (BLOCK_CHECKSUM | CONTENT_SIZE | CONTENT_CHECKSUM | DICT_ID)) === 0 &&
    (flags & BLOCK_INDEPENDENCE) !== 0 &&
    pos === data.length;
  return { blockMaxBytes, plain, blocks };
}

/**
 * Decompresses one LZ4 frame, refusing (before decoding anything) a frame whose blocks could
 * hold more than `maxOutputBytes`: each block holds at most the frame's block size, so the
 * block count bounds the output. Frames of independent blocks without checksums (what
 * librdkafka and Java clients write) are decoded block by block, each into a buffer of the
 * block size that the decoder cannot overrun; this is several times faster than the binding's
 * frame decoder, which takes every other frame (linked blocks, checksums to verify).
 */
export function decompressLz4Frame(data: Buffer, maxOutputBytes: number): Buffer {
  const frame = layoutOf(data);
  if (frame.blocks.length * frame.blockMaxBytes > maxOutputBytes)
    throw outputTooLarge("lz4", maxOutputBytes);
  if (!frame.plain) return lz4.decompressFrameSync(data);
  const parts: Buffer[] = [];
  let total = 0;
  for (const [start, size, uncompressed] of frame.blocks) {
    let part: Buffer;
    if (uncompressed) part = data.subarray(start, start + size);
    else {
      // The binding decodes a block preceded by its output size, which also caps the output.
      const sized = Buffer.allocUnsafe(4 + size);
      sized.writeUInt32LE(frame.blockMaxBytes, 0);
      data.copy(sized, 4, start, start + size);
      part = lz4.uncompressSync(sized);
    }
    parts.push(part);
    total += part.length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** Compresses into one LZ4 frame of independent blocks. */
export function compressLz4Frame(data: Buffer): Buffer {
  return lz4.compressFrameSync(data);
}
