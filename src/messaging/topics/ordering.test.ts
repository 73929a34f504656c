import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { PartitionerName } from "./topic-producer.js";

// Lab 1 part A: three producers, one per partitioner, each send 1,000 keyed messages (50 keys,
// 20 messages each, numbered per key) to a topic of 4 partitions; one consumer reads them all.
// Per strategy: the share of keys whose messages were consumed in send order. Order holds per
// partition, so only the key-hash partitioner keeps every key in order. docs/topics.md shows
// the table.
const KEYS = 50;
const PER_KEY = 20;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function shareInOrder(partitioner: PartitionerName): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-ordering-"));
  dirs.push(dir);
  const service = await EmbeddedTopicService.open(dir, { fsync: "never" });
  try {
    await service.admin.createTopic({ name: "orders", partitions: 4 });
    const producer = service.producer({ partitioner, lingerMs: 0, batchSize: 1024 });
    // Interleaved keys, sent in chunks as an application would.
    const messages = Array.from({ length: KEYS * PER_KEY }, (_, i) => ({
      topic: "orders",
      key: `customer-${i % KEYS}`,
      value: String(Math.floor(i / KEYS)),
    }));
    for (let i = 0; i < messages.length; i += 100)
      await producer.sendBatch(messages.slice(i, i + 100));
    await producer.close();
    const consumer = service.consumer({
      groupId: "ordering",
      autoOffsetReset: "earliest",
      maxPollRecords: 25,
    });
    await consumer.subscribe(["orders"]);
    const consumed: Array<{ key: string; n: number }> = [];
    for (let polls = 0; consumed.length < messages.length && polls < 1000; polls++)
      for (const r of await consumer.poll({ timeoutMs: 10 }))
        consumed.push({ key: r.key!.toString(), n: Number(r.value!.toString()) });
    await consumer.close();
    expect(consumed).toHaveLength(messages.length);
    const last = new Map<string, number>();
    const broken = new Set<string>();
    for (const { key, n } of consumed) {
      if ((last.get(key) ?? -1) > n) broken.add(key);
      last.set(key, n);
    }
    return (KEYS - broken.size) / KEYS;
  } finally {
    await service.close();
  }
}

describe("ordering per partitioner (1,000 keyed messages, 4 partitions)", () => {
  it("key-hash keeps every key in order; round-robin and sticky do not", async () => {
    const shares: Record<string, number> = {};
    for (const p of ["key-hash", "round-robin", "sticky"] as const)
      shares[p] = await shareInOrder(p);
    expect(shares["key-hash"]).toBe(1);
    expect(shares["round-robin"]).toBeLessThan(1);
    expect(shares.sticky).toBeLessThan(1);
    process.stdout.write(`share of keys consumed in send order: ${JSON.stringify(shares)}\n`);
  });
});
