import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../time/index.js";
import { compactLog } from "./compactor.js";
import { type Log, openLog } from "./log.js";
import { type BatchHeader, encodeBatch, readBatchHeader } from "./record-batch.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";
import {
  type MarkerType,
  TRANSACTIONAL_BIT,
  encodeMarker,
  isControlBatch,
} from "./transaction-marker.js";

// Compaction of a log holding transactions, as Kafka's cleaner does it: a transaction's records
// count (supersede older ones) once its commit marker is in the log; an aborted transaction's
// never do, and they go; a transaction still open decides nothing yet, so its records stay.

const clock = new VirtualClock(1_000_000);
const logs: Log[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
});

async function openCompacted(producerStateRetentionMs?: number): Promise<Log> {
  const log = await openLog("/data/log", {
    fs: new SimulatedFileSystem(),
    clock,
    maintenanceIntervalMs: 0,
    cleanupPolicy: "compact",
    deleteRetentionMs: 0,
    ...(producerStateRetentionMs === undefined ? {} : { producerStateRetentionMs }),
  });
  logs.push(log);
  return log;
}

const bytes = (text: string | null): Buffer | null => (text === null ? null : Buffer.from(text));

function plain(log: Log, key: string, value: string | null): Promise<unknown> {
  const batch = encodeBatch([{ key: bytes(key), value: bytes(value) }], {
    baseOffset: 0,
    defaultTimestamp: clock.now(),
  });
  return log.appendRawBatch(batch);
}

function inTransaction(log: Log, producerId: number, key: string, value: string): Promise<unknown> {
  const batch = encodeBatch([{ key: bytes(key), value: bytes(value) }], {
    baseOffset: 0,
    defaultTimestamp: clock.now(),
    attributes: TRANSACTIONAL_BIT,
    producer: { producerId, producerEpoch: 0, baseSequence: 0 },
  });
  return log.appendRawBatch(batch, "transactional");
}

function marker(log: Log, producerId: number, type: MarkerType): Promise<unknown> {
  return log.appendRawBatch(encodeMarker(producerId, 0, type, clock.now()), "control");
}

/** The data records left, as "offset:key=value" (markers left out). */
function survivors(log: Log): string[] {
  return log
    .read(0, { maxRecords: 100 })
    .filter((r) => r.key?.length !== 4 || r.key.readInt16BE(0) !== 0 || r.value?.length !== 6)
    .map((r) => `${r.offset}:${r.key?.toString()}=${r.value?.toString() ?? "null"}`);
}

/** The producers of the transaction markers left, in log order. */
function markers(log: Log): number[] {
  const bytes = log.readBatches(0, 1 << 20);
  const producers: number[] = [];
  for (let at = 0; at < bytes.length;) {
    const header = readBatchHeader(bytes, at) as BatchHeader;
    if (isControlBatch(header.attributes)) producers.push(header.producerId);
    at += header.sizeBytes;
  }
  return producers;
}

describe("compaction of a log with transactions", () => {
  it("keeps a value superseded only by an aborted transaction's, and drops the aborted records", async () => {
    const log = await openCompacted();
    await plain(log, "k", "committed");
    await inTransaction(log, 7, "k", "aborted");
    await marker(log, 7, "abort");
    await plain(log, "other", "x");
    log.roll();
    expect((await compactLog(log)).recordsRemoved).toBe(1);
    expect(survivors(log)).toEqual(["0:k=committed", "3:other=x"]);
  });

  it("counts a transaction's records once its commit marker is read", async () => {
    const log = await openCompacted();
    await plain(log, "k", "old");
    await inTransaction(log, 7, "k", "new");
    await plain(log, "k2", "x"); // between the transaction's record and its marker
    await marker(log, 7, "commit");
    log.roll();
    await compactLog(log);
    expect(survivors(log)).toEqual(["1:k=new", "2:k2=x"]);
  });

  it("leaves a transaction still open alone until it ends", async () => {
    const log = await openCompacted();
    await plain(log, "k", "old");
    await inTransaction(log, 7, "k", "maybe");
    log.roll();
    expect((await compactLog(log)).recordsRemoved).toBe(0);
    expect(survivors(log)).toEqual(["0:k=old", "1:k=maybe"]);
    await marker(log, 7, "commit");
    log.roll();
    await compactLog(log);
    expect(survivors(log)).toEqual(["1:k=maybe"]);
  });

  it("keeps a tombstone while an older record of its key is in a transaction still open", async () => {
    const log = await openCompacted();
    await inTransaction(log, 7, "k", "v");
    await plain(log, "k", null); // deleted after the transaction's write
    await plain(log, "other", "x");
    log.roll();
    await clock.advance(1); // the tombstone past its retention (0)
    // Without the tombstone, "v" would be k's value once the transaction commits.
    expect((await compactLog(log)).recordsRemoved).toBe(0);
    await marker(log, 7, "commit");
    log.roll();
    await clock.advance(1);
    await compactLog(log);
    expect(survivors(log)).toEqual(["2:other=x"]);
  });

  it("drops a marker once nothing of its transaction is left and its retention has passed", async () => {
    // Producer state kept for a minute: a producer's last batch stays that long, emptied, and
    // so does its transaction's marker (else that batch would reopen as a transaction never ended).
    const log = await openCompacted(60_000);
    await inTransaction(log, 7, "k", "a");
    await marker(log, 7, "commit");
    await inTransaction(log, 8, "gone", "b");
    await marker(log, 8, "abort");
    await inTransaction(log, 9, "stays", "c");
    await marker(log, 9, "commit");
    await plain(log, "k", "newer");
    await plain(log, "other", "x");
    log.roll();
    // Within the retention (0 ms: the markers' own millisecond) the markers stay.
    await compactLog(log);
    expect(markers(log)).toEqual([7, 8, 9]);
    await clock.advance(1);
    await compactLog(log);
    expect(markers(log)).toEqual([7, 8, 9]);
    await clock.advance(60_000);
    await compactLog(log);
    // Transaction 9's record is still its key's value: its marker stays with it.
    expect(markers(log)).toEqual([9]);
    expect(survivors(log)).toEqual(["4:stays=c", "6:k=newer", "7:other=x"]);
  });

  it("takes no marker for a record: a key like a marker's is superseded by none", async () => {
    const log = await openCompacted();
    const markerKey = Buffer.from([0, 0, 0, 0]).toString("latin1");
    await plain(log, markerKey, "user data");
    await plain(log, "other", "x");
    log.roll();
    await marker(log, 7, "abort"); // in the active segment, which the compactor reads too
    expect((await compactLog(log)).recordsRemoved).toBe(0);
  });
});
