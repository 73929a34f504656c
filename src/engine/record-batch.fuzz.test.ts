import { crc32c } from "@node-rs/crc32";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import {
  checkBatch,
  decodeBatches,
  decodeRecords,
  encodeBatch,
  readBatchHeader,
} from "./record-batch.js";

/** Every decoder outcome must be records or a SLUICE_CORRUPT error value: never a throw. */
function decodeAnything(bytes: Buffer): void {
  const header = readBatchHeader(bytes, 0);
  if (header instanceof SluiceError) expect(header.code).toBe("SLUICE_CORRUPT");
  const checked = checkBatch(bytes, 0);
  if (!(checked instanceof SluiceError)) {
    const records = decodeRecords(bytes, 0, checked);
    if (records instanceof SluiceError) expect(records.code).toBe("SLUICE_CORRUPT");
  }
  // Decoding the records of an *unverified* header exercises the record parser on garbage.
  if (!(header instanceof SluiceError) && header.sizeBytes <= bytes.length) {
    const records = decodeRecords(bytes, 0, header);
    if (records instanceof SluiceError) expect(records.code).toBe("SLUICE_CORRUPT");
  }
  const all = decodeBatches(bytes);
  if (all instanceof SluiceError) expect(all.code).toBe("SLUICE_CORRUPT");
}

const recordArb = fc.record({
  key: fc.option(
    fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  value: fc.option(
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 8 }),
      value: fc.option(
        fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
        { nil: null },
      ),
    }),
    { maxLength: 3 },
  ),
});

describe("batch decoder fuzzing", () => {
  it("never throws on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        decodeAnything(Buffer.from(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it("never throws on mutated valid batches, with or without a re-signed CRC", () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.boolean(),
        (records, mutations, fixCrc) => {
          const batch = encodeBatch(records, { baseOffset: 5, defaultTimestamp: 1000 });
          for (const [at, byte] of mutations) batch[at % batch.length] = byte;
          // Re-sign the CRC so the record parser itself meets the damage.
          if (fixCrc && batch.length > 21) batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
          decodeAnything(batch);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("never loops or over-allocates on huge declared counts and lengths", () => {
    const batch = encodeBatch([{ value: Buffer.from("x") }], {
      baseOffset: 0,
      defaultTimestamp: 0,
    });
    batch.writeInt32BE(0x7fffffff, 57); // recordCount
    const header = readBatchHeader(batch, 0);
    expect(header).not.toBeInstanceOf(SluiceError);
    const result = decodeRecords(batch, 0, header as never);
    expect(result).toBeInstanceOf(SluiceError);
  });
});
