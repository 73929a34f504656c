import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { LatencySummary } from "./latency-histogram.js";

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly platform: string;
}

/** What a benchmark result records about where it ran. */
export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    platform: process.platform,
  };
}

const MB = 1024 * 1024;

/** The closing line of kafka-producer-perf-test, which users of Kafka read at a glance. */
export function producerPerfLine(
  records: number,
  seconds: number,
  bytes: number,
  latency: LatencySummary,
): string {
  const ms = (v: number): string => Math.round(v).toString();
  return (
    `${records} records sent, ${(records / seconds).toFixed(1)} records/sec (${(bytes / MB / seconds).toFixed(2)} MB/sec), ` +
    `${latency.meanMs.toFixed(2)} ms avg latency, ${latency.maxMs.toFixed(2)} ms max latency, ${ms(latency.p50Ms)} ms 50th, ` +
    `${ms(latency.p95Ms)} ms 95th, ${ms(latency.p99Ms)} ms 99th, ${ms(latency.p999Ms)} ms 99.9th.`
  );
}

export interface ConsumerFigures {
  readonly startMs: number;
  readonly endMs: number;
  readonly bytes: number;
  readonly records: number;
  readonly rebalanceMs: number;
  readonly fetchMs: number;
}

/** The two lines (header, values) of kafka-consumer-perf-test. */
export function consumerPerfLines(f: ConsumerFigures): string {
  const seconds = (f.endMs - f.startMs) / 1000;
  const fetchSeconds = f.fetchMs / 1000;
  const iso = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
  const values = [
    iso(f.startMs),
    iso(f.endMs),
    (f.bytes / MB).toFixed(4),
    (f.bytes / MB / seconds).toFixed(4),
    f.records,
    (f.records / seconds).toFixed(4),
    f.rebalanceMs,
    Math.round(f.fetchMs),
    (f.bytes / MB / fetchSeconds).toFixed(4),
    (f.records / fetchSeconds).toFixed(4),
  ];
  return (
    "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n" +
    values.join(", ")
  );
}

/** Tracks the peak resident set size while a benchmark runs (sampled every 100 ms). */
export class PeakRss {
  private peak = process.memoryUsage.rss();
  // A background sampler: a benchmark that fails must not be kept alive by it.
  private readonly timer = setInterval(() => this.sample(), 100).unref();

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** Prints progress at most once a second (to stderr, so stdout stays machine-readable). */
export class Progress {
  private last = performance.now();
  private readonly started = performance.now();

  constructor(
    private readonly enabled: boolean,
    private readonly label: string,
  ) {}

  tick(done: number, total: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 1000) return;
    this.last = now;
    const rate = done / ((now - this.started) / 1000);
    process.stderr.write(
      `${this.label}: ${done}/${total} (${Math.round((100 * done) / total)}%), ${Math.round(rate)}/s\n`,
    );
  }
}

/** Writes a result as JSON to a file (when given) and returns the JSON text. */
export function emitJson(result: object, outFile?: string): string {
  const text = JSON.stringify(result, null, 2);
  if (outFile !== undefined) writeFileSync(outFile, text + "\n");
  return text;
}
