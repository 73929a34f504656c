import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import {
  type BatchHeader,
  TRANSACTIONAL_BIT,
  compactLog,
  encodeBatch,
  isControlBatch,
  isTransactionalBatch,
  readBatchHeader,
} from "../../engine/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";

// A compacted topic written to by transactions: compaction keeps what read_committed consumers
// see. A value overwritten only by an aborted transaction was removed as superseded, and the
// key vanished for them.

let dir: string;
let topics: EmbeddedTopicService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-compacted-txn-"));
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
});

afterEach(async () => {
  await topics.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a read_committed consumer reads of partition 0, as "offset:key=value". */
async function readCommitted(): Promise<string[]> {
  const consumer = topics.consumer({
    isolationLevel: "read_committed",
    autoOffsetReset: "earliest",
  });
  try {
    await consumer.assign([{ topic: "state", partition: 0 }]);
    const seen: string[] = [];
    for (let polls = 0; polls < 5; polls++)
      for (const r of await consumer.poll({ timeoutMs: 20 }))
        seen.push(`${r.offset}:${r.key?.toString()}=${r.value?.toString() ?? "null"}`);
    return seen;
  } finally {
    await consumer.close();
  }
}

const partition = () => topics.broker.partitionLog("state", 0);

async function compactAfterReopen(): Promise<void> {
  // Compacted on a reopened service (see offset-store.test.ts: a segment's seal may be pending).
  topics.broker.partitionLog("state", 0).log.roll();
  await topics.close();
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
  await compactLog(topics.broker.partitionLog("state", 0).log);
}

it("keeps a value that only an aborted transaction overwrote, for read_committed consumers", async () => {
  await topics.admin.createTopic({ name: "state", cleanupPolicy: "compact" });
  const plain = topics.producer({ lingerMs: 0 });
  const transactional = topics.producer({ lingerMs: 0, transactionalId: "writer" });
  try {
    await plain.send({ topic: "state", partition: 0, key: "k", value: "committed" });
    await transactional.beginTransaction();
    await transactional.send({ topic: "state", partition: 0, key: "k", value: "aborted" });
    await transactional.abortTransaction();
    await plain.send({ topic: "state", partition: 0, key: "other", value: "x" });
  } finally {
    await Promise.all([plain.close(), transactional.close()]);
  }
  const before = await readCommitted();
  expect(before).toEqual(["0:k=committed", "3:other=x"]);
  await compactAfterReopen();
  expect(await readCommitted()).toEqual(before);
  // And after another reopen, with the aborted record gone from the log.
  await topics.close();
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
  expect(await readCommitted()).toEqual(before);
});

it("keeps a value while the transaction overwriting it is open", async () => {
  await topics.admin.createTopic({ name: "state", cleanupPolicy: "compact" });
  const plain = topics.producer({ lingerMs: 0 });
  const transactional = topics.producer({ lingerMs: 0, transactionalId: "writer" });
  try {
    await plain.send({ topic: "state", partition: 0, key: "k", value: "old" });
    await transactional.beginTransaction();
    await transactional.send({ topic: "state", partition: 0, key: "k", value: "new" });
    await compactAfterReopen();
  } finally {
    await Promise.all([plain.close(), transactional.close()]);
  }
  // Compacted while the transaction was open: it decided nothing, so "old" stayed.
  expect(await readCommitted()).toEqual(["0:k=old"]);
});

it("keeps an aborted transaction's marker while its emptied batch stays, and forgets both after", async () => {
  await topics.close();
  const clock = new VirtualClock(Date.UTC(2026, 11, 5));
  const day = 86_400_000;
  // Producers remembered three days: their last batch outlives the markers' one-day retention.
  const reopen = (): Promise<EmbeddedTopicService> =>
    EmbeddedTopicService.open(dir, { fsync: "never", clock, producerIdExpirationMs: 3 * day });
  topics = await reopen();
  await topics.admin.createTopic({ name: "state", cleanupPolicy: "compact" });
  const transactional = encodeBatch([{ key: Buffer.from("k"), value: Buffer.from("aborted") }], {
    baseOffset: 0,
    defaultTimestamp: clock.now(),
    attributes: TRANSACTIONAL_BIT,
    producer: { producerId: 41, producerEpoch: 0, baseSequence: 0 },
  });
  await partition().append(transactional, true, "coordinator");
  await partition().appendMarker(41, 0, "abort");
  const plain = topics.producer({ lingerMs: 0 });
  await plain.send({ topic: "state", partition: 0, key: "k", value: "kept" });
  await plain.close();
  partition().log.roll();

  const compactAndReopen = async (): Promise<void> => {
    await compactLog(partition().log);
    await topics.close();
    topics = await reopen();
  };
  // Two days on: the aborted record is gone, its batch stays emptied (the producer is still
  // remembered), and so does the marker, or that batch would reopen as a transaction left open.
  await clock.advance(2 * day);
  await compactAndReopen();
  expect(batchKinds()).toEqual(["transactional (empty)", "marker", "data"]);
  expect(partition().openTransactions()).toEqual([]);
  expect(partition().lastStableOffset).toBe(partition().logEndOffset);
  // Two more: the producer is forgotten, and nothing of the transaction is left.
  await clock.advance(2 * day);
  await compactAndReopen();
  expect(batchKinds()).toEqual(["data"]);
  expect(partition().openTransactions()).toEqual([]);
  const read = partition().read(0, 10, 1 << 20, "read_committed");
  expect(read.records.map((r) => r.value?.toString())).toEqual(["kept"]);
});

/** The batches of partition 0, in order. */
function batchKinds(): string[] {
  const bytes = partition().log.readBatches(0, 1 << 20);
  const kinds: string[] = [];
  for (let at = 0; at < bytes.length;) {
    const header = readBatchHeader(bytes, at) as BatchHeader;
    if (isControlBatch(header.attributes)) kinds.push("marker");
    else if (isTransactionalBatch(header.attributes))
      kinds.push(header.recordCount === 0 ? "transactional (empty)" : "transactional");
    else kinds.push("data");
    at += header.sizeBytes;
  }
  return kinds;
}
