/**
 * The producer's batching as a user relies on it: a partition's batch goes out once `batchSize`
 * bytes are gathered (no flush, the linger not over), a lone record goes out when `lingerMs`
 * ends (no flush), and the records of one batch are stored as one RecordBatch. Time runs on a
 * virtual clock, so the linger is exact.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BatchHeader, readBatchHeader } from "../../engine/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { RecordMetadata } from "./topic-producer.js";

let dir: string;
let clock: VirtualClock;
let topics: EmbeddedTopicService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-batching-"));
  clock = new VirtualClock();
  topics = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
});

afterEach(async () => {
  await topics.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Lets the event loop run a turn (appends settle) without moving the virtual clock. */
const aTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The RecordBatches stored in a partition, in order. */
function storedBatches(topic: string, partition = 0): BatchHeader[] {
  const log = topics.broker.partitionLog(topic, partition);
  if (log.highWatermark === 0) return [];
  const bytes = log.log.readBatches(0, 64 * 1024 * 1024);
  const out: BatchHeader[] = [];
  for (let at = 0; at < bytes.length;) {
    const header = readBatchHeader(bytes, at) as BatchHeader;
    out.push(header);
    at += header.sizeBytes;
  }
  return out;
}

/** Every value stored in the partition, in offset order. */
async function storedValues(topic: string): Promise<string[]> {
  const reader = topics.consumer({ autoCommit: false });
  await reader.assign([{ topic, partition: 0 }]);
  await reader.seekToBeginning();
  const values: string[] = [];
  for (;;) {
    const got = await reader.poll();
    if (got.length === 0) break;
    values.push(...got.map((r) => r.value?.toString() ?? "<null>"));
  }
  await reader.close();
  return values;
}

/** A value of exactly 100 bytes, numbered. */
const value = (i: number): string => `${i}`.padEnd(100, ".");

/** Sends without awaiting; records which sends are acknowledged so far. */
function sendAll(
  send: (i: number) => Promise<RecordMetadata>,
  count: number,
): { readonly acked: Array<RecordMetadata | undefined>; readonly all: Promise<RecordMetadata[]> } {
  const acked = new Array<RecordMetadata | undefined>(count).fill(undefined);
  const all = Promise.all(
    Array.from({ length: count }, (_, i) =>
      send(i).then((m) => {
        acked[i] = m;
        return m;
      }),
    ),
  );
  return { acked, all };
}

describe("producer batching", () => {
  it("sends a partition's batch once batchSize bytes are gathered, without flush or the linger ending", async () => {
    await topics.admin.createTopic({ name: "bs" });
    const batchSize = 1024;
    const producer = topics.producer({ batchSize, lingerMs: 60_000 });
    await producer.flush(); // its producer id is allocated (a catalog write, fsynced)
    const count = 25;
    const { acked, all } = sendAll((i) => producer.send({ topic: "bs", value: value(i) }), count);
    for (let turn = 0; turn < 100 && acked[0] === undefined; turn++) await aTurn();
    await aTurn();
    // Full batches are stored and acknowledged; the rest lingers (the clock has not moved).
    const full = storedBatches("bs");
    expect(full.length).toBeGreaterThanOrEqual(2);
    const stored = full.reduce((n, b) => n + b.recordCount, 0);
    expect(stored).toBeLessThan(count);
    expect(await storedValues("bs")).toEqual(Array.from({ length: stored }, (_, i) => value(i)));
    expect(acked.filter((m) => m !== undefined)).toHaveLength(stored);
    expect(acked.slice(0, stored).map((m) => m?.offset)).toEqual([...Array(stored).keys()]);
    for (const b of full) {
      expect(b.sizeBytes).toBeLessThanOrEqual(batchSize);
      // Sent because it was full: another 100-byte record (about 110 bytes framed) would not fit.
      expect(b.sizeBytes + 2 * 110).toBeGreaterThan(batchSize);
    }
    await clock.advance(59_999);
    expect(storedBatches("bs")).toHaveLength(full.length);
    await clock.advance(1);
    const sent = await all;
    expect(sent.map((m) => m.offset)).toEqual([...Array(count).keys()]);
    expect(await storedValues("bs")).toEqual(Array.from({ length: count }, (_, i) => value(i)));
    expect(storedBatches("bs")).toHaveLength(full.length + 1);
    await producer.close();
  });

  it("sends a lone record when lingerMs ends, without flush", async () => {
    await topics.admin.createTopic({ name: "ln" });
    const producer = topics.producer({ lingerMs: 200 });
    const { acked, all } = sendAll((i) => producer.send({ topic: "ln", value: value(i) }), 1);
    await aTurn();
    await clock.advance(199);
    expect(topics.broker.partitionLog("ln", 0).highWatermark).toBe(0);
    expect(acked[0]).toBeUndefined();
    await clock.advance(1);
    expect((await all).map((m) => m.offset)).toEqual([0]);
    expect(await storedValues("ln")).toEqual([value(0)]);
    await producer.close();
  });

  it("stores the records of one batch as one RecordBatch, batches back to back in send order", async () => {
    await topics.admin.createTopic({ name: "one", partitions: 2 });
    const producer = topics.producer({ batchSize: 1024 * 1024, lingerMs: 1000 });
    // A sendBatch and single sends in the same linger, to one partition; one record elsewhere.
    const first = producer.sendBatch(
      Array.from({ length: 10 }, (_, i) => ({ topic: "one", partition: 0, value: value(i) })),
    );
    const singles = [10, 11, 12].map((i) =>
      producer.send({ topic: "one", partition: 0, value: value(i) }),
    );
    const elsewhere = producer.send({ topic: "one", partition: 1, value: "other" });
    await aTurn();
    expect(storedBatches("one")).toEqual([]);
    await clock.advance(1000);
    const offsets = [...(await first), ...(await Promise.all(singles))].map((m) => m.offset);
    expect(offsets).toEqual([...Array(13).keys()]);
    expect((await elsewhere).partition).toBe(1);
    const batches = storedBatches("one");
    expect(batches.map((b) => [b.baseOffset, b.recordCount, b.lastOffsetDelta])).toEqual([
      [0, 13, 12],
    ]);
    expect(storedBatches("one", 1).map((b) => b.recordCount)).toEqual([1]);
    // The next linger's records are the next batch, right after.
    const later = producer.sendBatch(
      [13, 14].map((i) => ({ topic: "one", partition: 0, value: value(i) })),
    );
    await clock.advance(1000);
    expect((await later).map((m) => m.offset)).toEqual([13, 14]);
    expect(storedBatches("one").map((b) => [b.baseOffset, b.recordCount])).toEqual([
      [0, 13],
      [13, 2],
    ]);
    await producer.close();
  });
});
