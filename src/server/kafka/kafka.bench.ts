// `sluice bench kafka`: kafkajs producing to and consuming from the listener on embedded topics.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";
import type { FsyncPolicy } from "../../engine/index.js";
import { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { LatencyHistogram, machineInfo } from "../../observability/index.js";
import { embeddedKafkaBackend } from "./embedded-kafka-backend.js";
import { KafkaServer } from "./kafka-server.js";

export interface KafkaBenchOptions {
  readonly numRecords: number;
  readonly recordSize: number;
  /** Records per kafkajs send (one request). */
  readonly batchSize: number;
  /** Sends in flight at once. */
  readonly inFlight: number;
  readonly gzip: boolean;
  readonly fsync: "always" | "interval" | "never";
  readonly quiet: boolean;
}

export const defaultKafkaBenchOptions: KafkaBenchOptions = {
  numRecords: 200_000,
  recordSize: 100,
  batchSize: 1000,
  inFlight: 4,
  gzip: false,
  fsync: "interval",
  quiet: false,
};

/** Produces then consumes `numRecords` through kafkajs; returns throughput and send latency. */
export async function runKafkaBench(partial: Partial<KafkaBenchOptions> = {}): Promise<object> {
  const o = { ...defaultKafkaBenchOptions, ...partial };
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-kafka-"));
  const fsync: FsyncPolicy = o.fsync === "interval" ? { intervalMs: 50 } : o.fsync;
  const topics = await EmbeddedTopicService.open(dir, { fsync });
  const server = await KafkaServer.listen({ backend: embeddedKafkaBackend(topics), port: 0 });
  const kafka = new Kafka({
    clientId: "bench",
    brokers: [`127.0.0.1:${server.port}`],
    logLevel: logLevel.NOTHING,
  });
  try {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "bench", numPartitions: 1 }] });
    await admin.disconnect();

    const value = Buffer.alloc(o.recordSize, 0x61);
    const messages = Array.from({ length: o.batchSize }, () => ({ value }));
    const producer = kafka.producer();
    await producer.connect();
    const latency = new LatencyHistogram();
    const sends = Math.ceil(o.numRecords / o.batchSize);
    let next = 0;
    const produceStart = performance.now();
    const worker = async (): Promise<void> => {
      while (next < sends) {
        next++;
        const started = performance.now();
        await producer.send({
          topic: "bench",
          acks: -1,
          messages,
          ...(o.gzip ? { compression: CompressionTypes.GZIP } : {}),
        });
        latency.recordMs(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: o.inFlight }, worker));
    const produceSeconds = (performance.now() - produceStart) / 1000;
    await producer.disconnect();
    const produced = sends * o.batchSize;

    const consumer = kafka.consumer({
      groupId: "bench",
      maxBytes: 10 * 1024 * 1024,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: "bench", fromBeginning: true });
    let consumed = 0;
    const consumeStart = performance.now();
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachBatchAutoResolve: true,
          eachBatch: ({ batch }) => {
            consumed += batch.messages.length;
            if (consumed >= produced) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    const consumeSeconds = (performance.now() - consumeStart) / 1000;
    await consumer.disconnect();

    const summary = latency.summary();
    const result = {
      benchmark: "kafka",
      parameters: o,
      machine: machineInfo(),
      note: "one Node.js process: kafkajs producer, consumer, listener and engine share one core",
      produce: {
        records: produced,
        recordsPerSec: produced / produceSeconds,
        sendLatency: summary,
      },
      consume: { records: consumed, recordsPerSec: consumed / consumeSeconds },
    };
    if (!o.quiet)
      process.stdout.write(
        `kafkajs produce: ${produced} records in batches of ${o.batchSize}, ${(produced / produceSeconds).toFixed(0)} records/s, ` +
          `send p99 ${summary.p99Ms.toFixed(1)} ms; consume: ${(consumed / consumeSeconds).toFixed(0)} records/s\n`,
      );
    return result;
  } finally {
    await server.close();
    await topics.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
