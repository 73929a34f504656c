/**
 * `sluice bench tune`: the Kafka-tuning workshop's grid. Every combination of batch.size,
 * linger.ms, compression.type and partition count runs kafka-producer-perf-test's workload
 * (unthrottled, latency from each record's send), beside the untuned baseline (no batching:
 * batch.size 0, linger.ms 0, no compression). The result: a table, the best configuration and
 * its gain over the baseline, and an SVG chart of throughput against p99 latency.
 */
import { renderLineChart } from "../../observability/index.js";
import { type ProducePerfResult, runProducePerf } from "./perf-test.bench.js";

export interface TuneConfig {
  readonly batchSize: number;
  readonly lingerMs: number;
  readonly compression: string;
  readonly partitions: number;
}

export interface TuneGrid {
  readonly batchSizes: readonly number[];
  readonly lingersMs: readonly number[];
  readonly compressions: readonly string[];
  readonly partitions: readonly number[];
}

/** The workshop's grid. */
export const WORKSHOP_GRID: TuneGrid = {
  batchSizes: [16384, 32768, 65536],
  lingersMs: [0, 5, 10, 20],
  compressions: ["none", "gzip", "snappy", "lz4", "zstd"],
  partitions: [1, 4],
};

/** A short grid for a first look (or a test): 8 configurations. */
export const QUICK_GRID: TuneGrid = {
  batchSizes: [16384, 65536],
  lingersMs: [0, 10],
  compressions: ["none", "lz4"],
  partitions: [1],
};

export interface TuneOptions {
  readonly grid: TuneGrid;
  readonly numRecords: number;
  readonly recordSize: number;
  readonly fsync: "always" | "interval" | "never";
  /** Called before and after each run (progress lines). */
  readonly onProgress?: (line: string) => void;
}

export interface TuneRow {
  readonly config: TuneConfig;
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface TuneResult {
  readonly baseline: TuneRow;
  readonly rows: readonly TuneRow[];
  readonly best: TuneRow;
  /** best.recordsPerSec / baseline.recordsPerSec */
  readonly gain: number;
}

export function configLabel(c: TuneConfig): string {
  return `batch.size=${c.batchSize} linger.ms=${c.lingerMs} compression.type=${c.compression} partitions=${c.partitions}`;
}

/** Every configuration of the grid, in a stable order. */
export function gridConfigs(grid: TuneGrid): TuneConfig[] {
  const out: TuneConfig[] = [];
  for (const partitions of grid.partitions)
    for (const compression of grid.compressions)
      for (const batchSize of grid.batchSizes)
        for (const lingerMs of grid.lingersMs)
          out.push({ batchSize, lingerMs, compression, partitions });
  return out;
}

async function measure(config: TuneConfig, options: TuneOptions): Promise<TuneRow> {
  const result: ProducePerfResult = await runProducePerf({
    numRecords: options.numRecords,
    recordSize: options.recordSize,
    throughput: -1,
    producerProps: {
      "batch.size": String(config.batchSize),
      "linger.ms": String(config.lingerMs),
      "compression.type": config.compression,
    },
    partitions: config.partitions,
    fsync: options.fsync,
    progress: false,
  });
  return {
    config,
    recordsPerSec: result.recordsPerSec,
    mbPerSec: result.mbPerSec,
    p50Ms: result.latency.p50Ms,
    p99Ms: result.latency.p99Ms,
  };
}

export async function runTune(options: TuneOptions): Promise<TuneResult> {
  const configs = gridConfigs(options.grid);
  const total = configs.length + 1;
  const progress = options.onProgress ?? (() => undefined);
  const describeRow = (r: TuneRow): string =>
    `${r.recordsPerSec.toFixed(0)} records/sec, ${r.mbPerSec.toFixed(2)} MB/sec, p99 ${r.p99Ms.toFixed(1)} ms`;
  const baselineConfig: TuneConfig = {
    batchSize: 0,
    lingerMs: 0,
    compression: "none",
    partitions: options.grid.partitions[0] ?? 1,
  };
  progress(`[1/${total}] baseline ${configLabel(baselineConfig)} ...`);
  const baseline = await measure(baselineConfig, options);
  progress(`[1/${total}] baseline: ${describeRow(baseline)}`);
  const rows: TuneRow[] = [];
  for (const [i, config] of configs.entries()) {
    progress(`[${i + 2}/${total}] ${configLabel(config)} ...`);
    const row = await measure(config, options);
    rows.push(row);
    progress(`[${i + 2}/${total}] ${describeRow(row)}`);
  }
  const best = rows.reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a), baseline);
  return { baseline, rows, best, gain: best.recordsPerSec / baseline.recordsPerSec };
}

/** The table, the best configuration and its gain, as text. */
export function tuneTable(result: TuneResult): string {
  const header = [
    "batch.size",
    "linger.ms",
    "compression",
    "partitions",
    "records/s",
    "MB/s",
    "p50 ms",
    "p99 ms",
  ];
  const row = (r: TuneRow, name?: string): string[] => [
    name ?? String(r.config.batchSize),
    String(r.config.lingerMs),
    r.config.compression,
    String(r.config.partitions),
    r.recordsPerSec.toFixed(0),
    r.mbPerSec.toFixed(2),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
  ];
  const lines = [header, row(result.baseline, "0 (baseline)"), ...result.rows.map((r) => row(r))];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const text = lines.map((l) => l.map((cell, i) => cell.padStart(widths[i]!)).join("  "));
  text.push(
    "",
    `best: ${configLabel(result.best.config)}: ${result.best.recordsPerSec.toFixed(0)} records/sec, p99 ${result.best.p99Ms.toFixed(1)} ms, ${result.gain.toFixed(2)}x the untuned baseline (${result.baseline.recordsPerSec.toFixed(0)} records/sec)`,
  );
  return text.join("\n");
}

/** Throughput (x) against p99 latency (y), one line per compression and partition count. */
export function tuneChart(result: TuneResult): string {
  const groups = new Map<string, TuneRow[]>();
  for (const r of result.rows) {
    const name = `${r.config.compression}, ${r.config.partitions}p`;
    groups.set(name, [...(groups.get(name) ?? []), r]);
  }
  const series = [...groups].map(([name, rows]) => ({
    name,
    points: rows.map((r) => [r.recordsPerSec / 1000, r.p99Ms] as const).sort((a, b) => a[0] - b[0]),
  }));
  series.push({
    name: "baseline",
    points: [[result.baseline.recordsPerSec / 1000, result.baseline.p99Ms] as const],
  });
  return renderLineChart({
    title: "bench tune: throughput against p99 latency per configuration",
    xLabel: "thousand records/s",
    yLabel: "p99 latency (ms)",
    series,
    logY: true,
  });
}
