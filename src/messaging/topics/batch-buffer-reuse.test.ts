// The embedded producer builds later batches in the buffers of earlier ones that the partition
// log handed back (never read by anyone): records a consumer holds must never change, and every
// record must read back as it was sent.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { ConsumerRecord } from "./topic-consumer.js";

const RECORDS_PER_BATCH = 120;
const VALUE_BYTES = 1000;
const valueOf = (i: number): Buffer => Buffer.alloc(VALUE_BYTES, i % 251);

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it("records held by a consumer and records read later keep their bytes while the producer reuses batch buffers", async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-batch-reuse-"));
  const topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
  try {
    await topics.admin.createTopic({ name: "reuse", partitions: 1 });
    // Batches of about 128 KiB: past the log's 8 MiB tail cache after some seventy of them.
    const producer = topics.producer({ batchSize: 128 * 1024, lingerMs: 0 });
    const consumer = topics.consumer({
      groupId: "reuse",
      autoOffsetReset: "earliest",
      autoCommit: false,
      maxPollRecords: 5 * RECORDS_PER_BATCH,
    });
    await consumer.subscribe(["reuse"]);
    let sent = 0;
    const sendBatches = async (n: number): Promise<void> => {
      for (let b = 0; b < n; b++) {
        const records = Array.from({ length: RECORDS_PER_BATCH }, (_, j) => ({
          topic: "reuse",
          value: valueOf(sent + j),
        }));
        sent += RECORDS_PER_BATCH;
        await producer.sendBatch(records);
      }
    };
    await sendBatches(10);
    // Views into the first batches, taken while they are in the tail cache.
    const held: ConsumerRecord[] = await consumer.poll({ timeoutMs: 1000 });
    expect(held.length).toBeGreaterThan(0);
    const heldCopies = held.map((r) => Buffer.from(r.value!));
    await sendBatches(150);
    for (let i = 0; i < held.length; i++) expect(held[i]!.value!.equals(heldCopies[i]!)).toBe(true);
    let next = held.length;
    while (next < sent) {
      const records = await consumer.poll({ timeoutMs: 1000 });
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) {
        expect(r.offset).toBe(next);
        expect(r.value!.equals(valueOf(next))).toBe(true);
        next++;
      }
    }
    await consumer.close();
    await producer.close();
  } finally {
    await topics.close();
  }
});
