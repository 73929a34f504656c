import { crc32c } from "@node-rs/crc32";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import { CompressionCodec, MAX_DECOMPRESSED_BATCH_BYTES, codecById } from "./compression.js";
import { openLog } from "./log.js";
import {
  type BatchHeader,
  BATCH_HEADER_BYTES,
  checkBatch,
  decodeRecords,
  encodeBatch,
} from "./record-batch.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

const MiB = 1024 * 1024;
const gzip = codecById(CompressionCodec.gzip)!;

/** `mebibytes` MiB of zeros as concatenated gzip members: about 1 KiB per MiB it inflates to. */
function gzipBomb(mebibytes: number): Buffer {
  const member = gzipSync(Buffer.alloc(MiB), { level: 9 });
  return Buffer.concat(Array.from({ length: mebibytes }, () => member));
}

/** A gzip batch whose records section is `body`, with a correct length and CRC. */
function batchWithBody(body: Buffer): Buffer {
  const template = encodeBatch([{ value: Buffer.from("x") }], {
    baseOffset: 0,
    defaultTimestamp: 1_700_000_000_000,
    compression: CompressionCodec.gzip,
  });
  const batch = Buffer.concat([template.subarray(0, BATCH_HEADER_BYTES), body]);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

describe("decompression is capped", () => {
  it("gzip stops at maxOutputBytes instead of inflating a bomb", () => {
    const bomb = gzipBomb(3);
    expect(bomb.length).toBeLessThan(10 * 1024);
    expect(gzip.decompress(bomb, 4 * MiB).length).toBe(3 * MiB); // a real 3 MiB payload
    expect(() => gzip.decompress(bomb, 2 * MiB)).toThrow(
      expect.objectContaining({ code: "ERR_BUFFER_TOO_LARGE" }),
    );
  });

  it("decodeRecords turns an oversize decompression into SLUICE_CORRUPT", () => {
    const batch = batchWithBody(gzipBomb(3));
    const header = checkBatch(batch, 0);
    expect(header).not.toBeInstanceOf(SluiceError); // the CRC is fine: only the size is wrong
    const result = decodeRecords(batch, 0, header as BatchHeader, 2 * MiB);
    expect(result).toBeInstanceOf(SluiceError);
    expect(result).toMatchObject({
      code: "SLUICE_CORRUPT",
      message: expect.stringMatching(/decompresses to more than 2097152 bytes/) as unknown,
      details: { maxDecompressedBytes: 2 * MiB },
    });
  });

  it("a bomb offered as a raw batch is refused before it reaches disk, under the default cap", async () => {
    const log = await openLog("/data/log", {
      fs: new SimulatedFileSystem(),
      maintenanceIntervalMs: 0,
    });
    try {
      const bomb = gzipBomb(MAX_DECOMPRESSED_BATCH_BYTES / MiB + 1);
      expect(bomb.length).toBeLessThan(MAX_DECOMPRESSED_BATCH_BYTES / 256);
      await expect(log.appendRawBatch(batchWithBody(bomb))).rejects.toMatchObject({
        code: "SLUICE_VALIDATION",
        field: "batch.records",
        message: expect.stringMatching(/decompresses to more than 67108864 bytes/) as unknown,
      });
      expect(log.logEndOffset).toBe(0);
    } finally {
      await log.close();
    }
  });

  it("refuses to write a compressed batch larger than readers would decompress", () => {
    const big = [{ value: Buffer.alloc(4096) }];
    const options = { baseOffset: 0, defaultTimestamp: 0, maxUncompressedBytes: 4096 };
    expect(() => encodeBatch(big, { ...options, compression: CompressionCodec.gzip })).toThrow(
      expect.objectContaining({ code: "SLUICE_VALIDATION", field: "records" }),
    );
    expect(encodeBatch(big, options).length).toBeGreaterThan(4096); // uncompressed: no such limit
    const fits = encodeBatch([{ value: Buffer.alloc(4000) }], {
      ...options,
      compression: CompressionCodec.gzip,
    });
    expect(decodeRecords(fits, 0, checkBatch(fits, 0) as BatchHeader, 4096)).toHaveLength(1);
  });
});
