import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../time/index.js";
import { compactLog } from "./compactor.js";
import { type Log, openLog } from "./log.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

// A compacted log that has not changed since its last compaction is not read again until a
// record that compaction kept for its age may go: idle compacted topics cost nothing.

const logs: Log[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
});

async function openCompacted(clock: VirtualClock, fs = new SimulatedFileSystem()): Promise<Log> {
  const log = await openLog("/data/log", {
    fs,
    clock,
    maintenanceIntervalMs: 0,
    cleanupPolicy: "compact",
    minCompactionLagMs: 60_000,
    deleteRetentionMs: 3_600_000,
  });
  logs.push(log);
  return log;
}

const put = (log: Log, key: string, value: string | null): Promise<unknown> =>
  log.append([{ key: Buffer.from(key), value: value === null ? null : Buffer.from(value) }]);

describe("compaction of a log unchanged since the last", () => {
  it("reads nothing until a record kept for its age may go, then compacts it", async () => {
    const clock = new VirtualClock(1_000_000);
    const log = await openCompacted(clock);
    await put(log, "k", "old");
    await put(log, "k", "new");
    await put(log, "gone", null);
    await put(log, "other", "x");
    log.roll();
    expect(await compactLog(log)).toMatchObject({ segmentsScanned: 1, recordsRemoved: 0 });
    expect(await compactLog(log)).toMatchObject({ segmentsScanned: 0, recordsRemoved: 0 });
    await clock.advance(59_999);
    expect((await compactLog(log)).segmentsScanned).toBe(0);
    await clock.advance(1); // "old" is past the lag
    expect(await compactLog(log)).toMatchObject({ segmentsScanned: 1, recordsRemoved: 1 });
    expect((await compactLog(log)).segmentsScanned).toBe(0);
    await clock.advance(3_600_000); // the tombstone is past its retention
    expect(await compactLog(log)).toMatchObject({ segmentsScanned: 1, recordsRemoved: 1 });
    expect((await compactLog(log)).segmentsScanned).toBe(0);
  });

  it("reads again after an append, a roll, or a changed setting", async () => {
    const clock = new VirtualClock(1_000_000);
    const log = await openCompacted(clock);
    await put(log, "k", "a");
    await put(log, "k", "b");
    log.roll();
    await clock.advance(120_000);
    expect(await compactLog(log)).toMatchObject({ segmentsScanned: 1, recordsRemoved: 1 });
    expect((await compactLog(log)).segmentsScanned).toBe(0);
    // An append to the active segment may supersede what is sealed.
    await put(log, "k", "c");
    expect(await compactLog(log)).toMatchObject({ segmentsScanned: 1, recordsRemoved: 1 });
    expect((await compactLog(log)).segmentsScanned).toBe(0);
    // A roll seals more of the log.
    log.roll();
    expect((await compactLog(log)).segmentsScanned).toBe(2);
    expect((await compactLog(log)).segmentsScanned).toBe(0);
    log.reconfigure({ cleanupPolicy: "compact", minCompactionLagMs: 1000 });
    expect((await compactLog(log)).segmentsScanned).toBe(2);
    expect((await compactLog(log)).segmentsScanned).toBe(0);
  });

  it("compacts a reopened log in full", async () => {
    const clock = new VirtualClock(1_000_000);
    const fs = new SimulatedFileSystem();
    const log = await openCompacted(clock, fs);
    await put(log, "k", "a");
    log.roll();
    expect((await compactLog(log)).segmentsScanned).toBe(1);
    await log.close();
    const again = await openCompacted(clock, fs);
    expect((await compactLog(again)).segmentsScanned).toBe(1);
  });
});
