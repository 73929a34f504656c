import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LatencyHistogram,
  PeakRss,
  Progress,
  consumerPerfLines,
  machineInfo,
  producerPerfLine,
} from "../observability/index.js";
import { openLog } from "./log.js";
import type { FsyncPolicy } from "./log-options.js";
import type { RecordInput } from "./record.js";

export interface LogBenchOptions {
  readonly numRecords: number;
  readonly recordSize: number;
  /** Records per append call. */
  readonly batchSize: number;
  /** Concurrent appenders (each awaits its own appends). */
  readonly appenders: number;
  readonly fsync: "always" | "interval" | "never";
  readonly fsyncIntervalMs: number;
  /** Read the whole log back sequentially after appending. */
  readonly read: boolean;
  readonly dir?: string;
  readonly progress: boolean;
  /** Print the human lines (off when the caller prints JSON only). */
  readonly quiet: boolean;
}

export const defaultLogBenchOptions: LogBenchOptions = {
  numRecords: 1_000_000,
  recordSize: 100,
  batchSize: 100,
  appenders: 1,
  fsync: "interval",
  fsyncIntervalMs: 50,
  read: true,
  progress: false,
  quiet: false,
};

/**
 * Appends `numRecords` records of `recordSize` bytes from `appenders` concurrent producers,
 * then reads them all back sequentially. One process, one core for producer and log alike.
 */
export async function runLogBench(partial: Partial<LogBenchOptions> = {}): Promise<object> {
  const o = { ...defaultLogBenchOptions, ...partial };
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "sluice-bench-log-"));
  const fsync: FsyncPolicy = o.fsync === "interval" ? { intervalMs: o.fsyncIntervalMs } : o.fsync;
  const rss = new PeakRss();
  const log = await openLog(join(dir, "log"), { fsync, maintenanceIntervalMs: 0 });
  try {
    const value = Buffer.alloc(o.recordSize, 0x61);
    const latency = new LatencyHistogram();
    const progress = new Progress(o.progress, "append");
    let sent = 0;
    const started = performance.now();
    const appender = async (): Promise<void> => {
      const batch: RecordInput[] = Array.from({ length: o.batchSize }, () => ({ value }));
      while (sent < o.numRecords) {
        const count = Math.min(o.batchSize, o.numRecords - sent);
        sent += count;
        const t0 = performance.now();
        await log.append(count === o.batchSize ? batch : batch.slice(0, count));
        const ms = performance.now() - t0;
        // Every record of a batch waited as long as its batch did.
        for (let i = 0; i < count; i++) latency.recordMs(ms);
        progress.tick(sent, o.numRecords);
      }
    };
    await Promise.all(Array.from({ length: o.appenders }, appender));
    await log.flush();
    const appendSeconds = (performance.now() - started) / 1000;
    const appendRss = rss.sample();
    const produce = {
      records: o.numRecords,
      seconds: appendSeconds,
      recordsPerSec: o.numRecords / appendSeconds,
      mbPerSec: (o.numRecords * o.recordSize) / (1024 * 1024) / appendSeconds,
      latency: latency.summary(),
      logBytes: log.sizeBytes,
      rssAfterAppendBytes: appendRss,
    };
    if (!o.quiet)
      process.stdout.write(
        producerPerfLine(
          o.numRecords,
          appendSeconds,
          o.numRecords * o.recordSize,
          produce.latency,
        ) + "\n",
      );

    let consume: object | undefined;
    if (o.read) {
      const readProgress = new Progress(o.progress, "read");
      const startMs = Date.now();
      const t0 = performance.now();
      let offset = 0;
      let records = 0;
      let bytes = 0;
      while (offset < log.logEndOffset) {
        const got = log.read(offset, { maxRecords: 100_000, maxBytes: 4 * 1024 * 1024 });
        for (const r of got) bytes += r.value?.length ?? 0;
        records += got.length;
        offset = got[got.length - 1]!.offset + 1;
        readProgress.tick(records, o.numRecords);
      }
      const fetchMs = performance.now() - t0;
      const figures = { startMs, endMs: Date.now(), bytes, records, rebalanceMs: 0, fetchMs };
      consume = {
        records,
        seconds: fetchMs / 1000,
        recordsPerSec: records / (fetchMs / 1000),
        mbPerSec: bytes / (1024 * 1024) / (fetchMs / 1000),
      };
      if (!o.quiet) process.stdout.write(consumerPerfLines(figures) + "\n");
    }
    return {
      benchmark: "log",
      parameters: { ...o, dir: undefined },
      machine: machineInfo(),
      produce,
      consume,
      peakRssBytes: rss.stop(),
    };
  } finally {
    rss.stop();
    await log.close();
    if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
