import { afterEach, expect, it } from "vitest";
import { VirtualClock } from "../time/index.js";
import { compactLog } from "./compactor.js";
import { type Log, openLog } from "./log.js";
import { type BatchHeader, encodeBatch, readBatchHeader } from "./record-batch.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

// Compaction keeps each idempotent producer's last batch, emptied, while it is younger than
// producerStateRetentionMs (the topics rebuild duplicate checks from it), and lets it go after.

const logs: Log[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
});

function batchOf(clock: VirtualClock, producerId: number, key: string, value: string): Buffer {
  return encodeBatch([{ key: Buffer.from(key), value: Buffer.from(value) }], {
    baseOffset: 0,
    defaultTimestamp: clock.now(),
    producer: { producerId, producerEpoch: 0, baseSequence: 0 },
  });
}

function headers(log: Log): BatchHeader[] {
  const bytes = log.readBatches(0, 1 << 20);
  const all: BatchHeader[] = [];
  for (let at = 0; at < bytes.length;) {
    const header = readBatchHeader(bytes, at) as BatchHeader;
    all.push(header);
    at += header.sizeBytes;
  }
  return all;
}

it("keeps a producer's last batch emptied while it is young enough, then drops it", async () => {
  const clock = new VirtualClock(1_000_000);
  const log = await openLog("/data/log", {
    fs: new SimulatedFileSystem(),
    clock,
    maintenanceIntervalMs: 0,
    cleanupPolicy: "compact",
    producerStateRetentionMs: 60_000,
  });
  logs.push(log);
  await log.appendRawBatch(batchOf(clock, 5, "k", "a"));
  await log.appendRawBatch(batchOf(clock, 6, "k", "b"));
  await log.appendRawBatch(batchOf(clock, 7, "other", "x"));
  log.roll();
  expect((await compactLog(log)).recordsRemoved).toBe(1);
  const kept = headers(log).find((h) => h.producerId === 5);
  expect(kept).toMatchObject({ baseOffset: 0, baseSequence: 0, recordCount: 0 });
  await clock.advance(60_001);
  expect(await compactLog(log)).toMatchObject({ segmentsRewritten: 1, recordsRemoved: 0 });
  expect(headers(log).map((h) => h.producerId)).toEqual([6, 7]);
});

it("refuses a negative producerStateRetentionMs, naming it", async () => {
  await expect(
    openLog("/data/log", { fs: new SimulatedFileSystem(), producerStateRetentionMs: -1 }),
  ).rejects.toMatchObject({ code: "SLUICE_VALIDATION", field: "producerStateRetentionMs" });
});
