/**
 * `sluice bench e2e`: end-to-end latency through an embedded topic at a fixed offered rate, from
 * each record's intended send time to the moment a consumer (a group of one) gets it, so a
 * stalled sender counts against the figures instead of hiding them (coordinated omission).
 * Producer, log and consumer share one process, so one core bounds the figures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FsyncPolicy } from "../../engine/index.js";
import {
  LatencyHistogram,
  type LatencySummary,
  PauseMonitor,
  type PauseSummary,
} from "../../observability/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import { producerOptionsFromProps } from "./perf-test.bench.js";
import { untilDue } from "./send-pacing.js";
import { type TopicWarmUpReport, warmUpTopics } from "./warm-up.js";

export interface E2ePerfOptions {
  readonly numRecords: number;
  /** Bytes per record (at least 8: the intended send time rides in the value). */
  readonly recordSize: number;
  /** Records per second offered. */
  readonly throughput: number;
  /** Kafka producer properties; linger.ms defaults to 0 here (latency, not batching, is measured). */
  readonly producerProps: Readonly<Record<string, string>>;
  readonly partitions: number;
  readonly fsync: "always" | "interval" | "never";
  /** A progress line on stderr every second. */
  readonly progress: boolean;
  /** Run the topic engine's warm-up (`warmUpTopics`, as `sluice start` does) first. */
  readonly engineWarmUp?: boolean;
}

export interface E2ePerfResult {
  readonly records: number;
  readonly seconds: number;
  readonly offeredPerSec: number;
  readonly achievedPerSec: number;
  readonly latency: LatencySummary;
  /** What stopped the process's main thread while it was measured: where the tail came from. */
  readonly pauses: PauseSummary;
  /** The engine's warm-up, when asked for. */
  readonly engineWarmUp?: TopicWarmUpReport;
  readonly line: string;
}

function fsyncPolicy(mode: E2ePerfOptions["fsync"]): FsyncPolicy {
  return mode === "interval" ? { intervalMs: 50 } : mode;
}

/** One human line: the percentiles users compare. */
export function e2eLine(result: Omit<E2ePerfResult, "line" | "pauses">): string {
  const l = result.latency;
  return `${result.records} records at ${result.offeredPerSec} records/sec offered (${result.achievedPerSec.toFixed(1)} achieved), end-to-end latency ${l.p50Ms.toFixed(2)} ms 50th, ${l.p95Ms.toFixed(2)} ms 95th, ${l.p99Ms.toFixed(2)} ms 99th, ${l.p999Ms.toFixed(2)} ms 99.9th, ${l.maxMs.toFixed(2)} ms max.`;
}

export async function runE2ePerf(options: E2ePerfOptions): Promise<E2ePerfResult> {
  if (options.recordSize < 8) throw new Error("--record-size: at least 8 bytes");
  const engineWarmUp =
    options.engineWarmUp === true
      ? await warmUpTopics({ fsync: fsyncPolicy(options.fsync) })
      : undefined;
  if (engineWarmUp !== undefined && options.progress)
    process.stderr.write(
      `engine warm-up: ${engineWarmUp.records} records in ${engineWarmUp.elapsedMs.toFixed(0)} ms\n`,
    );
  const dir = mkdtempSync(join(tmpdir(), "sluice-e2e-perf-"));
  const service = await EmbeddedTopicService.open(dir, { fsync: fsyncPolicy(options.fsync) });
  try {
    await service.admin.createTopic({ name: "e2e", partitions: options.partitions });
    const producer = service.producer({
      lingerMs: 0,
      partitioner: "round-robin",
      ...producerOptionsFromProps(options.producerProps),
    });
    const consumer = service.consumer({
      groupId: "e2e",
      autoOffsetReset: "latest",
      autoCommit: false,
      maxPollRecords: 10_000,
    });
    await consumer.subscribe(["e2e"]);
    // Join the group (and take the partitions) before the clock starts.
    while (consumer.assignment().length < options.partitions)
      await consumer.poll({ timeoutMs: 10 });
    // And fix the positions ("latest") now: they are found at a partition's first read, and one
    // that came after the first send would start past it.
    for (const tp of consumer.assignment()) consumer.position(tp);
    const histogram = new LatencyHistogram();
    const window = new LatencyHistogram();
    let received = 0;
    let failed: Error | undefined;
    let sendingDone = false;
    const consuming = (async () => {
      while (received < options.numRecords && failed === undefined) {
        const batch = await consumer.poll({ timeoutMs: 100 });
        const now = performance.now();
        for (const r of batch) {
          const ms = now - r.value!.readDoubleLE(0);
          histogram.recordMs(ms);
          window.recordMs(ms);
        }
        received += batch.length;
        if (batch.length === 0 && sendingDone) break;
      }
    })();
    const interval = 1000 / options.throughput;
    // One value buffer for every record: send copies the value into its batch before it
    // returns, so the next record may overwrite it (a new buffer per record cost the benchmark
    // more than the producer's own work, in page faults of Node's buffer pool).
    const value = Buffer.alloc(options.recordSize, 0x61);
    const pauses = new PauseMonitor();
    const started = performance.now();
    let lastProgress = started;
    let lastReceived = 0;
    for (let i = 0; i < options.numRecords && failed === undefined;) {
      const now = performance.now();
      // Every record that is due by now goes out, each stamped with its own intended time.
      const due = Math.min(options.numRecords, Math.floor((now - started) / interval) + 1);
      for (; i < due; i++) {
        value.writeDoubleLE(started + i * interval, 0);
        producer.send({ topic: "e2e", value }).catch((error: unknown) => {
          failed = error as Error;
        });
      }
      if (options.progress && now - lastProgress >= 1000) {
        const w = window.summary();
        process.stderr.write(
          `${received} records received, ${(((received - lastReceived) * 1000) / (now - lastProgress)).toFixed(1)} records/sec, latency ${w.p50Ms.toFixed(2)} ms 50th, ${w.p99Ms.toFixed(2)} ms 99th, ${w.maxMs.toFixed(2)} ms max.\n`,
        );
        window.reset();
        lastProgress = now;
        lastReceived = received;
      }
      await untilDue(started + i * interval - performance.now());
    }
    sendingDone = true;
    await producer.flush();
    await consuming;
    const paused = await pauses.stop();
    if (failed !== undefined) throw failed;
    const seconds = (performance.now() - started) / 1000;
    await consumer.close();
    await producer.close();
    const partial = {
      records: received,
      seconds,
      offeredPerSec: options.throughput,
      achievedPerSec: received / seconds,
      latency: histogram.summary(),
    };
    return {
      ...partial,
      pauses: paused,
      ...(engineWarmUp === undefined ? {} : { engineWarmUp }),
      line: e2eLine(partial),
    };
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
