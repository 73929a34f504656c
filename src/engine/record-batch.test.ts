import { crc32c } from "@node-rs/crc32";
import { describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import type { LogRecord } from "./record.js";
import {
  batchFits,
  type BatchHeader,
  BATCH_HEADER_BYTES,
  checkBatch,
  decodeBatches,
  decodeRecords,
  decodeRecordsInto,
  encodeBatch,
  readBatchHeader,
  RecordBatchBuilder,
  setBaseOffset,
} from "./record-batch.js";
import { readVarint, varintSize, writeVarint } from "./varint.js";

const records = [
  {
    key: Buffer.from("k1"),
    value: Buffer.from("hello"),
    timestamp: 1_700_000_000_000,
    headers: [{ key: "trace", value: Buffer.from("abc") }],
  },
  { key: null, value: Buffer.from("world"), timestamp: 1_700_000_000_005 },
  {
    key: Buffer.from("k1"),
    value: null,
    timestamp: 1_700_000_000_009,
    headers: [{ key: "h", value: null }],
  },
];

describe("RecordBatch v2", () => {
  it("lays out Kafka's header fields at Kafka's offsets", () => {
    const batch = encodeBatch(records, {
      baseOffset: 42,
      defaultTimestamp: 0,
      producer: { producerId: 7, producerEpoch: 3, baseSequence: 11 },
    });
    expect(batch.readBigInt64BE(0)).toBe(42n); // baseOffset
    expect(batch.readInt32BE(8)).toBe(batch.length - 12); // batchLength
    expect(batch.readInt32BE(12)).toBe(-1); // partitionLeaderEpoch
    expect(batch.readInt8(16)).toBe(2); // magic
    expect(batch.readUInt32BE(17)).toBe(crc32c(batch.subarray(21))); // CRC-32C from attributes on
    expect(batch.readInt16BE(21)).toBe(0); // attributes: no compression, create time
    expect(batch.readInt32BE(23)).toBe(2); // lastOffsetDelta
    expect(batch.readBigInt64BE(27)).toBe(1_700_000_000_000n); // baseTimestamp
    expect(batch.readBigInt64BE(35)).toBe(1_700_000_000_009n); // maxTimestamp
    expect(batch.readBigInt64BE(43)).toBe(7n); // producerId
    expect(batch.readInt16BE(51)).toBe(3); // producerEpoch
    expect(batch.readInt32BE(53)).toBe(11); // baseSequence
    expect(batch.readInt32BE(57)).toBe(3); // recordCount
    // First record: length varint, attributes 0, timestampDelta 0, offsetDelta 0, key "k1".
    const first = BATCH_HEADER_BYTES;
    expect(batch[first + 1]).toBe(0);
    expect(batch[first + 2]).toBe(0);
    expect(batch[first + 3]).toBe(0);
    expect(batch[first + 4]).toBe(4); // zig-zag of key length 2
    expect(batch.subarray(first + 5, first + 7).toString()).toBe("k1");
  });

  it("round-trips keys, values, nulls, headers, timestamps and offsets", () => {
    const batch = encodeBatch(records, { baseOffset: 1000, defaultTimestamp: 0 });
    const header = checkBatch(batch, 0);
    expect(header).not.toBeInstanceOf(SluiceError);
    const decoded = decodeRecords(batch, 0, header as BatchHeader) as LogRecord[];
    expect(decoded).toHaveLength(3);
    expect(decoded.map((r) => r.offset)).toEqual([1000, 1001, 1002]);
    expect(decoded.map((r) => r.timestamp)).toEqual(records.map((r) => r.timestamp));
    expect(decoded[0]!.key?.toString()).toBe("k1");
    expect(decoded[0]!.headers).toEqual([{ key: "trace", value: Buffer.from("abc") }]);
    expect(decoded[1]!.key).toBeNull();
    expect(decoded[2]!.value).toBeNull();
    expect(decoded[2]!.headers).toEqual([{ key: "h", value: null }]);
  });

  it("decodes just a range of a batch, the same records a full decode gives", () => {
    const batch = encodeBatch(records, { baseOffset: 1000, defaultTimestamp: 0 });
    const header = checkBatch(batch, 0) as BatchHeader;
    const all = decodeRecords(batch, 0, header) as LogRecord[];
    for (let from = 999; from <= 1003; from++)
      for (let max = 1; max <= 3; max++)
        expect(
          decodeRecords(batch, 0, header, undefined, { fromOffset: from, maxRecords: max }),
        ).toEqual(all.filter((r) => r.offset >= from).slice(0, max));
  });

  it("keeps offset gaps (as compaction writes them) and gzip-compressed bodies", () => {
    const batch = encodeBatch(records, {
      baseOffset: 10,
      defaultTimestamp: 0,
      offsetDeltas: [0, 5, 9],
      compression: 1,
    });
    expect(batch.readInt16BE(21) & 7).toBe(1);
    const decoded = decodeBatches(batch);
    expect(decoded).not.toBeInstanceOf(SluiceError);
    expect((decoded as { offset: number }[]).map((r) => r.offset)).toEqual([10, 15, 19]);
  });

  it("builds record by record the same bytes encodeBatch writes, growing past its first size", () => {
    const producer = { producerId: 7, producerEpoch: 1, baseSequence: 40 };
    for (const compression of [0, 1]) {
      const builder = new RecordBatchBuilder(1); // far too small: every record makes it grow
      for (const r of records) builder.append(r.key, r.value, r.timestamp, r.headers);
      const options = { baseOffset: 3, defaultTimestamp: 0, producer, compression };
      const built = builder.finish(options);
      expect(built.equals(encodeBatch(records, options))).toBe(true);
      expect(checkBatch(built, 0)).not.toBeInstanceOf(SluiceError);
    }
  });

  it("writes string values and header keys as UTF-8, the same bytes as encodeBatch", () => {
    const texts = ["plain", "", "née ✓ 𝄞", "x".repeat(300)];
    const keys = ["h", "ключ", "k".repeat(40), "long ünïcode key ".repeat(3)];
    const fromStrings = new RecordBatchBuilder(1);
    const inputs = texts.map((text, i) => ({
      key: Buffer.from("k"),
      value: Buffer.from(text, "utf8"),
      timestamp: 1000 + i,
      headers: [{ key: keys[i]!, value: Buffer.of(i) }],
    }));
    for (const [i, r] of inputs.entries())
      fromStrings.append(r.key, texts[i]!, r.timestamp, r.headers);
    const options = { baseOffset: 0, defaultTimestamp: 0 };
    const built = fromStrings.finish(options);
    expect(built.equals(encodeBatch(inputs, options))).toBe(true);
    const decoded = decodeBatches(built) as LogRecord[];
    expect(decoded.map((r) => r.value?.toString("utf8"))).toEqual(texts);
    expect(decoded.map((r) => r.headers[0]!.key)).toEqual(keys);
  });

  it("writes a record's one header in place, the same bytes as append with that header", () => {
    const texts = ["plain", "née ✓ 𝄞", "x".repeat(300), "y".repeat(20)];
    const headerValues = [Buffer.of(1, 2, 3), Buffer.alloc(0), Buffer.alloc(200, 7), Buffer.of(9)];
    const headerKeys = ["m", "ключ", "m", "k".repeat(130)];
    const keys = [Buffer.from("m"), null, Buffer.from("key"), Buffer.from("m")];
    const copyInto = (buf: Buffer, pos: number, value: Buffer): number => {
      buf.set(value, pos);
      return pos + value.length;
    };
    const inPlace = new RecordBatchBuilder(1); // grows on every record
    const copied = new RecordBatchBuilder(1);
    for (const [i, text] of texts.entries()) {
      const value = headerValues[i]!;
      const timestamp = 5000 + 1000 * i; // timestamp deltas of two bytes as varints
      inPlace.appendWithHeader(
        keys[i]!,
        text,
        timestamp,
        headerKeys[i]!,
        value.length,
        copyInto,
        value,
      );
      copied.append(keys[i]!, text, timestamp, [{ key: headerKeys[i]!, value }]);
    }
    const options = { baseOffset: 200, defaultTimestamp: 0 };
    const built = inPlace.finish(options);
    expect(built.equals(copied.finish(options))).toBe(true);
    const decoded = decodeBatches(built) as LogRecord[];
    expect(decoded.map((r) => r.headers[0]!.value)).toEqual(headerValues);
    const short = new RecordBatchBuilder(64);
    expect(() => short.appendWithHeader(null, "v", 0, "m", 4, (_b, pos) => pos + 3, null)).toThrow(
      RangeError,
    );
  });

  it("builds in a caller's scratch buffer and copies each batch out of it", () => {
    const scratch = Buffer.alloc(BATCH_HEADER_BYTES + 1024);
    const options = { baseOffset: 0, defaultTimestamp: 0 };
    const first = new RecordBatchBuilder(1024, scratch);
    for (const r of records) first.append(r.key, r.value, r.timestamp, r.headers);
    const batch = first.finish(options);
    expect(batch.equals(encodeBatch(records, options))).toBe(true);
    expect(first.buffer).toBe(scratch);
    // The next batch reuses the scratch buffer: the first must not change.
    const copy = Buffer.from(batch);
    const second = new RecordBatchBuilder(1024, first.buffer);
    second.append(Buffer.from("other"), "y".repeat(200), 0);
    second.finish(options);
    expect(second.buffer).toBe(scratch);
    expect(batch.equals(copy)).toBe(true);
    const third = new RecordBatchBuilder(1024, second.buffer);
    third.append(null, "x".repeat(5000), 0); // past the scratch buffer: it grows
    const large = third.finish(options);
    expect(third.buffer).not.toBe(scratch);
    expect((decodeBatches(large) as LogRecord[])[0]!.value?.toString()).toBe("x".repeat(5000));
  });

  it("decodes into the reader's own objects and array, within a range", () => {
    const batch = encodeBatch(records, { baseOffset: 10, defaultTimestamp: 0 });
    const header = checkBatch(batch, 0) as BatchHeader;
    const out: string[] = ["earlier"];
    const error = decodeRecordsInto(
      batch,
      0,
      header,
      out,
      (offset, _t, _k, value, headers) =>
        `${offset}:${value?.toString() ?? "null"}:${headers.length}`,
      { fromOffset: 11, maxRecords: 10, endOffset: 12 },
    );
    expect(error).toBeUndefined();
    expect(out).toEqual(["earlier", "11:world:0"]);
  });

  it("lets the base offset change without touching the CRC", () => {
    const batch = encodeBatch(records, { baseOffset: 0, defaultTimestamp: 0 });
    setBaseOffset(batch, 123_456_789_012);
    const header = checkBatch(batch, 0);
    expect(header).not.toBeInstanceOf(SluiceError);
    expect((header as { baseOffset: number }).baseOffset).toBe(123_456_789_012);
  });

  it("detects a flipped bit anywhere after the CRC field", () => {
    const batch = encodeBatch(records, { baseOffset: 0, defaultTimestamp: 0 });
    for (let at = 21; at < batch.length; at += 7) {
      const damaged = Buffer.from(batch);
      damaged[at]! ^= 0x10;
      const result = checkBatch(damaged, 0);
      expect(result).toBeInstanceOf(SluiceError);
      expect((result as SluiceError).code).toBe("SLUICE_CORRUPT");
    }
  });

  it("reports a truncated header or body as corruption, not an exception", () => {
    const batch = encodeBatch(records, { baseOffset: 0, defaultTimestamp: 0 });
    expect(readBatchHeader(batch.subarray(0, 30), 0)).toBeInstanceOf(SluiceError);
    expect(checkBatch(batch.subarray(0, batch.length - 1), 0)).toBeInstanceOf(SluiceError);
  });
});

describe("zig-zag varints", () => {
  it("round-trip values across the safe integer range", () => {
    const values = [
      0,
      1,
      -1,
      63,
      -64,
      64,
      300,
      -300,
      8191, // the largest two-byte values
      -8192,
      8192,
      -8193,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 40 + 5,
      -(2 ** 45),
      Number.MAX_SAFE_INTEGER >> 2,
    ];
    for (const v of values) {
      const buf = Buffer.alloc(10);
      const end = writeVarint(buf, 0, v);
      expect(end).toBe(varintSize(v));
      expect(readVarint(buf, { pos: 0 }, end)).toBe(v);
    }
  });

  it("refuses a varint cut short by the end", () => {
    const buf = Buffer.alloc(10);
    for (const v of [300, -8192, 2 ** 20]) {
      const end = writeVarint(buf, 0, v);
      expect(readVarint(buf, { pos: 0 }, end - 1)).toBeUndefined();
    }
  });

  it("refuses a varint longer than 10 bytes", () => {
    expect(readVarint(Buffer.alloc(12, 0xff), { pos: 0 }, 12)).toBeUndefined();
  });
});

describe("batchFits", () => {
  it("tells a batch whole in the buffer from one cut short, header or body", () => {
    const batch = encodeBatch([{ value: Buffer.from("v") }], {
      baseOffset: 0,
      defaultTimestamp: 1,
    });
    const two = Buffer.concat([batch, batch]);
    expect(batchFits(two, 0)).toBe(true);
    expect(batchFits(two, batch.length)).toBe(true);
    expect(batchFits(two.subarray(0, two.length - 1), batch.length)).toBe(false);
    expect(batchFits(two.subarray(0, batch.length + 11), batch.length)).toBe(false);
    expect(batchFits(two, batch.length, two.length - 1)).toBe(false);
  });
});
