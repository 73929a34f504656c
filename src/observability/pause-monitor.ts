import { readFileSync } from "node:fs";
import {
  type IntervalHistogram,
  type PerformanceEntry,
  PerformanceObserver,
  constants,
  monitorEventLoopDelay,
} from "node:perf_hooks";

/** Pauses of one kind over a window. */
export interface PauseCounts {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
}

/** What stopped the main thread during one measured window. */
export interface PauseSummary {
  readonly wallMs: number;
  /** Young-generation collections. */
  readonly scavenges: PauseCounts;
  /** Mark-compacts and their incremental steps. */
  readonly fullCollections: PauseCounts;
  /** How late the event loop ran a 1 ms timer, in milliseconds. */
  readonly eventLoopDelay: {
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
  };
  /**
   * Time the main thread was runnable but waited for a core (other processes or this process's
   * own threads held both): the share of a tail the code cannot remove. Undefined where the
   * kernel does not report it (not Linux).
   */
  readonly runQueueWaitMs: number | undefined;
  /** Time the main thread ran on a core. Undefined where the kernel does not report it. */
  readonly onCpuMs: number | undefined;
}

/** A thread's scheduler figures, from Linux's `/proc/<pid>/task/<tid>/schedstat`. */
export interface ThreadSchedule {
  readonly onCpuMs: number;
  readonly runQueueWaitMs: number;
}

/** Parses a schedstat line: nanoseconds on a CPU, nanoseconds waiting in the run queue, slices. */
export function parseSchedStat(text: string): ThreadSchedule | undefined {
  const [onCpu, wait] = text.trim().split(/\s+/).map(Number);
  if (onCpu === undefined || wait === undefined || !Number.isFinite(onCpu + wait)) return undefined;
  return { onCpuMs: onCpu / 1e6, runQueueWaitMs: wait / 1e6 };
}

/**
 * The scheduler figures of a process's main thread (its thread id is the process id), or
 * undefined where they cannot be read (not Linux, the process is gone).
 */
export function mainThreadSchedule(pid: number = process.pid): ThreadSchedule | undefined {
  try {
    return parseSchedStat(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "latin1"));
  } catch {
    return undefined;
  }
}

const counts = (pauses: readonly number[]): PauseCounts => ({
  count: pauses.length,
  totalMs: pauses.reduce((sum, ms) => sum + ms, 0),
  maxMs: pauses.reduce((max, ms) => Math.max(max, ms), 0),
});

/**
 * Watches this process over a measured window (a latency phase) so its figures can say what a
 * tail is made of: garbage-collection pauses, event-loop delay, and the main thread's wait for a
 * core. `stop()` ends the window and resolves to the summary.
 */
export class PauseMonitor {
  private readonly scavenges: number[] = [];
  private readonly fullCollections: number[] = [];
  private readonly observer = new PerformanceObserver((list) => this.take(list.getEntries()));
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  private readonly started = performance.now();
  private readonly scheduleAtStart = mainThreadSchedule();
  private stopped: PauseSummary | undefined;

  constructor() {
    this.observer.observe({ entryTypes: ["gc"] });
    this.delay.enable();
  }

  async stop(): Promise<PauseSummary> {
    if (this.stopped !== undefined) return this.stopped;
    const wallMs = performance.now() - this.started;
    const schedule = mainThreadSchedule();
    // Node files a collection's entry on the turn after it: one more turn and it is here.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.stopped !== undefined) return this.stopped;
    this.take(this.observer.takeRecords());
    this.observer.disconnect();
    this.delay.disable();
    const before = this.scheduleAtStart;
    const ms = (nanos: number): number => nanos / 1e6;
    this.stopped = {
      wallMs,
      scavenges: counts(this.scavenges),
      fullCollections: counts(this.fullCollections),
      eventLoopDelay: {
        p50Ms: ms(this.delay.percentile(50)),
        p99Ms: ms(this.delay.percentile(99)),
        maxMs: ms(this.delay.max),
      },
      runQueueWaitMs:
        schedule && before ? schedule.runQueueWaitMs - before.runQueueWaitMs : undefined,
      onCpuMs: schedule && before ? schedule.onCpuMs - before.onCpuMs : undefined,
    };
    return this.stopped;
  }

  private take(entries: readonly PerformanceEntry[]): void {
    for (const entry of entries) {
      // Node 16+ files the kind under `detail` (the type of its entries does not say so).
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) this.scavenges.push(entry.duration);
      else this.fullCollections.push(entry.duration);
    }
  }
}

/** One human line: the pauses of a window, and its run-queue wait when known. */
export function pauseLine(p: PauseSummary): string {
  const pauses = (n: PauseCounts, what: string): string =>
    `${n.count} ${what} (${n.totalMs.toFixed(0)} ms, longest ${n.maxMs.toFixed(1)} ms)`;
  const wait =
    p.runQueueWaitMs === undefined
      ? ""
      : `; main thread waited ${p.runQueueWaitMs.toFixed(0)} ms for a core (${((100 * p.runQueueWaitMs) / p.wallMs).toFixed(1)} % of ${(p.wallMs / 1000).toFixed(1)} s)`;
  return (
    `pauses: ${pauses(p.scavenges, "scavenges")}, ${pauses(p.fullCollections, "full collections")}; ` +
    `event-loop delay p50 ${p.eventLoopDelay.p50Ms.toFixed(2)} ms, p99 ${p.eventLoopDelay.p99Ms.toFixed(2)} ms, max ${p.eventLoopDelay.maxMs.toFixed(1)} ms${wait}`
  );
}
