import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { compactLog, encodeBatch } from "../../engine/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";

// An idempotent producer's retry is recognised after a restart from the batches in the log; on a
// compacted topic, compaction must not take the producer's last batch away with its records
// (Kafka's cleaner keeps it, emptied). Without it a retry after compaction and a restart was
// stored again, bringing a superseded value back.

let dir: string;
let topics: EmbeddedTopicService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-compacted-producer-"));
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
});

afterEach(async () => {
  await topics.close();
  rmSync(dir, { recursive: true, force: true });
});

const partition = () => topics.broker.partitionLog("state", 0);

async function reopen(): Promise<void> {
  await topics.close();
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
}

function batchOf(producerId: number, sequence: number, key: string, value: string): Buffer {
  return encodeBatch([{ key: Buffer.from(key), value: Buffer.from(value) }], {
    baseOffset: 0,
    defaultTimestamp: Date.now(),
    producer: { producerId, producerEpoch: 0, baseSequence: sequence },
  });
}

it("recognises an idempotent producer's retry after its records were compacted away and a restart", async () => {
  await topics.admin.createTopic({ name: "state", cleanupPolicy: "compact" });
  const retried = batchOf(41, 0, "k", "first");
  const first = await partition().append(Buffer.from(retried), true);
  await partition().append(batchOf(42, 0, "k", "second"), true);
  await partition().append(batchOf(42, 1, "other", "x"), true);
  partition().log.roll();
  await reopen(); // compacted on a reopened service (see offset-store.test.ts)
  expect((await compactLog(partition().log)).recordsRemoved).toBe(1);
  await reopen();
  // The producer never saw its acknowledgement and sends the batch again.
  const again = await partition().append(Buffer.from(retried), true);
  expect(again.baseOffset).toBe(first.baseOffset);
  expect(partition().logEndOffset).toBe(3);
});
