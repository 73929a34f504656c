/**
 * `sluice bench produce` and `sluice bench consume`: kafka-producer-perf-test and
 * kafka-consumer-perf-test against the embedded topics, with their options and output.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FsyncPolicy } from "../../engine/index.js";
import {
  LatencyHistogram,
  type LatencySummary,
  consumerPerfLines,
  producerPerfLine,
} from "../../observability/index.js";
import {
  KAFKA_DATE_FORMAT,
  javaDateFormat,
  producerProgressLine,
} from "../../observability/bench-report.js";
import { sharedReading } from "../../time/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { CompressionType, ProducerOptions } from "./topic-producer.js";
import { untilDue } from "./send-pacing.js";

export interface ProducePerfOptions {
  readonly numRecords: number;
  readonly recordSize: number;
  /** Records per second offered; -1 for as fast as possible. */
  readonly throughput: number;
  /** Kafka producer properties: batch.size, linger.ms, compression.type, acks. */
  readonly producerProps: Readonly<Record<string, string>>;
  readonly partitions: number;
  /** The topic produced to (default "perf-test"), created in the bench's data directory. */
  readonly topic?: string;
  readonly fsync: "always" | "interval" | "never";
  /** Print kafka-producer-perf-test's progress line every 5 s. */
  readonly progress: boolean;
  readonly dir?: string;
}

export interface ProducePerfResult {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly latency: LatencySummary;
  readonly line: string;
}

const MB = 1024 * 1024;

function fsyncPolicy(mode: ProducePerfOptions["fsync"]): FsyncPolicy {
  return mode === "interval" ? { intervalMs: 50 } : mode;
}

/** kafka-producer-perf-test's --producer-props in the producer's terms. */
export function producerOptionsFromProps(props: Readonly<Record<string, string>>): ProducerOptions {
  const known = new Set(["batch.size", "linger.ms", "compression.type", "acks"]);
  for (const key of Object.keys(props))
    if (!known.has(key)) throw new Error(`--producer-props: unknown property ${key}`);
  const acks = props.acks;
  return {
    ...(props["batch.size"] === undefined ? {} : { batchSize: Number(props["batch.size"]) }),
    ...(props["linger.ms"] === undefined ? {} : { lingerMs: Number(props["linger.ms"]) }),
    ...(props["compression.type"] === undefined
      ? {}
      : { compression: props["compression.type"] as CompressionType }),
    ...(acks === undefined ? {} : { acks: acks === "all" ? "all" : (Number(acks) as 0 | 1 | -1) }),
  };
}

const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Produces `numRecords` records, latency measured from each record's intended send time. */
export async function runProducePerf(options: ProducePerfOptions): Promise<ProducePerfResult> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "sluice-produce-perf-"));
  const service = await EmbeddedTopicService.open(dir, { fsync: fsyncPolicy(options.fsync) });
  try {
    const topic = options.topic ?? "perf-test";
    await service.admin.createTopic({ name: topic, partitions: options.partitions });
    const producer = service.producer(producerOptionsFromProps(options.producerProps));
    const value = Buffer.alloc(options.recordSize, 0x61);
    const histogram = new LatencyHistogram();
    // The progress line needs only the window's mean and max: no second histogram per record.
    let windowSumMs = 0;
    let windowMaxMs = 0;
    let windowRecords = 0;
    let windowStart = performance.now();
    const started = performance.now();
    const interval = options.throughput > 0 ? 1000 / options.throughput : 0;
    let pending = 0;
    let failed: Error | undefined;
    // A clock reading costs as much as sending a record on this kind of machine (see
    // sharedReading): records sent together share one, and so do acknowledgements that arrive
    // together (a batch's), within a few microseconds of their own times.
    const sendTime = sharedReading(() => performance.now(), 16);
    const ackTime = sharedReading(() => performance.now(), 64);
    // So latencies come in runs of equal values: each run goes into the histogram at once.
    let runMs = 0;
    let runRecords = 0;
    for (let i = 0; i < options.numRecords; i++) {
      const intended = interval > 0 ? started + i * interval : sendTime();
      if (interval > 0) {
        const ahead = intended - performance.now();
        if (ahead > 0) await untilDue(ahead);
        // Behind schedule the loop never waits above: still let acks and linger timers run.
        else if ((i & 1023) === 0) await yieldToIo();
      } else if ((i & 1023) === 0) await yieldToIo();
      pending++;
      producer.send({ topic, value }).then(
        () => {
          pending--;
          const ms = ackTime() - intended;
          if (ms !== runMs) {
            if (runRecords > 0) histogram.recordMs(runMs, runRecords);
            runMs = ms;
            runRecords = 0;
          }
          runRecords++;
          windowSumMs += ms;
          if (ms > windowMaxMs) windowMaxMs = ms;
          windowRecords++;
        },
        (error: unknown) => {
          pending--;
          failed = error as Error;
        },
      );
      if (failed !== undefined) throw failed;
      if (options.progress && (i & 1023) === 0 && performance.now() - windowStart >= 5000) {
        const s = (performance.now() - windowStart) / 1000;
        const meanMs = windowRecords === 0 ? 0 : windowSumMs / windowRecords;
        const line = producerProgressLine(
          windowRecords,
          s,
          windowRecords * options.recordSize,
          meanMs,
          windowMaxMs,
        );
        process.stderr.write(`${line}\n`);
        windowSumMs = 0;
        windowMaxMs = 0;
        windowRecords = 0;
        windowStart = performance.now();
      }
    }
    await producer.flush();
    while (pending > 0) await yieldToIo();
    if (failed !== undefined) throw failed;
    if (runRecords > 0) histogram.recordMs(runMs, runRecords);
    const seconds = (performance.now() - started) / 1000;
    const latency = histogram.summary();
    const bytes = options.numRecords * options.recordSize;
    await producer.close();
    return {
      records: options.numRecords,
      seconds,
      recordsPerSec: options.numRecords / seconds,
      mbPerSec: bytes / MB / seconds,
      latency,
      line: producerPerfLine(options.numRecords, seconds, bytes, latency),
    };
  } finally {
    await service.close();
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

export interface ConsumePerfOptions {
  readonly numRecords: number;
  readonly recordSize: number;
  readonly partitions: number;
  readonly fsync: "always" | "interval" | "never";
  /** The topic filled and read (default "perf-test"). */
  readonly topic?: string;
  /** kafka-consumer-perf-test's --date-format (a java.text.SimpleDateFormat pattern). */
  readonly dateFormat?: string;
}

export interface ConsumePerfResult {
  readonly records: number;
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly rebalanceMs: number;
  readonly fetchMs: number;
  readonly lines: string;
}

/** Fills a topic, then reads it with a consumer group of one (kafka-consumer-perf-test). */
export async function runConsumePerf(options: ConsumePerfOptions): Promise<ConsumePerfResult> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-consume-perf-"));
  const service = await EmbeddedTopicService.open(dir, { fsync: fsyncPolicy(options.fsync) });
  try {
    const topic = options.topic ?? "perf-test";
    await service.admin.createTopic({ name: topic, partitions: options.partitions });
    const producer = service.producer({
      batchSize: 256 * 1024,
      lingerMs: 0,
      partitioner: "round-robin",
    });
    const value = Buffer.alloc(options.recordSize, 0x61);
    const chunk = Array.from({ length: 1000 }, () => ({ topic, value }));
    for (let sent = 0; sent < options.numRecords; sent += chunk.length)
      await producer.sendBatch(chunk.slice(0, Math.min(chunk.length, options.numRecords - sent)));
    await producer.close();
    const consumer = service.consumer({
      groupId: "perf-consumer",
      autoOffsetReset: "earliest",
      autoCommit: false,
      maxPollRecords: 10_000,
      maxPartitionFetchBytes: 4 * MB,
    });
    const startMs = Date.now();
    const started = performance.now();
    await consumer.subscribe([topic]);
    const rebalanceMs = Math.round(performance.now() - started);
    let records = 0;
    let bytes = 0;
    const fetchStarted = performance.now();
    while (records < options.numRecords) {
      const batch = await consumer.poll({ timeoutMs: 1000 });
      if (batch.length === 0) break;
      records += batch.length;
      for (const r of batch) bytes += r.value?.length ?? 0;
    }
    const fetchMs = performance.now() - fetchStarted;
    await consumer.commitSync();
    await consumer.close();
    const endMs = Date.now();
    const seconds = (performance.now() - started) / 1000;
    return {
      records,
      recordsPerSec: records / seconds,
      mbPerSec: bytes / MB / seconds,
      rebalanceMs,
      fetchMs,
      lines: consumerPerfLines(
        { startMs, endMs, bytes, records, rebalanceMs, fetchMs },
        javaDateFormat(options.dateFormat ?? KAFKA_DATE_FORMAT),
      ),
    };
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
