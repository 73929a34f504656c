// `sluice bench kafka --client kcat`: kcat (librdkafka, its own processes) producing to and
// consuming from the listener on embedded topics, and end-to-end latency at a fixed rate.
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FsyncPolicy, seededRandom } from "../../engine/index.js";
import { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { LatencyHistogram, machineInfo } from "../../observability/index.js";
import { embeddedKafkaBackend } from "./embedded-kafka-backend.js";
import type { InstrumentsPlan, InstrumentTimes } from "./kcat-instruments.js";
import { KafkaServer } from "./kafka-server.js";
import { moduleWorker } from "./module-worker.js";
import { RecordStages, type StageMeans } from "./record-stages.js";

export interface KcatBenchOptions {
  readonly numRecords: number;
  readonly recordSize: number;
  readonly compression: "none" | "gzip" | "snappy" | "lz4" | "zstd";
  /**
   * What the records hold: "distinct", letters A-Z drawn for every record (seeded, the same each
   * run), which compress as text does; or "same", one value for every record, which lz4 shrinks
   * about a hundredfold (see recordsFile).
   */
  readonly payload: "distinct" | "same";
  readonly fsync: "always" | "interval" | "never";
  /** Records per second of the end-to-end latency run. */
  readonly latencyRate: number;
  readonly latencySeconds: number;
  readonly kcat: string;
  /** coreutils' stdbuf, which makes the latency consumer's output line-buffered. */
  readonly stdbuf: string;
  readonly quiet: boolean;
}

export const defaultKcatBenchOptions: KcatBenchOptions = {
  numRecords: 1_000_000,
  recordSize: 100,
  compression: "lz4",
  payload: "distinct",
  fsync: "interval",
  latencyRate: 20_000,
  latencySeconds: 5,
  kcat: "/usr/bin/kcat",
  stdbuf: "/usr/bin/stdbuf",
  quiet: false,
};

/** Wall-clock seconds of a kcat run and the CPU this process (the listener) spent meanwhile. */
interface Timed {
  readonly seconds: number;
  readonly cpuMicros: number;
}

const cpuMicros = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

/** Runs kcat to its end; resolves with the seconds it took and the listener's CPU meanwhile. */
function timed(kcat: string, args: string[], stdin?: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const child = spawn(kcat, args, {
      stdio: [stdin === undefined ? "ignore" : "pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => void (stderr += c.toString()));
    if (stdin !== undefined) child.stdin!.end(stdin);
    child.once("exit", (code) =>
      code === 0
        ? resolve({ seconds: (performance.now() - started) / 1000, cpuMicros: cpuMicros(cpu) })
        : reject(new Error(`kcat ${args.join(" ")} exited with ${code}: ${stderr}`)),
    );
  });
}

/** The instruments' times from their worker thread (kcat-instruments.ts). */
function instruments(plan: InstrumentsPlan): Promise<InstrumentTimes> {
  return new Promise((resolve, reject) => {
    const worker = moduleWorker(new URL("./kcat-instruments.js", import.meta.url), {
      workerData: plan,
    });
    worker.once("message", (times: InstrumentTimes) => {
      resolve(times);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the kcat instruments exited with ${code}`)));
  });
}

/**
 * Records written at a fixed rate into one kcat producer and timed as a kcat consumer prints
 * them. The writer and the reader run in a worker thread, so that this thread's event loop runs
 * the listener alone and the broker's work does not delay the instruments measuring it.
 */
async function endToEnd(
  o: KcatBenchOptions,
  bootstrap: string,
  topic: string,
  stages: RecordStages,
): Promise<EndToEnd> {
  const total = o.latencyRate * o.latencySeconds;
  const times = await instruments({
    kcat: o.kcat,
    stdbuf: o.stdbuf,
    bootstrap,
    topic,
    compression: o.compression,
    recordSize: o.recordSize,
    rate: o.latencyRate,
    total,
  });
  const { received } = times;
  const latency = new LatencyHistogram();
  // The first second warms up connections and the consumer's position.
  for (let i = o.latencyRate; i < Math.min(received, total); i++)
    latency.recordMs(times.printed[i]! - times.dueOfLine[i]!);
  stages.instruments(times.written, times.printed);
  if (received < total)
    process.stderr.write(`end-to-end run: ${received} of ${total} records came back\n`);
  const intervalMs = 1000 / o.latencyRate;
  const dueAt = (i: number): number => times.startedAt + i * intervalMs;
  const measured = Array.from({ length: total - o.latencyRate }, (_, i) => i + o.latencyRate);
  return {
    ...latency.summary(),
    records: total,
    received,
    stages: {
      measured: stages.means(measured, dueAt),
      slowestPercent: stages.means(stages.slowest(o.latencyRate, 0.01, dueAt), dueAt),
    },
  };
}

type EndToEnd = ReturnType<LatencyHistogram["summary"]> & {
  records: number;
  received: number;
  /**
   * Where the records' time went, stage by stage (see RecordStages): the mean over every
   * measured record and over the slowest 1%, the records that make the p99.
   */
  stages: { measured: StageMeans; slowestPercent: StageMeans };
};

const stagesLine = (s: StageMeans): string =>
  `due -> written ${s.dueToWrittenMs.toFixed(2)}, -> appended ${s.writtenToAppendedMs.toFixed(2)}, ` +
  `-> read by the fetch ${s.appendedToReadMs.toFixed(2)}, -> consumer's line ${s.readToLineMs.toFixed(2)} ms`;

/**
 * Writes kcat's input, a record a line. With "same" every record is one value: lz4 makes a
 * 1 MiB fetch of about 200,000 such records, twice librdkafka's queued.min.messages, and the
 * consumer then waits out its one-second fetch-queue backoff after every fetch (as it would
 * against any broker), so the consume rate measures that wait.
 */
async function recordsFile(file: string, o: KcatBenchOptions): Promise<void> {
  const random = seededRandom(1);
  const lineBytes = o.recordSize + 1;
  const perBlock = 10_000;
  const out = createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    out.once("finish", resolve);
    out.once("error", reject);
  });
  const same = Buffer.alloc(lineBytes, "r");
  same[o.recordSize] = 0x0a;
  for (let i = 0; i < o.numRecords; i += perBlock) {
    const count = Math.min(perBlock, o.numRecords - i);
    const block = Buffer.allocUnsafe(count * lineBytes);
    for (let r = 0; r < count; r++) {
      const at = r * lineBytes;
      if (o.payload === "same") same.copy(block, at);
      else {
        for (let b = 0; b < o.recordSize; b++) block[at + b] = 65 + Math.floor(random() * 26);
        block[at + o.recordSize] = 0x0a;
      }
    }
    if (!out.write(block)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  out.end();
  await done;
}

/** kcat producing `numRecords` (acks=all, compressed), consuming them, then e2e latency at a fixed rate. */
export async function runKcatBench(partial: Partial<KcatBenchOptions> = {}): Promise<object> {
  const o = { ...defaultKcatBenchOptions, ...partial };
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-kcat-"));
  const fsync: FsyncPolicy = o.fsync === "interval" ? { intervalMs: 50 } : o.fsync;
  const topics = await EmbeddedTopicService.open(dir, { fsync });
  const backend = embeddedKafkaBackend(topics);
  const stages = new RecordStages(o.latencyRate * o.latencySeconds);
  const server = await KafkaServer.listen({
    backend: { ...backend, partitions: stages.watch(backend.partitions, "latency") },
    port: 0,
  });
  const bootstrap = `127.0.0.1:${server.port}`;
  try {
    await topics.admin.createTopic({ name: "bench", partitions: 1 });
    await topics.admin.createTopic({ name: "latency", partitions: 1 });
    const file = join(dir, "records.txt");
    await recordsFile(file, o);
    const produced = await timed(o.kcat, [
      "-b",
      bootstrap,
      "-P",
      "-t",
      "bench",
      "-z",
      o.compression,
      "-X",
      "acks=all",
      "-X",
      "linger.ms=5",
      "-X",
      "batch.num.messages=10000",
      "-l",
      file,
    ]);
    const partition = await topics.admin.describePartition("bench", 0);
    const stored = partition.highWatermark;
    if (stored !== o.numRecords) throw new Error(`${stored} of ${o.numRecords} records stored`);
    const consumed = await timed(o.kcat, [
      "-b",
      bootstrap,
      "-C",
      "-t",
      "bench",
      "-o",
      "beginning",
      "-e",
      "-q",
      "-f",
      "\n",
      "-c",
      String(o.numRecords),
    ]);
    const e2eCpu = process.cpuUsage();
    const e2e = await endToEnd(o, bootstrap, "latency", stages);
    const e2eCpuMicros = cpuMicros(e2eCpu);
    const { stages: e2eStages, ...e2eLatency } = e2e;
    const produceSeconds = produced.seconds;
    const consumeSeconds = consumed.seconds;
    const result = {
      benchmark: "kafka-kcat",
      parameters: { ...o },
      machine: machineInfo(),
      note: "kcat processes (librdkafka) against the listener in this Node.js process; times include kcat's start",
      produce: {
        records: o.numRecords,
        recordsPerSec: o.numRecords / produceSeconds,
        cpuMicrosPerRecord: produced.cpuMicros / o.numRecords,
      },
      stored: {
        /** The partition's bytes on disk after the produce run: what the codec made of them. */
        bytes: partition.sizeBytes,
        compressionRatio: (o.numRecords * o.recordSize) / partition.sizeBytes,
      },
      consume: {
        records: o.numRecords,
        recordsPerSec: o.numRecords / consumeSeconds,
        cpuMicrosPerRecord: consumed.cpuMicros / o.numRecords,
      },
      endToEnd: {
        ratePerSec: o.latencyRate,
        latency: e2eLatency,
        stages: e2eStages,
        // The process also writes kcat's paced input and reads its consumer's output (in a
        // worker thread).
        cpuMicrosPerRecord: e2eCpuMicros / e2e.records,
      },
    };
    if (!o.quiet)
      process.stdout.write(
        `kcat produce: ${o.numRecords} x ${o.recordSize} B (${o.payload} values, acks=all, ${o.compression}, stored ${result.stored.compressionRatio.toFixed(1)}:1) ${(o.numRecords / produceSeconds).toFixed(0)} records/s ` +
          `(listener CPU ${result.produce.cpuMicrosPerRecord.toFixed(2)} µs/record); ` +
          `consume: ${(o.numRecords / consumeSeconds).toFixed(0)} records/s (${result.consume.cpuMicrosPerRecord.toFixed(2)} µs/record); ` +
          `end-to-end at ${o.latencyRate}/s: p50 ${e2e.p50Ms.toFixed(2)} ms, p99 ${e2e.p99Ms.toFixed(2)} ms\n` +
          `end-to-end stages, mean of the measured records: ${stagesLine(e2eStages.measured)}; ` +
          `of the slowest 1%: ${stagesLine(e2eStages.slowestPercent)}\n`,
      );
    return result;
  } finally {
    await server.close();
    await topics.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
