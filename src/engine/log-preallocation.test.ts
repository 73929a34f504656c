import { describe, expect, it } from "vitest";
import { inspectLog } from "./log-inspector.js";
import { type Log, openLog } from "./log.js";
import type { FsyncPolicy } from "./log-options.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

const DIR = "/p/log";
const SEGMENT_BYTES = 64 * 1024;
const value = (i: number) => Buffer.from(`record-${i}|`.padEnd(200, "."));

function open(fs: SimulatedFileSystem, fsync: FsyncPolicy = "always"): Promise<Log> {
  return openLog(DIR, { fs, fsync, segmentBytes: SEGMENT_BYTES, maintenanceIntervalMs: 0 });
}

/** Appends records `from` to `to - 1`, ten to a batch, as concurrent callers would. */
async function appendRange(log: Log, from: number, to: number): Promise<void> {
  const appends: Promise<unknown>[] = [];
  for (let i = from; i < to; i += 10) {
    const end = Math.min(i + 10, to);
    appends.push(log.append(Array.from({ length: end - i }, (_, k) => ({ value: value(i + k) }))));
  }
  await Promise.all(appends);
}

/** The file as the disk holds it, and where its batches end (the log's own account). */
function activeFile(fs: SimulatedFileSystem, log: Log): { bytes: Buffer; batchesEnd: number } {
  const active = log.segmentInfos().at(-1)!;
  return { bytes: fs.rawFile(active.file), batchesEnd: active.sizeBytes };
}

function expectAllRecords(log: Log, count: number): void {
  const records = log.read(0, { maxRecords: count + 10, maxBytes: 1 << 30 });
  expect(records.map((r) => r.offset)).toEqual(Array.from({ length: count }, (_, i) => i));
  records.forEach((r, i) => expect(r.value).toEqual(value(i)));
}

describe('zeros written ahead of the appends under fsync "always"', () => {
  it("a busy segment's file runs past its batches in zeros; the roll and a clean close trim them", async () => {
    const fs = new SimulatedFileSystem(1);
    const log = await open(fs);
    await appendRange(log, 0, 100); // about 21 KiB: past a quarter of the segment size
    const { bytes, batchesEnd } = activeFile(fs, log);
    expect(bytes.length).toBeGreaterThan(batchesEnd);
    expect(bytes.subarray(batchesEnd).every((b) => b === 0)).toBe(true);

    await appendRange(log, 100, 500); // rolls
    const segments = log.segmentInfos();
    expect(segments.length).toBeGreaterThan(1);
    for (const sealed of segments.slice(0, -1))
      expect(fs.rawFile(sealed.file).length).toBe(sealed.sizeBytes);
    await log.close();
    const last = segments.at(-1)!;
    expect(fs.rawFile(last.file).length).toBe(last.sizeBytes);
    const again = await open(fs);
    expect(again.recovery.preallocatedBytes).toBe(0);
    expectAllRecords(again, 500);
    await again.close();
  });

  it("a log that is not synced per append writes no zeros ahead", async () => {
    for (const fsync of [{ intervalMs: 50 }, "never"] as const) {
      const fs = new SimulatedFileSystem(2);
      const log = await open(fs, fsync);
      await appendRange(log, 0, 200);
      const { bytes, batchesEnd } = activeFile(fs, log);
      expect(bytes.length).toBe(batchesEnd);
      await log.close();
    }
  });

  it("after a crash the zeros are kept for the appends to come: not a torn tail, not damage", async () => {
    const fs = new SimulatedFileSystem(3);
    const log = await open(fs);
    await appendRange(log, 0, 100);
    const { bytes, batchesEnd } = activeFile(fs, log);
    log.kill();
    fs.crash();
    const again = await open(fs);
    expect(again.recovery.truncatedBytes).toBe(0);
    expect(again.recovery.preallocatedBytes).toBe(bytes.length - batchesEnd);
    expectAllRecords(again, 100);
    // `sluice log verify` sees no damage in them either, and says what they are.
    const report = inspectLog(DIR, {}, fs);
    expect(report.flatMap((r) => r.corruptions)).toEqual([]);
    expect(report.at(-1)!.preallocatedBytes).toBe(bytes.length - batchesEnd);
    // Appends go on over the zeros, and survive the next crash.
    await appendRange(again, 100, 150);
    again.kill();
    fs.crash();
    const third = await open(fs);
    expectAllRecords(third, 150);
    await third.close();
  });

  it("a write torn among the zeros is cut as a torn tail, and only it", async () => {
    for (const gap of [0, 700]) {
      const fs = new SimulatedFileSystem(4);
      const log = await open(fs);
      await appendRange(log, 0, 100);
      const { bytes, batchesEnd } = activeFile(fs, log);
      log.kill();
      const torn = Buffer.from(bytes);
      torn.fill(0x5a, batchesEnd + gap, batchesEnd + gap + 300);
      fs.setRawFile(log.segmentInfos().at(-1)!.file, torn);
      const again = await open(fs);
      expect(again.recovery.truncatedBytes).toBe(bytes.length - batchesEnd);
      expect(again.recovery.preallocatedBytes).toBe(0);
      expectAllRecords(again, 100);
      await appendRange(again, 100, 120);
      expectAllRecords(again, 120);
      await again.close();
    }
  });

  it("a disk too full for the zeros still takes the appends, and the roll trims what it got", async () => {
    const fs = new SimulatedFileSystem(5);
    const log = await open(fs);
    await appendRange(log, 0, 60); // below the point where zeros are written
    fs.capacityBytes = fs.usedBytes() + 14 * 1024; // room for the batches, not for zeros too
    await appendRange(log, 60, 120);
    const { bytes, batchesEnd } = activeFile(fs, log);
    expect(bytes.length).toBe(batchesEnd);
    fs.capacityBytes = Number.POSITIVE_INFINITY;
    await appendRange(log, 120, 500);
    for (const sealed of log.segmentInfos().slice(0, -1))
      expect(fs.rawFile(sealed.file).length).toBe(sealed.sizeBytes);
    expectAllRecords(log, 500);
    await log.close();
  });
});
