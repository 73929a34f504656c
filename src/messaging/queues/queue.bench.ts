import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { FsyncPolicy } from "../../engine/index.js";
import {
  type ChartSeries,
  LatencyHistogram,
  type LatencySummary,
  PauseMonitor,
  type PauseSummary,
  PeakRss,
  Progress,
  machineInfo,
  producerPerfLine,
  pauseLine,
  renderLineChart,
} from "../../observability/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import type { SendMessageBatchRequestEntry } from "./queue-service.js";
import { warmUpQueues } from "./warm-up.js";

/** A phase of the queue benchmark that can run alone. */
export type QueueBenchPhase = "standard" | "latency" | "fifo" | "backlog";

export interface QueueBenchOptions {
  /** Messages per traffic phase. */
  readonly numMessages: number;
  readonly messageSize: number;
  readonly producers: number;
  readonly consumers: number;
  /** Offered rate of the latency phase, messages/s. */
  readonly rate: number;
  /**
   * Fixed-rate phases: traffic at the offered rate before the measured messages, in the same
   * stream, reported on a line of its own (a cold process compiles its hot paths meanwhile).
   */
  readonly warmupMs: number;
  /**
   * Run the queue engine's own warm-up (`warmUpQueues`, as `sluice start` does before it
   * listens) before the phases, and report it.
   */
  readonly engineWarmUp: boolean;
  /** Producers of the throughput phases wait while this many messages are not yet deleted. */
  readonly maxBacklog: number;
  readonly fifoGroups: number;
  /** Messages queued for the memory and recovery phase (0 skips it). */
  readonly backlog: number;
  readonly fsync: "always" | "interval" | "never";
  /** Offered rates (messages/s) for a latency sweep on a standard queue; empty skips it. */
  readonly sweep: readonly number[];
  /** Where the sweep's SVG chart goes. */
  readonly chart: string;
  readonly progress: boolean;
  readonly quiet: boolean;
  /** Runs only this phase (the backlog phase only if `backlog` is above 0). */
  readonly only?: QueueBenchPhase;
}

export const defaultQueueBenchOptions: QueueBenchOptions = {
  numMessages: 200_000,
  messageSize: 100,
  producers: 4,
  consumers: 4,
  rate: 50_000,
  warmupMs: 1000,
  engineWarmUp: false,
  maxBacklog: 2_000,
  fifoGroups: 100,
  backlog: 1_000_000,
  fsync: "interval",
  sweep: [],
  chart: "bench-results/queue-latency-sweep.svg",
  progress: false,
  quiet: false,
};

interface Traffic {
  readonly fifo: boolean;
  /** Offered rate in messages/s; 0 = as fast as the backlog bound allows. */
  readonly rate: number;
  readonly label: string;
}

/**
 * Send -> receive -> delete through one embedded queue service, all in one Node process (so
 * producers, consumers and the engine share one core): a throughput phase on a standard queue,
 * a fixed-rate latency phase (latency from each message's intended send time, so a stall is
 * not hidden by coordinated omission), a FIFO phase over many message groups, and a backlog
 * phase measuring memory per queued message and recovery time on reopen.
 */
export async function runQueueBench(partial: Partial<QueueBenchOptions> = {}): Promise<object> {
  const o = { ...defaultQueueBenchOptions, ...partial };
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-queue-"));
  const fsync: FsyncPolicy = o.fsync === "interval" ? { intervalMs: 50 } : o.fsync;
  const rss = new PeakRss();
  try {
    const engineWarmUp = o.engineWarmUp ? await timedWarmUp(fsync, o.quiet) : undefined;
    const service = await EmbeddedQueueService.open(join(dir, "traffic"), { fsync });
    const runs = (phase: QueueBenchPhase): boolean => o.only === undefined || o.only === phase;
    const standard = runs("standard")
      ? await traffic(service, o, { fifo: false, rate: 0, label: "standard" })
      : undefined;
    const latency = runs("latency")
      ? await traffic(service, o, { fifo: false, rate: o.rate, label: `standard at ${o.rate}/s` })
      : undefined;
    const fifo = runs("fifo")
      ? await traffic(service, o, { fifo: true, rate: 0, label: `fifo ${o.fifoGroups} groups` })
      : undefined;
    const sweep = o.sweep.length > 0 ? await latencySweep(service, o) : undefined;
    await service.close();
    const backlog =
      o.backlog > 0 && runs("backlog")
        ? await backlogPhase(join(dir, "backlog"), o, fsync)
        : undefined;
    return {
      benchmark: "queue",
      parameters: o,
      machine: machineInfo(),
      note: "one Node.js process: producers, consumers and the engine share one core",
      engineWarmUp,
      standard,
      latency,
      fifo,
      sweep,
      backlog,
      peakRssBytes: rss.stop(),
    };
  } finally {
    rss.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The engine's warm-up, with the CPU it took. */
async function timedWarmUp(fsync: FsyncPolicy, quiet: boolean): Promise<object> {
  const cpu = process.cpuUsage();
  const report = await warmUpQueues({ fsync });
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  if (!quiet)
    process.stdout.write(
      `engine warm-up: ${report.messages} messages in ${report.elapsedMs.toFixed(0)} ms ` +
        `(${cpuMs.toFixed(0)} ms of CPU)\n`,
    );
  return { ...report, cpuMs };
}

interface TrafficResult {
  readonly label: string;
  readonly fifo: boolean;
  readonly offeredRate: number;
  readonly messages: number;
  readonly seconds: number;
  readonly messagesPerSec: number;
  /** Process CPU time (user + system) per message: steadier than throughput on a busy machine. */
  readonly cpuMicrosPerMessage: number;
  /** Messages a receive returned on average, empty ones included (10 at most). */
  readonly messagesPerReceive: number;
  readonly latency: LatencySummary;
  /** Fixed-rate phases: what stopped the main thread (collections, event-loop delay, core waits). */
  readonly pauses?: PauseSummary;
  /** Fixed-rate phases: the messages sent before the measured ones, and their latency. */
  readonly warmup?: { readonly messages: number; readonly latency: LatencySummary };
}

/** End-to-end latency percentiles against offered rate, as JSON and an SVG chart. */
async function latencySweep(service: EmbeddedQueueService, o: QueueBenchOptions): Promise<object> {
  const points: TrafficResult[] = [];
  for (const rate of o.sweep) {
    // About two seconds of traffic per point, at least 20,000 messages.
    const numMessages = Math.max(20_000, Math.round(rate * 2));
    const label = `sweep ${rate}/s`;
    points.push(await traffic(service, { ...o, numMessages }, { fifo: false, rate, label }));
  }
  const series = (name: string, pick: (l: LatencySummary) => number): ChartSeries => ({
    name,
    points: points.map((p) => [p.offeredRate, Math.max(pick(p.latency), 0.01)] as const),
  });
  const svg = renderLineChart({
    title: "Sluice standard queue: send -> receive -> delete latency vs offered rate",
    xLabel: "offered rate (messages/s)",
    yLabel: "end-to-end latency (ms, log scale)",
    logY: true,
    series: [
      series("p50", (l) => l.p50Ms),
      series("p95", (l) => l.p95Ms),
      series("p99", (l) => l.p99Ms),
      series("p99.9", (l) => l.p999Ms),
      series("max", (l) => l.maxMs),
    ],
  });
  mkdirSync(dirname(o.chart), { recursive: true });
  writeFileSync(o.chart, svg);
  if (!o.quiet) process.stdout.write(`sweep chart written to ${o.chart}\n`);
  return { chart: o.chart, points };
}

async function traffic(
  service: EmbeddedQueueService,
  o: QueueBenchOptions,
  t: Traffic,
): Promise<TrafficResult> {
  const name = `bench-${t.fifo ? "fifo" : "std"}-${t.rate}${t.fifo ? ".fifo" : ""}`;
  const { QueueUrl } = await service.createQueue({
    QueueName: name,
    Attributes: t.fifo ? { FifoQueue: "true" } : {},
  });
  const e2e = new LatencyHistogram();
  const warmupLatency = new LatencyHistogram();
  const progress = new Progress(o.progress, t.label);
  const filler = "x".repeat(Math.max(0, o.messageSize - 20));
  // A fixed-rate phase starts with `warmupMs` of the same traffic, whole batches of 10.
  const warmupBatches = t.rate > 0 ? Math.ceil((t.rate * o.warmupMs) / 10_000) : 0;
  const warmupMessages = warmupBatches * 10;
  const total = warmupMessages + o.numMessages;
  const batches = Math.ceil(total / 10);
  let nextBatch = 0;
  let deleted = 0;
  let sent = 0;
  let receives = 0;
  let receivesBeforeWindow = 0;
  const started = performance.now();
  const intervalMs = t.rate > 0 ? 10_000 / t.rate : 0;
  // The measured window starts when the first measured message is due.
  const windowStartsAt = started + warmupBatches * intervalMs;
  // A fixed-rate phase says what its tail is made of; the throughput phases stay unobserved.
  let monitor: PauseMonitor | undefined;
  let windowStarted = started;
  let cpuStarted = process.cpuUsage();
  const startWindow = (): void => {
    windowStarted = performance.now();
    cpuStarted = process.cpuUsage();
    receivesBeforeWindow = receives;
    if (t.rate > 0) monitor = new PauseMonitor();
  };
  let windowTimer: NodeJS.Timeout | undefined;
  if (warmupBatches === 0) startWindow();
  else windowTimer = setTimeout(startWindow, windowStartsAt - performance.now());

  const producer = async (): Promise<void> => {
    for (;;) {
      const batch = nextBatch++;
      if (batch >= batches) return;
      let intended = performance.now();
      if (t.rate > 0) {
        intended = started + batch * intervalMs;
        const wait = intended - performance.now();
        if (wait > 1) await sleep(wait);
      } else {
        while (sent - deleted >= o.maxBacklog) await sleep(1);
        intended = performance.now();
      }
      const count = Math.min(10, total - batch * 10);
      // From the intended send time when the producer runs late (a stall counts against the
      // queue: no coordinated omission), but never before the message really exists.
      // The first character says which part of the phase a message belongs to (by its place in
      // the schedule: one sent a moment early is still measured), the other 19 its send time.
      const part = batch < warmupBatches ? WARMUP : MEASURED;
      const stamp = part + Math.min(intended, performance.now()).toFixed(3).padStart(19, "0");
      const entries: SendMessageBatchRequestEntry[] = [];
      for (let i = 0; i < count; i++) {
        const n = batch * 10 + i;
        entries.push(
          t.fifo
            ? {
                Id: `m${i}`,
                MessageBody: stamp + filler,
                MessageGroupId: `g${n % o.fifoGroups}`,
                MessageDeduplicationId: `d${n}`,
              }
            : { Id: `m${i}`, MessageBody: stamp + filler },
        );
      }
      sent += count;
      await service.sendMessageBatch({ QueueUrl, Entries: entries });
    }
  };

  // Ends the other consumers' long polls once the last message is deleted.
  const finished = new AbortController();
  const consumer = async (): Promise<void> => {
    while (deleted < total) {
      const { Messages } = await service.receiveMessage({
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        signal: finished.signal,
      });
      receives++;
      if (Messages.length === 0) continue;
      const now = performance.now();
      for (const m of Messages) {
        const latencyMs = now - Number(m.Body.slice(1, 20));
        (m.Body[0] === WARMUP ? warmupLatency : e2e).recordMs(latencyMs);
      }
      await service.deleteMessageBatch({
        QueueUrl,
        Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      });
      deleted += Messages.length;
      progress.tick(deleted, total);
      // A real consumer does I/O between batches; without a macrotask turn here the loop runs on
      // promise continuations alone and starves timers (the producers' schedule, fsync ticks).
      await yieldToEventLoop();
    }
    finished.abort();
  };

  await Promise.all([
    ...Array.from({ length: o.producers }, producer),
    ...Array.from({ length: o.consumers }, consumer),
  ]);
  clearTimeout(windowTimer);
  const seconds = (performance.now() - windowStarted) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const pauses = await monitor?.stop();
  const cpuMicrosPerMessage = (cpu.user + cpu.system) / o.numMessages;
  const summary = e2e.summary();
  const warmup =
    warmupMessages > 0 ? { messages: warmupMessages, latency: warmupLatency.summary() } : undefined;
  const measuredReceives = receives - receivesBeforeWindow;
  if (!o.quiet) {
    process.stdout.write(`${t.label}: send -> receive -> delete, end-to-end latency\n`);
    if (warmup !== undefined) {
      const w = warmup.latency;
      process.stdout.write(
        `warm-up: the first ${warmupMessages} messages (${o.warmupMs} ms at the offered rate, not in the figures below): ` +
          `${w.p50Ms.toFixed(2)} ms 50th, ${w.p99Ms.toFixed(2)} ms 99th, ${w.maxMs.toFixed(2)} ms max\n`,
      );
    }
    process.stdout.write(
      producerPerfLine(o.numMessages, seconds, o.numMessages * o.messageSize, summary) + "\n",
    );
    process.stdout.write(
      `CPU time ${cpuMicrosPerMessage.toFixed(2)} us a message, ` +
        `${(o.numMessages / measuredReceives).toFixed(2)} messages a receive\n`,
    );
    if (pauses !== undefined) process.stdout.write(pauseLine(pauses) + "\n");
  }
  await service.deleteQueue({ QueueUrl });
  return {
    label: t.label,
    fifo: t.fifo,
    offeredRate: t.rate,
    messages: o.numMessages,
    seconds,
    messagesPerSec: o.numMessages / seconds,
    cpuMicrosPerMessage,
    messagesPerReceive: o.numMessages / measuredReceives,
    latency: summary,
    ...(pauses === undefined ? {} : { pauses }),
    ...(warmup === undefined ? {} : { warmup }),
  };
}

async function backlogPhase(
  dir: string,
  o: QueueBenchOptions,
  fsync: FsyncPolicy,
): Promise<object> {
  const progress = new Progress(o.progress, "backlog");
  const body = "x".repeat(o.messageSize);
  let service = await EmbeddedQueueService.open(dir, { fsync });
  const { QueueUrl } = await service.createQueue({ QueueName: "backlog" });
  collectGarbage();
  const before = process.memoryUsage();
  const started = performance.now();
  const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: body }));
  for (let sent = 0; sent < o.backlog; sent += 10) {
    await service.sendMessageBatch({ QueueUrl, Entries: entries });
    progress.tick(sent + 10, o.backlog);
  }
  const sendSeconds = (performance.now() - started) / 1000;
  collectGarbage();
  const after = process.memoryUsage();
  await service.close();
  collectGarbage();
  const reopenStarted = performance.now();
  service = await EmbeddedQueueService.open(dir, { fsync });
  const reopenMs = performance.now() - reopenStarted;
  const rssAfterReopenBytes = process.memoryUsage.rss();
  const recoveryMs = service.recoveryTimes().backlog ?? Number.NaN;
  const { Attributes } = await service.getQueueAttributes({
    QueueUrl,
    AttributeNames: ["ApproximateNumberOfMessages"],
  });
  await service.close();
  const heapBytesPerMessage = (after.heapUsed - before.heapUsed) / o.backlog;
  const rssBytesPerMessage = (after.rss - before.rss) / o.backlog;
  const result = {
    messages: o.backlog,
    sendMessagesPerSec: o.backlog / sendSeconds,
    rssBytes: after.rss,
    heapBytesPerMessage,
    rssBytesPerMessage,
    reopenMs,
    recoveryMs,
    rssAfterReopenBytes,
    recoveredMessages: Number(Attributes.ApproximateNumberOfMessages),
  };
  if (!o.quiet)
    process.stdout.write(
      `backlog: ${o.backlog} messages queued at ${Math.round(result.sendMessagesPerSec)}/s, RSS ${(after.rss / 1048576).toFixed(0)} MB ` +
        `(${heapBytesPerMessage.toFixed(0)} B heap, ${rssBytesPerMessage.toFixed(0)} B RSS per message), ` +
        `reopen ${reopenMs.toFixed(0)} ms (state recovery ${recoveryMs.toFixed(0)} ms) -> ${result.recoveredMessages} messages, ` +
        `RSS after reopen ${(rssAfterReopenBytes / 1048576).toFixed(0)} MB\n`,
    );
  return result;
}

/** The first character of a fixed-rate phase's message body: warm-up or measured. */
const WARMUP = "w";
const MEASURED = "0";

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let gc: (() => void) | undefined;

/** A full GC before each memory reading, so the figures measure live data, not garbage. */
function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}
