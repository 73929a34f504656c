import { crc32c } from "@node-rs/crc32";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { openLog } from "./log.js";
import { encodeBatch } from "./record-batch.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";
import { writeVarint } from "./varint.js";

const TS = 1_700_000_000_000;

function produced(count = 3, options: { compression?: number } = {}): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`value ${i}`),
    timestamp: TS + i,
  }));
  return encodeBatch(records, { baseOffset: 0, defaultTimestamp: TS, ...options });
}

/** Edits a batch and recomputes its CRC, as a buggy or hostile producer would. */
function forged(batch: Buffer, edit: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(batch);
  edit(copy);
  copy.writeUInt32BE(crc32c(copy.subarray(21)), 17);
  return copy;
}

async function freshLog() {
  return openLog("/raw", { fs: new SimulatedFileSystem(), maintenanceIntervalMs: 0 });
}

async function rejection(batch: Buffer): Promise<{ code: string; field: string | undefined }> {
  const log = await freshLog();
  try {
    await log.appendRawBatch(batch);
  } catch (error) {
    if (!isSluiceError(error)) throw error;
    // Nothing of a rejected batch reaches the log.
    expect(log.logEndOffset).toBe(0);
    expect(log.sizeBytes).toBe(0);
    await log.close();
    return { code: error.code, field: error.field };
  }
  await log.close();
  throw new Error("the batch was accepted");
}

describe("appendRawBatch validates a produced batch whole before writing it", () => {
  it("accepts a well-formed batch, plain or compressed", async () => {
    const log = await freshLog();
    await log.appendRawBatch(produced(3));
    await log.appendRawBatch(produced(2, { compression: 1 }));
    expect(log.read(0).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    await log.close();
  });

  it("refuses a last offset delta beyond the record count (the log end would jump)", async () => {
    const batch = forged(produced(3), (b) => b.writeInt32BE(999_999, 23));
    expect(await rejection(batch)).toEqual({
      code: "SLUICE_VALIDATION",
      field: "batch.lastOffsetDelta",
    });
  });

  it("refuses malformed records even with a recomputed CRC", async () => {
    // The first record's length varint claims more bytes than the batch has.
    const batch = forged(produced(3), (b) => writeVarint(b, 61, 120));
    expect(await rejection(batch)).toMatchObject({ field: "batch.records" });
  });

  it("refuses records whose offset deltas are not 0, 1, 2, ...", async () => {
    const twoFromOne = encodeBatch(
      [
        { value: Buffer.from("a"), timestamp: TS },
        { value: Buffer.from("b"), timestamp: TS },
      ],
      { baseOffset: 0, defaultTimestamp: TS, offsetDeltas: [0, 0], lastOffsetDelta: 1 },
    );
    expect(await rejection(twoFromOne)).toMatchObject({ field: "batch.records[1].offsetDelta" });
  });

  it("refuses a batch over maxBatchBytes, and a record over maxRecordBytes", async () => {
    const big = encodeBatch([{ value: Buffer.alloc(5000), timestamp: TS }], {
      baseOffset: 0,
      defaultTimestamp: TS,
    });
    const log = await openLog("/raw", {
      fs: new SimulatedFileSystem(),
      maintenanceIntervalMs: 0,
      maxBatchBytes: 4096,
    });
    await expect(log.appendRawBatch(big)).rejects.toMatchObject({ field: "batch" });
    await log.close();
    const small = await openLog("/raw2", {
      fs: new SimulatedFileSystem(),
      maintenanceIntervalMs: 0,
      maxRecordBytes: 1000,
    });
    await expect(small.appendRawBatch(big)).rejects.toMatchObject({ field: "batch.records[0]" });
    await small.close();
  });

  it("counts header keys (as UTF-8) and values toward maxRecordBytes, naming the first record over", async () => {
    const record = (headerBytes: number) => ({
      value: Buffer.alloc(600),
      headers: [{ key: "é".repeat(headerBytes / 4), value: Buffer.alloc(headerBytes / 2) }],
      timestamp: TS,
    });
    // Record 1: 600 + 200 (100 two-byte characters) + 200 = 1000 bytes; record 2: 1200.
    const batch = encodeBatch([record(0), record(400), record(800)], {
      baseOffset: 0,
      defaultTimestamp: TS,
    });
    const log = await openLog("/raw", {
      fs: new SimulatedFileSystem(),
      maintenanceIntervalMs: 0,
      maxRecordBytes: 999,
    });
    await expect(log.appendRawBatch(batch)).rejects.toMatchObject({
      field: "batch.records[1]",
      message: expect.stringContaining("1000 bytes") as unknown,
    });
    await log.close();
  });

  it("appends a batch checked beforehand without reading its records again, as a copy", async () => {
    const log = await freshLog();
    const batch = produced(3, { compression: 1 });
    log.checkProducedBatch(batch);
    await log.appendRawBatch(batch, "data", "checked");
    batch.fill(0); // the caller's buffer is its own again
    expect(log.read(0).map((r) => r.value?.toString())).toEqual(["value 0", "value 1", "value 2"]);
    const malformed = forged(produced(3), (b) => writeVarint(b, 61, 120));
    expect(() => log.checkProducedBatch(malformed)).toThrow(
      expect.objectContaining({ field: "batch.records" }),
    );
    await log.close();
  });

  it("refuses control and transactional batches (their own API will own them)", async () => {
    for (const bit of [0x10, 0x20]) {
      const batch = forged(produced(1), (b) => b.writeInt16BE(bit, 21));
      expect(await rejection(batch)).toMatchObject({ field: "batch.attributes" });
    }
  });

  it("takes a transactional batch only as 'transactional', a marker only as 'control'", async () => {
    const withBits = (bits: number) =>
      encodeBatch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], {
        baseOffset: 0,
        defaultTimestamp: TS,
        attributes: bits,
        producer: { producerId: 7, producerEpoch: 0, baseSequence: bits === 0x30 ? -1 : 0 },
      });
    const log = await freshLog();
    await expect(log.appendRawBatch(withBits(0x30), "transactional")).rejects.toMatchObject({
      field: "batch.attributes",
    });
    await expect(log.appendRawBatch(withBits(0x10), "control")).rejects.toMatchObject({
      field: "batch.attributes",
    });
    await log.appendRawBatch(withBits(0x10), "transactional");
    await log.appendRawBatch(withBits(0x00), "transactional");
    await log.appendRawBatch(withBits(0x30), "control");
    expect(log.logEndOffset).toBe(3);
    await log.close();
  });

  it("refuses a compressed batch that decompresses past the 64 MiB cap", async () => {
    // A few hundred kilobytes of gzip that would inflate to 80 MiB.
    const bomb = gzipSync(Buffer.alloc(80 * 1024 * 1024), { level: 9 });
    const header = produced(1, { compression: 1 }).subarray(0, 61);
    const batch = forged(Buffer.concat([header, bomb]), (b) => b.writeInt32BE(b.length - 12, 8));
    expect(await rejection(batch)).toMatchObject({ field: "batch.records" });
  });

  it("refuses a header whose max timestamp is not the records'", async () => {
    const batch = forged(produced(3), (b) => b.writeBigInt64BE(BigInt(TS + 1_000_000), 35));
    expect(await rejection(batch)).toMatchObject({ field: "batch.maxTimestamp" });
  });

  it("refuses a bad CRC, trailing bytes and an empty batch", async () => {
    const flipped = Buffer.from(produced(2));
    flipped[70]! ^= 1;
    expect(await rejection(flipped)).toMatchObject({ field: "batch" });
    expect(await rejection(Buffer.concat([produced(1), Buffer.alloc(3)]))).toMatchObject({
      field: "batch",
    });
    const empty = encodeBatch([], { baseOffset: 0, defaultTimestamp: TS, lastOffsetDelta: 0 });
    expect(await rejection(empty)).toMatchObject({ field: "batch.recordCount" });
  });
});
