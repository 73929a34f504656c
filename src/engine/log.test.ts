import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { MetricsRegistry } from "../observability/index.js";
import { type Clock, VirtualClock } from "../time/index.js";
import { compactLog } from "./compactor.js";
import { type Log, openLog } from "./log.js";
import { encodeBatch, readBatchHeader } from "./record-batch.js";
import type { LogOptions } from "./log-options.js";
import type { RecordInput } from "./record.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

const DIR = "/data/log";
const value = (i: number): Buffer => Buffer.from(`value-${i}`.padEnd(100, "."));
const rec = (i: number, key?: string) => ({
  key: key === undefined ? null : Buffer.from(key),
  value: value(i),
});

const open: Log[] = [];
async function openSim(fs: SimulatedFileSystem, options: LogOptions = {}): Promise<Log> {
  const log = await openLog(DIR, { fs, maintenanceIntervalMs: 0, ...options });
  open.push(log);
  return log;
}
afterEach(async () => {
  for (const log of open.splice(0)) if (!log.isClosed) await log.close();
});

async function appendMany(
  log: Log,
  count: number,
  perBatch = 10,
  keyOf?: (i: number) => string,
): Promise<void> {
  for (let i = 0; i < count; i += perBatch) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + perBatch); j++) batch.push(rec(j, keyOf?.(j)));
    await log.append(batch);
  }
}

describe("Log append and read", () => {
  it("assigns consecutive offsets and reads them back from any offset", async () => {
    const log = await openSim(new SimulatedFileSystem());
    const first = await log.append([rec(0), rec(1)]);
    expect(first).toMatchObject({ baseOffset: 0, lastOffset: 1 });
    await appendMany(log, 998);
    expect(log.logEndOffset).toBe(1000);
    const read = log.read(500, { maxRecords: 3 });
    expect(read.map((r) => r.offset)).toEqual([500, 501, 502]);
    expect(read[0]!.value).toEqual(value(498));
    expect(log.read(1000)).toEqual([]);
  });

  it("rolls segments by size and finds offsets in every segment through the index", async () => {
    const log = await openSim(new SimulatedFileSystem(), {
      segmentBytes: 8 * 1024,
      indexIntervalBytes: 512,
    });
    await appendMany(log, 2000, 7);
    const segments = log.segmentInfos();
    expect(segments.length).toBeGreaterThan(10);
    expect(segments.every((s) => s.sizeBytes <= 8 * 1024)).toBe(true);
    for (const s of segments) {
      expect(log.read(s.baseOffset, { maxRecords: 1 })[0]!.offset).toBe(s.baseOffset);
      expect(log.read(s.nextOffset - 1, { maxRecords: 1 })[0]!.offset).toBe(s.nextOffset - 1);
    }
    const all = log.read(0, { maxRecords: 5000, maxBytes: 10 * 1024 * 1024 });
    expect(all.map((r) => r.offset)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it("rolls a segment by age using the clock", async () => {
    const clock = new VirtualClock();
    const log = await openSim(new SimulatedFileSystem(), { clock, segmentMs: 60_000 });
    await log.append([rec(0)]);
    await clock.advance(30_000);
    await log.append([rec(1)]);
    expect(log.segmentInfos()).toHaveLength(1);
    await clock.advance(31_000);
    await log.append([rec(2)]);
    expect(log.segmentInfos().map((s) => s.baseOffset)).toEqual([0, 2]);
  });

  it("limits a read by bytes but always returns at least one record", async () => {
    const log = await openSim(new SimulatedFileSystem());
    await appendMany(log, 100, 1);
    expect(log.read(0, { maxBytes: 1 })).toHaveLength(1);
    const some = log.read(0, { maxBytes: 1500 });
    expect(some.length).toBeGreaterThan(1);
    expect(some.length).toBeLessThan(20);
  });

  it("finds the first offset at or after a timestamp", async () => {
    const log = await openSim(new SimulatedFileSystem(), {
      segmentBytes: 4096,
      indexIntervalBytes: 256,
    });
    for (let i = 0; i < 500; i++)
      await log.append([{ value: value(i), timestamp: 1_000_000 + i * 10 }]);
    expect(log.offsetForTimestamp(0)).toBe(0);
    expect(log.offsetForTimestamp(1_000_000 + 2500)).toBe(250);
    expect(log.offsetForTimestamp(1_000_000 + 2501)).toBe(251);
    expect(log.offsetForTimestamp(1_000_000 + 4990)).toBe(499);
    expect(log.offsetForTimestamp(1_000_000 + 4991)).toBeUndefined();
  });

  it("finds times after records are deleted from the start: later batches of the segment, never below the log start", async () => {
    const log = await openSim(new SimulatedFileSystem());
    // One segment: offsets 0-9 at t=1000..1009 (one batch), offsets 10-19 at t=2000..2009.
    for (const base of [1000, 2000])
      await log.append(
        Array.from({ length: 10 }, (_, i) => ({ value: value(i), timestamp: base + i })),
      );
    expect(log.segmentInfos()).toHaveLength(1);
    expect(log.offsetForTimestamp(1003)).toBe(3);
    await log.deleteRecordsBefore(10);
    // The batch holding t=1003 lies wholly below the log start: the next batch answers.
    expect(log.offsetForTimestamp(0)).toBe(10);
    expect(log.offsetForTimestamp(1003)).toBe(10);
    expect(log.offsetForTimestamp(1500)).toBe(10);
    expect(log.offsetForTimestamp(2005)).toBe(15);
    expect(log.offsetForTimestamp(2010)).toBeUndefined();
    // A log start inside a batch: that batch's records below it are not answers either.
    await log.deleteRecordsBefore(13);
    expect(log.offsetForTimestamp(1003)).toBe(13);
    expect(log.offsetForTimestamp(2001)).toBe(13);
    expect(log.offsetForTimestamp(2004)).toBe(14);
  });

  it("finds times past batches below the log start, across segments", async () => {
    const log = await openSim(new SimulatedFileSystem(), { segmentBytes: 4096 });
    for (let i = 0; i < 200; i++) await log.append([{ value: value(i), timestamp: 1000 + i }]);
    const segments = log.segmentInfos();
    expect(segments.length).toBeGreaterThan(2);
    const start = segments[1]!.baseOffset + 3;
    await log.deleteRecordsBefore(start);
    expect(log.offsetForTimestamp(0)).toBe(start);
    expect(log.offsetForTimestamp(1000 + start - 2)).toBe(start);
    expect(log.offsetForTimestamp(1000 + start + 1)).toBe(start + 1);
    expect(log.offsetForTimestamp(1000 + segments[2]!.baseOffset)).toBe(segments[2]!.baseOffset);
  });

  it("indexes time when batches share a timestamp, so a lookup reads about one index interval", async () => {
    const fs = new SimulatedFileSystem();
    let bytesRead = 0;
    const openFile = fs.open.bind(fs);
    fs.open = (path, mode) => {
      const handle = openFile(path, mode);
      const read = handle.read.bind(handle);
      handle.read = (target, targetOffset, length, position) => {
        const n = read(target, targetOffset, length, position);
        bytesRead += n;
        return n;
      };
      return handle;
    };
    const log = await openSim(fs, { indexIntervalBytes: 256 });
    // Pairs of batches with one timestamp, sized so that every index entry after the first
    // falls on the second batch of a pair (as an append and a snapshot saved with it do).
    for (let i = 0; i < 300; i++) {
      const timestamp = 1_000_000 + i * 10;
      await log.append([{ value: Buffer.alloc(240, 1), timestamp }]);
      await log.append([{ value: Buffer.alloc(100, 2), timestamp }]);
    }
    bytesRead = 0;
    expect(log.offsetForTimestamp(1_000_000 + 2495)).toBe(500);
    expect(log.offsetForTimestamp(1_000_000 + 2500)).toBe(500);
    expect(log.offsetForTimestamp(1_000_000 + 2501)).toBe(502);
    // The log is about 130 KiB; each lookup needs only its index entry's neighbourhood.
    expect(bytesRead / 3).toBeLessThan(40 * 1024);
  });

  it("serves raw batches for fetches without re-encoding", async () => {
    const log = await openSim(new SimulatedFileSystem());
    await appendMany(log, 30, 10);
    const bytes = log.readBatches(15);
    expect(bytes.readBigInt64BE(0)).toBe(10n);
    expect(bytes.length).toBeGreaterThan(0);
  });

  it("keeps raw batches within maxBytes, but always serves the first batch whole", async () => {
    const log = await openSim(new SimulatedFileSystem());
    await appendMany(log, 30, 10);
    const all = log.readBatches(0);
    const sizes: number[] = [];
    for (let at = 0; at < all.length;) {
      const header = readBatchHeader(all, at) as { sizeBytes: number };
      sizes.push(header.sizeBytes);
      at += header.sizeBytes;
    }
    expect(sizes).toHaveLength(3);
    expect(log.readBatches(0, sizes[0]! + sizes[1]! - 1).length).toBe(sizes[0]);
    expect(log.readBatches(0, sizes[0]! + sizes[1]!).length).toBe(sizes[0]! + sizes[1]!);
    expect(log.readBatches(0, 1).length).toBe(sizes[0]);
    expect(() => log.readBatches(0, 0)).toThrow(/maxBytes/);
  });

  it("appends a raw Kafka batch with the log's offsets", async () => {
    const { encodeBatch } = await import("./record-batch.js");
    const log = await openSim(new SimulatedFileSystem());
    await appendMany(log, 5, 5);
    const produced = encodeBatch([{ value: Buffer.from("a") }, { value: Buffer.from("b") }], {
      baseOffset: 0,
      defaultTimestamp: Date.now(),
    });
    const result = await log.appendRawBatch(produced);
    expect(result).toMatchObject({ baseOffset: 5, lastOffset: 6 });
    expect(log.read(5).map((r) => r.value!.toString())).toEqual(["a", "b"]);
  });
});

describe("Log reading from the file in chunks", () => {
  it("reads batches that straddle the end of a chunk whole, from the next chunk", async () => {
    const log = await openSim(new SimulatedFileSystem(), { tailCacheBytes: 0 });
    // 5 KiB batches: the first 16 KiB chunk ends inside the fourth.
    for (let i = 0; i < 12; i++) await log.append([{ value: Buffer.alloc(5000, i) }]);
    const values = log.read(0, { maxBytes: 1024 * 1024 }).map((r) => r.value![0]);
    expect(values).toEqual([...Array(12).keys()]);
  });
});

describe("Log handing batch buffers back to their writer", () => {
  it("holds at most tailCacheBatches batches in memory (1024 by default), however small", async () => {
    const log = await openSim(new SimulatedFileSystem());
    const released: Buffer[] = [];
    for (let i = 0; i < 1100; i++) {
      const b = encodeBatch([{ value: Buffer.of(i & 0xff) }], {
        baseOffset: 0,
        defaultTimestamp: 1_000 + i,
      });
      await log.appendRawBatch(b, "data", "encoded-here", (x) => void released.push(x));
    }
    // Far under the 8 MiB byte bound: only the count lets the oldest 76 go.
    expect(released).toHaveLength(1100 - 1024);
    await log.close();
  });

  it("gives back a batch built here once the tail cache lets it go unread, never one a reader saw", async () => {
    const log = await openSim(new SimulatedFileSystem(), { tailCacheBytes: 400 });
    const released: Buffer[] = [];
    const batches: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      const b = encodeBatch([{ value: Buffer.alloc(100, 0x30 + i) }], {
        baseOffset: 0,
        defaultTimestamp: 1_000 + i,
      });
      batches.push(b);
      await log.appendRawBatch(b, "data", "encoded-here", (x) => void released.push(x));
      // A reader views the third batch's record while it is cached.
      if (i === 2) expect(log.read(2).map((r) => r.value![0])).toEqual([0x32]);
    }
    expect(released.length).toBeGreaterThan(0);
    expect(released).not.toContain(batches[2]);
    for (const b of released) expect(batches).toContain(b);
    // "checked" and "unchecked" batches are the log's own copies: nothing to give back.
    const copied: Buffer[] = [];
    for (let i = 0; i < 6; i++)
      await log.appendRawBatch(
        encodeBatch([{ value: Buffer.alloc(100) }], { baseOffset: 0, defaultTimestamp: 2_000 }),
        "data",
        "unchecked",
        (x) => void copied.push(x),
      );
    expect(copied).toEqual([]);
  });
});

describe("Log bad input", () => {
  it("rejects an empty batch, an oversize record, bad types and backwards timestamps with the field", async () => {
    const log = await openSim(new SimulatedFileSystem(), { maxRecordBytes: 1000 });
    const cases: Array<[unknown, string]> = [
      [[], "records"],
      [[{ value: Buffer.alloc(1001) }], "records[0].value"],
      [[{ value: "text" }], "records[0].value"],
      [[{ value: null, key: 12 }], "records[0].key"],
      [[{ value: null, headers: [{ key: 1, value: null }] }], "records[0].headers[0].key"],
      [
        [
          { value: null, timestamp: 2000 },
          { value: null, timestamp: 1000 },
        ],
        "records[1].timestamp",
      ],
    ];
    for (const [records, field] of cases) {
      const error = await log.append(records as never).catch((e: unknown) => e);
      expect(isSluiceError(error, "SLUICE_VALIDATION"), String(error)).toBe(true);
      expect((error as { field: string }).field).toBe(field);
    }
    expect(log.logEndOffset).toBe(0);
    await log.append([{ value: null, timestamp: 5000 }]);
    const backwards = await log.append([{ value: null, timestamp: 4999 }]).catch((e: unknown) => e);
    expect((backwards as { field: string }).field).toBe("records[0].timestamp");
  });

  it("names the part of an oversize record that takes it past maxRecordBytes", async () => {
    const log = await openSim(new SimulatedFileSystem(), { maxRecordBytes: 1000 });
    const header = (bytes: number) => ({ key: "h", value: Buffer.alloc(bytes) });
    const cases: Array<[RecordInput, string]> = [
      [{ key: Buffer.alloc(10), value: Buffer.alloc(1001) }, "records[1].value"],
      [{ key: Buffer.alloc(1001), value: null }, "records[1].key"],
      [{ key: Buffer.alloc(400), value: Buffer.alloc(601) }, "records[1].value"],
      [{ value: Buffer.alloc(900), headers: [header(50), header(50)] }, "records[1].headers"],
      [
        { key: Buffer.alloc(500), value: Buffer.alloc(500), headers: [header(0)] },
        "records[1].headers",
      ],
    ];
    for (const [record, field] of cases) {
      const error = await log.append([rec(0), record]).catch((e: unknown) => e);
      expect(isSluiceError(error, "SLUICE_VALIDATION"), String(error)).toBe(true);
      expect((error as { field: string }).field, field).toBe(field);
      expect((error as Error).message).toContain("at most 1000 bytes");
    }
    // Exactly at the limit (key + value + header key and value) is fine.
    await log.append([{ key: Buffer.alloc(400), value: Buffer.alloc(500), headers: [header(99)] }]);
    expect(log.logEndOffset).toBe(1);
  });

  it("rejects appends and reads on a closed log", async () => {
    const log = await openSim(new SimulatedFileSystem());
    await log.close();
    await expect(log.append([rec(0)])).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_CLOSED"));
    expect(() => log.read(0)).toThrow(expect.objectContaining({ code: "SLUICE_CLOSED" }));
  });

  it("rejects a directory that is a file, and bad options, naming them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-log-"));
    try {
      writeFileSync(join(dir, "file"), "x");
      await expect(openLog(join(dir, "file"))).rejects.toMatchObject({
        code: "SLUICE_VALIDATION",
        field: "dir",
      });
      await expect(openLog(join(dir, "l"), { segmentBytes: -1 })).rejects.toMatchObject({
        field: "segmentBytes",
      });
      await expect(openLog(join(dir, "l"), { fsync: "sometimes" as never })).rejects.toMatchObject({
        field: "fsync",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reading below the log start is a typed out-of-range error", async () => {
    const log = await openSim(new SimulatedFileSystem());
    await appendMany(log, 10);
    await log.deleteRecordsBefore(5);
    expect(() => log.read(4)).toThrow(
      expect.objectContaining({ code: "SLUICE_OFFSET_OUT_OF_RANGE" }),
    );
    expect(log.read(5)[0]!.offset).toBe(5);
  });

  it("allows one writer: a second open names the holder", async () => {
    const fs = new SimulatedFileSystem();
    await openSim(fs);
    await expect(openLog(DIR, { fs })).rejects.toMatchObject({
      code: "SLUICE_LOCKED",
      details: { pid: process.pid },
    });
  });
});

describe("Log reopen and recovery", () => {
  it("reopens with every record and continues the offsets", async () => {
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs, { segmentBytes: 4096 });
    await appendMany(log, 300, 3);
    await log.close();
    const again = await openSim(fs, { segmentBytes: 4096 });
    expect(again.logEndOffset).toBe(300);
    expect(again.recovery.truncatedBytes).toBe(0);
    expect(again.read(0, { maxRecords: 1000, maxBytes: 1 << 24 }).map((r) => r.value)).toEqual(
      Array.from({ length: 300 }, (_, i) => value(i)),
    );
    await again.append([rec(300)]);
    expect(again.logEndOffset).toBe(301);
  });

  it("keeps a segment's newest time across a reopen when it is not at an index point", async () => {
    // A producer's batch carries the segment's newest time between two index entries (producer
    // clocks differ, so raw batches may go back in time). Reopened from its persisted indexes,
    // the segment must still know that time: time lookups would skip it, and time retention
    // would delete it early.
    const fs = new SimulatedFileSystem();
    const options = { segmentBytes: 4096, indexIntervalBytes: 150 };
    const log = await openSim(fs, options);
    const produced = (timestamp: number, bytes = 10): Buffer =>
      encodeBatch([{ value: Buffer.alloc(bytes), timestamp }], {
        baseOffset: 0,
        defaultTimestamp: timestamp,
      });
    await log.appendRawBatch(produced(1_000));
    await log.appendRawBatch(produced(5_000));
    while (log.segmentInfos().length < 2) await log.appendRawBatch(produced(1_000));
    while (log.segmentInfos().length < 3) await log.appendRawBatch(produced(6_000, 500));
    expect(log.offsetForTimestamp(3_000)).toBe(1);
    await log.close();
    const again = await openSim(fs, options);
    expect(again.recovery.scannedSegments).toBeLessThan(again.segmentInfos().length);
    expect(again.segmentInfos()[0]!.maxTimestamp).toBe(5_000);
    expect(again.offsetForTimestamp(3_000)).toBe(1);
  });

  it("rebuilds missing and damaged indexes", async () => {
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs, { segmentBytes: 4096, indexIntervalBytes: 300 });
    await appendMany(log, 200, 2);
    await log.close();
    fs.unlink(`${DIR}/00000000000000000000.index`);
    const second = log.segmentInfos()[1]!;
    const name = String(second.baseOffset).padStart(20, "0");
    fs.setRawFile(`${DIR}/${name}.index`, Buffer.from([0, 0, 0, 9, 0, 0, 1])); // wrong size
    const again = await openSim(fs, { segmentBytes: 4096, indexIntervalBytes: 300 });
    expect(again.recovery.rebuiltIndexes).toBe(2);
    for (let i = 0; i < 200; i += 17)
      expect(again.read(i, { maxRecords: 1 })[0]!.value).toEqual(value(i));
  });

  it("truncates a torn tail written after the last checkpoint and keeps everything before it", async () => {
    const fs = new SimulatedFileSystem();
    const path = `${DIR}/00000000000000000000.log`;
    const first = await openSim(fs);
    await appendMany(first, 45, 5);
    await first.close();
    const log = await openSim(fs);
    await appendMany(log, 5, 5);
    log.kill(); // crashed: the last batch is past the recovery point
    const bytes = fs.rawFile(path);
    fs.setRawFile(path, Buffer.from(bytes.subarray(0, bytes.length - 37)));
    const again = await openSim(fs);
    expect(again.logEndOffset).toBe(45);
    expect(again.recovery.truncatedBytes).toBeGreaterThan(0);
    again.kill();
    fs.setRawFile(
      path,
      Buffer.concat([
        fs.rawFile(path),
        Buffer.from("garbage garbage garbage garbage garbage garbage garbage garbage"),
      ]),
    );
    const third = await openSim(fs);
    expect(third.logEndOffset).toBe(45);
    expect(third.read(40).map((r) => r.value)).toEqual([40, 41, 42, 43, 44].map(value));
  });

  it("treats lost bytes of data that was synced before a clean close as corruption, not a torn tail", async () => {
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs);
    await appendMany(log, 50, 5);
    await log.close();
    const path = `${DIR}/00000000000000000000.log`;
    const bytes = fs.rawFile(path);
    fs.setRawFile(path, Buffer.from(bytes.subarray(0, bytes.length - 37)));
    await expect(openLog(DIR, { fs })).rejects.toMatchObject({ code: "SLUICE_CORRUPT" });
  });

  it("refuses to open over corruption in the middle, naming segment and offset", async () => {
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs);
    await appendMany(log, 50, 5);
    await log.close();
    const path = `${DIR}/00000000000000000000.log`;
    const bytes = Buffer.from(fs.rawFile(path));
    bytes[bytes.length / 2]! ^= 0xff;
    fs.setRawFile(path, bytes);
    const error = await openLog(DIR, { fs }).catch((e: unknown) => e);
    expect(isSluiceError(error, "SLUICE_CORRUPT")).toBe(true);
    expect((error as Error).message).toContain("00000000000000000000.log");
    expect((error as { details: { offset: number } }).details.offset).toBeGreaterThan(0);
  });
});

describe("Log durability on a simulated disk", () => {
  it("fsync interval: a writer that never yields to timers still gets an fsync every interval", async () => {
    // A clock whose timers never fire: the event loop is busy with the writer's promise chain.
    let now = 1_000_000;
    const starved: Clock = {
      now: () => now,
      setTimer: () => ({ cancel: () => undefined }),
      sleep: () => new Promise(() => undefined),
    };
    const fs = new SimulatedFileSystem(3);
    const log = await openSim(fs, { fsync: { intervalMs: 50 }, clock: starved });
    const before = fs.syncCount;
    for (let i = 0; i < 10; i++) {
      await log.append([rec(i)]);
      now += 10; // 100 ms of appends in all
    }
    await Promise.resolve();
    const synced = fs.syncCount - before;
    expect(synced).toBeGreaterThanOrEqual(1);
    expect(synced).toBeLessThanOrEqual(3); // every ~50 ms, not every append
    fs.crash();
    log.kill();
    const again = await openSim(fs, { fsync: { intervalMs: 50 } });
    // Everything up to the last interval's fsync survived the crash.
    expect(again.logEndOffset).toBeGreaterThanOrEqual(5);
  });

  it("fsync always: every acknowledged append survives a crash", async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const fs = new SimulatedFileSystem(seed);
      const log = await openSim(fs, { fsync: "always", segmentBytes: 2048 });
      const acked: number[] = [];
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) {
        pending.push(log.append([rec(i)]).then((r) => void acked.push(r.baseOffset)));
        if (i % 7 === seed % 7)
          await Promise.race([...pending, new Promise((r) => setImmediate(r))]);
      }
      await Promise.race([Promise.all(pending), new Promise((r) => setImmediate(r))]);
      log.kill();
      fs.crash();
      await Promise.allSettled(pending);
      const again = await openSim(fs, { fsync: "always", segmentBytes: 2048 });
      const survived = again.read(0, { maxRecords: 100, maxBytes: 1 << 20 });
      for (const offset of acked)
        expect(survived[offset]?.value, `seed ${seed} offset ${offset}`).toEqual(value(offset));
      await again.close();
    }
  });

  it("group commit: many concurrent appenders share few fsyncs", async () => {
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs, { fsync: "always" });
    const before = fs.syncCount;
    await Promise.all(Array.from({ length: 64 }, (_, i) => log.append([rec(i)])));
    expect(fs.syncCount - before).toBeLessThanOrEqual(3);
    expect(log.durableEndOffset).toBe(64);
  });

  it("interval mode syncs on the clock and loses at most the unsynced tail", async () => {
    const clock = new VirtualClock();
    const fs = new SimulatedFileSystem(3);
    const log = await openSim(fs, { fsync: { intervalMs: 50 }, clock });
    await appendMany(log, 20, 1);
    expect(log.durableEndOffset).toBe(0);
    await clock.advance(60);
    expect(log.durableEndOffset).toBe(20);
    await appendMany(log, 20, 1);
    log.kill();
    fs.crash();
    const again = await openSim(fs, { clock });
    expect(again.logEndOffset).toBeGreaterThanOrEqual(20);
    expect(again.read(0, { maxRecords: 20 }).map((r) => r.value)).toEqual(
      Array.from({ length: 20 }, (_, i) => value(i)),
    );
  });

  it("interval mode: an idle log holds no timer, and a write after idling is synced within the interval", async () => {
    const clock = new VirtualClock();
    const fs = new SimulatedFileSystem(4);
    const log = await openSim(fs, { fsync: { intervalMs: 50 }, clock });
    expect(clock.pendingTimers).toBe(0);
    await appendMany(log, 5, 1);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(60);
    expect(log.durableEndOffset).toBe(5);
    await clock.advance(60);
    expect(clock.pendingTimers).toBe(0);
    const syncs = fs.syncCount;
    await clock.advance(10_000);
    expect(fs.syncCount).toBe(syncs);
    await appendMany(log, 5, 1);
    await clock.advance(60);
    expect(log.durableEndOffset).toBe(10);
    await log.close();
  });

  it("a failed fsync fails the waiting appends and stops the log until reopened", async () => {
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs, { fsync: "always" });
    await log.append([rec(0)]);
    fs.failNextSyncs(1);
    await expect(log.append([rec(1)])).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_IO"));
    await expect(log.append([rec(2)])).rejects.toThrow(/reopen/);
    log.kill();
    fs.crash({ unsyncedPages: "lose", unsyncedEntries: "lose" });
    const again = await openSim(fs, { fsync: "always" });
    expect(again.logEndOffset).toBe(1);
  });

  it("a failed or torn write is undone and never becomes readable", async () => {
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs);
    await log.append([rec(0)]);
    fs.tearNextWrite(10);
    await expect(log.append([rec(1)])).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_IO"));
    fs.capacityBytes = fs.usedBytes() + 50;
    await expect(log.append([rec(2)])).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_IO"));
    fs.capacityBytes = Number.POSITIVE_INFINITY;
    const ok = await log.append([rec(3)]);
    expect(ok.baseOffset).toBe(1);
    expect(log.read(0).map((r) => r.value)).toEqual([value(0), value(3)]);
  });

  it("fault seams see writes and fsyncs and can fail them", async () => {
    const seen: string[] = [];
    const fs = new SimulatedFileSystem();
    let failFsync = false;
    const log = await openSim(fs, {
      fsync: "always",
      faults: {
        beforeWrite: (_path, bytes) => void seen.push(`write ${bytes > 0}`),
        beforeFsync: () => {
          seen.push("fsync");
          if (failFsync) throw new Error("injected");
        },
      },
    });
    await log.append([rec(0)]);
    expect(seen).toEqual(["write true", "fsync"]);
    failFsync = true;
    await expect(log.append([rec(1)])).rejects.toThrow(/injected/);
  });
});

describe("Log retention", () => {
  it("deletes whole segments by size and by age, advancing the log start", async () => {
    const clock = new VirtualClock(1_000_000);
    const log = await openSim(new SimulatedFileSystem(), {
      clock,
      segmentBytes: 2048,
      retentionBytes: 6000,
      retentionMs: 3_600_000,
    });
    for (let i = 0; i < 200; i++) {
      await log.append([rec(i)]);
      await clock.advance(1000);
    }
    const deleted = await log.enforceRetention();
    expect(deleted).toBeGreaterThan(0);
    expect(log.sizeBytes).toBeLessThan(6000 + 2048);
    expect(log.logStartOffset).toBe(log.segmentInfos()[0]!.baseOffset);
    expect(log.read(log.logStartOffset)[0]!.offset).toBe(log.logStartOffset);
    await clock.advance(2 * 3_600_000);
    await log.enforceRetention();
    expect(log.logStartOffset).toBe(200);
    expect(log.read(200)).toEqual([]);
    await log.append([rec(200)]);
    expect(log.read(200)[0]!.value).toEqual(value(200));
  });

  it("keeps the log start across reopen after deleteRecordsBefore", async () => {
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs);
    await appendMany(log, 20);
    await log.deleteRecordsBefore(12);
    await log.close();
    const again = await openSim(fs);
    expect(again.logStartOffset).toBe(12);
  });
});

describe("Log compaction", () => {
  it("keeps the newest record per key with its offset, drops old tombstones, and appends go on", async () => {
    const clock = new VirtualClock(1_000_000);
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs, {
      clock,
      segmentBytes: 4096,
      cleanupPolicy: "compact",
      deleteRetentionMs: 60_000,
    });
    await appendMany(log, 300, 5, (i) => `k${i % 10}`);
    await log.append([{ key: Buffer.from("k3"), value: null }]); // tombstone
    await log.append([{ value: Buffer.from("no key") }]);
    log.roll();
    let compactionDone = false;
    const compacting = compactLog(log).finally(() => (compactionDone = true));
    await log.append([rec(1000, "k9")]);
    expect(compactionDone).toBe(false); // the append did not wait for compaction
    const result = await compacting;
    expect(result.recordsRemoved).toBeGreaterThan(250);
    const survivors = log.read(0, { maxRecords: 1000, maxBytes: 1 << 20 });
    const byKey = new Map(survivors.map((r) => [r.key?.toString() ?? "-", r]));
    expect(byKey.get("k0")!.offset).toBe(290);
    expect(byKey.get("k0")!.value).toEqual(value(290));
    expect(byKey.get("k3")!.value).toBeNull(); // tombstone still within deleteRetentionMs
    expect(byKey.get("-")!.value!.toString()).toBe("no key");
    expect(survivors.filter((r) => r.key?.toString() === "k9").map((r) => r.offset)).toEqual([302]);
    await clock.advance(120_000);
    await log.append([rec(2000, "zz")]);
    log.roll();
    await compactLog(log);
    const after = log.read(0, { maxRecords: 1000 });
    expect(after.some((r) => r.key?.toString() === "k3")).toBe(false);
    expect(after.filter((r) => r.key?.toString() === "k9").map((r) => r.offset)).toEqual([302]);
    await log.close();
    const again = await openSim(fs, { clock });
    expect(again.read(0, { maxRecords: 1000 }).map((r) => r.offset)).toEqual(
      after.map((r) => r.offset),
    );
  });
});

describe("Log compaction lag", () => {
  it("keeps superseded records younger than minCompactionLagMs, and compacts them once older", async () => {
    const clock = new VirtualClock(1_000_000);
    const log = await openSim(new SimulatedFileSystem(), {
      clock,
      segmentBytes: 4096,
      cleanupPolicy: "compact",
      minCompactionLagMs: 60_000,
    });
    await appendMany(log, 30, 5, () => "k");
    log.roll();
    expect((await compactLog(log)).recordsRemoved).toBe(0);
    await clock.advance(30_000);
    await log.append([rec(100, "other")]); // younger than the lag, in a sealed segment too
    log.roll();
    expect((await compactLog(log)).recordsRemoved).toBe(0);
    await clock.advance(31_000); // the 30 "k" records are now 61 s old, "other" 31 s
    log.roll();
    const result = await compactLog(log);
    expect(result.recordsRemoved).toBe(29);
    expect(log.read(0, { maxRecords: 1000 }).map((r) => [r.offset, r.key?.toString()])).toEqual([
      [29, "k"],
      [30, "other"],
    ]);
    await log.close();
  });

  it("without a lag, a superseded record stamped in the future is compacted too", async () => {
    const clock = new VirtualClock(1_000_000);
    const log = await openSim(new SimulatedFileSystem(), {
      clock,
      segmentBytes: 4096,
      cleanupPolicy: "compact",
    });
    const future = clock.now() + 3_600_000;
    await log.append([{ key: Buffer.from("k"), value: value(0), timestamp: future }]);
    await log.append([rec(1, "k")]);
    log.roll();
    expect((await compactLog(log)).recordsRemoved).toBe(1);
    expect(log.read(0, { maxRecords: 10 }).map((r) => r.offset)).toEqual([1]);
    await log.close();
  });

  it("keeps a tombstone while an older record of its key is kept for its age", async () => {
    const clock = new VirtualClock(1_000_000);
    const log = await openSim(new SimulatedFileSystem(), {
      clock,
      segmentBytes: 4096,
      cleanupPolicy: "compact",
      minCompactionLagMs: 60_000,
      deleteRetentionMs: 0,
    });
    // Producers' batches may go back in time: the value is stamped two minutes after its delete.
    const t = clock.now();
    const batch = (key: string | null, value: string | null, timestamp: number): Buffer =>
      encodeBatch(
        [
          {
            key: key === null ? null : Buffer.from(key),
            value: value === null ? null : Buffer.from(value),
            timestamp,
          },
        ],
        { baseOffset: 0, defaultTimestamp: timestamp },
      );
    await log.appendRawBatch(batch("k", "v", t + 120_000));
    await log.appendRawBatch(batch("k", null, t));
    await log.appendRawBatch(batch("other", "w", t));
    log.roll();
    await clock.advance(60_000);
    // The tombstone is past the lag and its retention, the value it deletes is not past the lag.
    expect((await compactLog(log)).recordsRemoved).toBe(0);
    expect(log.read(0, { maxRecords: 10 }).map((r) => r.offset)).toEqual([0, 1, 2]);
    await clock.advance(120_000);
    expect((await compactLog(log)).recordsRemoved).toBe(2);
    expect(log.read(0, { maxRecords: 10 }).map((r) => r.offset)).toEqual([2]);
    await log.close();
  });

  it("refuses a negative minCompactionLagMs, naming it", async () => {
    await expect(
      openSim(new SimulatedFileSystem(), { minCompactionLagMs: -1 }),
    ).rejects.toMatchObject({ code: "SLUICE_VALIDATION", field: "minCompactionLagMs" });
  });
});

describe("Log tail", () => {
  it("follows new appends and stops on abort", async () => {
    const log = await openSim(new SimulatedFileSystem());
    await appendMany(log, 5, 5);
    const controller = new AbortController();
    const seen: number[] = [];
    const following = (async () => {
      for await (const r of log.tail(3, { signal: controller.signal })) {
        seen.push(r.offset);
        if (r.offset === 9) controller.abort();
      }
    })();
    await new Promise((r) => setImmediate(r));
    await appendMany(log, 5, 1);
    await following;
    expect(seen).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });
});

describe("Log tail abort", () => {
  it("finishes when the signal aborts while it waits for new records", async () => {
    const log = await openSim(new SimulatedFileSystem());
    await appendMany(log, 3, 3);
    const controller = new AbortController();
    const seen: number[] = [];
    let finished = false;
    const following = (async () => {
      for await (const r of log.tail(0, { signal: controller.signal })) seen.push(r.offset);
      finished = true;
    })();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([0, 1, 2]);
    expect(finished).toBe(false); // caught up: blocked in waitForAppend
    controller.abort();
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("tail still waiting after abort")), 2000);
    });
    await Promise.race([following, stuck]).finally(() => clearTimeout(timer));
    expect(finished).toBe(true);
    await log.append([rec(3)]);
    expect(seen).toEqual([0, 1, 2]); // nothing delivered after the abort
  });
});

describe("Log metrics", () => {
  it("counts appends, records, bytes and fsyncs, times each fsync, and tracks segments", async () => {
    const metrics = new MetricsRegistry();
    const fs = new SimulatedFileSystem();
    const log = await openSim(fs, { fsync: "always", metrics, name: "orders", segmentBytes: 2048 });
    const sample = (name: string) => {
      const found = metrics.collect().filter((s) => s.name === name && s.labels.log === "orders");
      expect(found, name).toHaveLength(1);
      return found[0]!;
    };
    const valueOf = (name: string): number => {
      const s = sample(name);
      if (s.kind === "histogram") throw new Error(`${name} is a histogram`);
      return s.value;
    };
    const fsyncCount = (): number => {
      const s = sample("sluice_log_fsync_ms");
      if (s.kind !== "histogram") throw new Error("sluice_log_fsync_ms is not a histogram");
      return s.summary.count;
    };
    expect(valueOf("sluice_log_segments")).toBe(1);
    expect(valueOf("sluice_log_appends_total")).toBe(0);
    const syncsBefore = fs.syncCount;
    await log.append([rec(0), rec(1)]);
    await log.append([rec(2), rec(3), rec(4)]);
    await log.append([rec(5)]);
    expect(valueOf("sluice_log_appends_total")).toBe(3);
    expect(valueOf("sluice_log_records_total")).toBe(6);
    expect(valueOf("sluice_log_bytes_total")).toBe(log.sizeBytes); // whole encoded batches
    expect(log.sizeBytes).toBeGreaterThan(600);
    // Each awaited append under "always" costs one fdatasync, seen by the disk too.
    expect(valueOf("sluice_log_fsyncs_total")).toBe(3);
    expect(fs.syncCount - syncsBefore).toBe(3);
    expect(fsyncCount()).toBe(3);

    log.roll();
    expect(valueOf("sluice_log_segments")).toBe(2);
    await appendMany(log, 60, 2); // rolls by size as it goes
    const segments = log.segmentInfos().length;
    expect(segments).toBeGreaterThan(3);
    expect(valueOf("sluice_log_segments")).toBe(segments);
    expect(valueOf("sluice_log_records_total")).toBe(66);
    expect(valueOf("sluice_log_bytes_total")).toBe(log.sizeBytes);
    expect(fsyncCount()).toBe(valueOf("sluice_log_fsyncs_total"));
    await log.deleteRecordsBefore(log.segmentInfos()[2]!.baseOffset);
    expect(valueOf("sluice_log_segments")).toBe(segments - 2);
  });
});

describe("Log background maintenance", () => {
  it("enforces retention on the clock by itself while appends go on", async () => {
    const clock = new VirtualClock(1_000_000);
    const options = { clock, segmentBytes: 2048, retentionMs: 60_000 };
    const log = await openSim(new SimulatedFileSystem(), {
      ...options,
      maintenanceIntervalMs: 10_000,
    });
    const control = await openSim(new SimulatedFileSystem(), options); // maintenance off
    for (let i = 0; i < 200; i++) {
      await log.append([rec(i)]);
      await control.append([rec(i)]);
      await clock.advance(1000);
    }
    expect(log.logEndOffset).toBe(200);
    expect(control.logStartOffset).toBe(0); // nobody called enforceRetention
    expect(log.logStartOffset).toBeGreaterThan(100);
    const [oldest] = log.segmentInfos();
    expect(log.logStartOffset).toBe(oldest!.baseOffset);
    // The last run was at most one interval ago and kept only segments with unexpired records.
    expect(oldest!.maxTimestamp).toBeGreaterThanOrEqual(clock.now() - 60_000 - 10_000);
    expect(log.read(log.logStartOffset)[0]!.value).toEqual(value(log.logStartOffset));
  });

  it("compacts on the clock by itself while appends go on", async () => {
    const clock = new VirtualClock(1_000_000);
    const options = { clock, segmentBytes: 4096, cleanupPolicy: "compact" as const };
    const log = await openSim(new SimulatedFileSystem(), {
      ...options,
      maintenanceIntervalMs: 5_000,
    });
    const control = await openSim(new SimulatedFileSystem(), options); // maintenance off
    let midway = 0;
    for (let i = 0; i < 300; i++) {
      const appended = await log.append([rec(i, `k${i % 10}`)]);
      expect(appended.baseOffset).toBe(i); // appends go on around the runs, offsets unchanged
      await control.append([rec(i, `k${i % 10}`)]);
      await clock.advance(100);
      if (i === 199) midway = log.read(0, { maxRecords: 1000 }).length;
    }
    expect(midway).toBeGreaterThan(0);
    expect(midway).toBeLessThan(100); // runs at 5, 10, 15 s had compacted the first 200 records
    expect(control.read(0, { maxRecords: 1000 })).toHaveLength(300);
    // The run at the end may still be working through its slices.
    await vi.waitFor(() => expect(log.read(0, { maxRecords: 1000 }).length).toBeLessThan(60), {
      timeout: 5000,
    });
    await vi.waitFor(() => expect(log.compacting).toBe(false));
    expect(log.logEndOffset).toBe(300);
    const survivors = log.read(0, { maxRecords: 1000 });
    const offsets = survivors.map((r) => r.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    for (let k = 0; k < 10; k++) {
      const newest = survivors.filter((r) => r.key?.toString() === `k${k}`).at(-1);
      expect(newest?.offset).toBe(290 + k);
      expect(newest?.value).toEqual(value(290 + k));
    }
  });
});
