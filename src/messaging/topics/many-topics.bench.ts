/**
 * `sluice bench many-topics`: memory of an embedded instance with many topics, each read by its
 * own consumer group (a group of one): the 100 topics x 8 partitions under 400 MB RSS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { TopicConsumer } from "./topic-consumer.js";

export interface ManyTopicsOptions {
  readonly topics: number;
  readonly partitions: number;
  /** Records written to each partition before the groups read them. */
  readonly recordsPerPartition: number;
  readonly recordSize: number;
}

export interface ManyTopicsResult {
  readonly topics: number;
  readonly partitions: number;
  readonly groups: number;
  readonly recordsRead: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly seconds: number;
  readonly line: string;
}

export async function runManyTopics(options: ManyTopicsOptions): Promise<ManyTopicsResult> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-many-topics-"));
  const started = performance.now();
  const service = await EmbeddedTopicService.open(dir, { fsync: { intervalMs: 50 } });
  const consumers: TopicConsumer[] = [];
  try {
    const producer = service.producer({ lingerMs: 0, partitioner: "round-robin" });
    const value = Buffer.alloc(options.recordSize, 0x61);
    for (let t = 0; t < options.topics; t++) {
      const topic = `topic-${t}`;
      await service.admin.createTopic({ name: topic, partitions: options.partitions });
      const count = options.partitions * options.recordsPerPartition;
      if (count > 0)
        await producer.sendBatch(Array.from({ length: count }, () => ({ topic, value })));
    }
    await producer.close();
    let recordsRead = 0;
    for (let t = 0; t < options.topics; t++) {
      const consumer = service.consumer({
        groupId: `group-${t}`,
        autoOffsetReset: "earliest",
        autoCommit: false,
      });
      await consumer.subscribe([`topic-${t}`]);
      consumers.push(consumer);
    }
    const expected = options.topics * options.partitions * options.recordsPerPartition;
    for (let round = 0; round < 100 && recordsRead < expected; round++)
      for (const c of consumers) recordsRead += (await c.poll({ timeoutMs: 0 })).length;
    for (const c of consumers) await c.commitSync();
    global.gc?.();
    const memory = process.memoryUsage();
    const seconds = (performance.now() - started) / 1000;
    const line = `${options.topics} topics x ${options.partitions} partitions, ${consumers.length} consumer groups, ${recordsRead} records read: RSS ${(memory.rss / 1024 / 1024).toFixed(1)} MB, heap ${(memory.heapUsed / 1024 / 1024).toFixed(1)} MB, ${seconds.toFixed(1)} s`;
    return {
      topics: options.topics,
      partitions: options.partitions,
      groups: consumers.length,
      recordsRead,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      seconds,
      line,
    };
  } finally {
    for (const c of consumers) await c.close();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
