import { type Command, InvalidArgumentError } from "commander";
import { writeFileSync } from "node:fs";
// Each benchmark's runner is loaded when it runs, not with the command line.
import type { TuneGrid } from "../messaging/topics/tune-perf.bench.js";
import {
  KAFKA_DATE_FORMAT,
  PeakRss,
  emitJson,
  javaDateFormat,
  machineInfo,
} from "../observability/bench-report.js";
import { machineSpeedLine, withMachineSpeed } from "../observability/machine-speed.js";
import { fsyncMode, positiveInt } from "./option-parsers.js";
import { median } from "./bench-commands.js";
import { withNatsClusterOption, withNatsServers } from "./nats-bench-cluster.js";
import type { NatsFlush } from "../backends/nats/loopback-nats-cluster.js";
import type { NatsProduceBenchResult } from "../backends/nats/nats-produce.bench.js";
import type { CompressionType } from "../messaging/topics/topic-producer.js";

function throughput(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || (n < 1 && n !== -1))
    throw new InvalidArgumentError("expected records/s, or -1 for unthrottled");
  return n;
}

/** The producer properties the benches take, each with what its value must be. */
const PRODUCER_PROPS: Record<string, { expected: string; valid: (value: string) => boolean }> = {
  "batch.size": { expected: "a byte count", valid: (v) => /^\d+$/.test(v) },
  "linger.ms": { expected: "milliseconds", valid: (v) => /^\d+$/.test(v) },
  "compression.type": {
    expected: "none, gzip, snappy, lz4 or zstd",
    valid: (v) => ["none", "gzip", "snappy", "lz4", "zstd"].includes(v),
  },
  acks: { expected: "all, -1, 0 or 1", valid: (v) => ["all", "-1", "0", "1"].includes(v) },
};

/** `key=value` pairs, as kafka-producer-perf-test's --producer-props takes them. */
function props(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const out = { ...previous };
  for (const pair of value.split(/[\s,]+/).filter((p) => p.length > 0)) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new InvalidArgumentError(`expected key=value, got ${pair}`);
    const key = pair.slice(0, at);
    const prop = PRODUCER_PROPS[key];
    if (prop === undefined)
      throw new InvalidArgumentError(
        `unknown property ${key} (expected ${Object.keys(PRODUCER_PROPS).join(", ")})`,
      );
    if (!prop.valid(pair.slice(at + 1)))
      throw new InvalidArgumentError(
        `${key}: expected ${prop.expected}, got ${pair.slice(at + 1)}`,
      );
    out[key] = pair.slice(at + 1);
  }
  return out;
}

function intList(value: string): number[] {
  const out = value.split(",").map((v) => Number(v.trim()));
  if (out.length === 0 || out.some((n) => !Number.isSafeInteger(n) || n < 0))
    throw new InvalidArgumentError("expected a comma-separated list of integers >= 0");
  return out;
}

/** kafka-consumer-perf-test's --date-format: a java.text.SimpleDateFormat pattern. */
function datePattern(value: string): string {
  try {
    javaDateFormat(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

function codecList(value: string): string[] {
  const out = value.split(",").map((v) => v.trim());
  for (const c of out)
    if (!["none", "gzip", "snappy", "lz4", "zstd"].includes(c))
      throw new InvalidArgumentError(`expected none, gzip, snappy, lz4 or zstd, got ${c}`);
  return out;
}

/**
 * Runs one benchmark with its peak RSS, prints its human lines, and emits its JSON. With
 * `--json` the JSON alone is on stdout (the human lines go to stderr), so it can be piped.
 */
async function report<R extends object>(
  benchmark: string,
  opts: { json: boolean; out?: string },
  parameters: object,
  run: () => Promise<R>,
  human: (result: R, peakRssBytes: number) => string,
): Promise<void> {
  let peakRssBytes = 0;
  const { result, machineSpeed } = await withMachineSpeed(async () => {
    const rss = new PeakRss();
    try {
      return await run();
    } finally {
      peakRssBytes = rss.stop();
    }
  });
  const lines = `${human(result, peakRssBytes)}\n${machineSpeedLine(machineSpeed)}\n`;
  (opts.json ? process.stderr : process.stdout).write(lines);
  const text = emitJson(
    { benchmark, parameters, machine: machineInfo(), ...result, peakRssBytes, machineSpeed },
    opts.out,
  );
  if (opts.json) process.stdout.write(`${text}\n`);
}

/**
 * `bench produce --messaging`: Sluice's producer on JetStream against the plain client, in the
 * same run, `runs` times; prints each run and the medians.
 */
async function natsProduceComparison(opts: {
  messaging: string;
  replicas: number;
  runs: number;
  /** Unset: the comparison's default. */
  numRecords: number | undefined;
  recordSize: number;
  partitions: number;
  producerProps: Record<string, string>;
  json: boolean;
  out?: string;
}): Promise<void> {
  const { defaultNatsProduceBenchOptions: d, runNatsProduceBench } =
    await import("../backends/nats/nats-produce.bench.js");
  const p = opts.producerProps;
  const { result: results, machineSpeed } = await withMachineSpeed(async () => {
    const all: NatsProduceBenchResult[] = [];
    for (let i = 0; i < opts.runs; i++)
      all.push(
        await runNatsProduceBench({
          servers: opts.messaging,
          replicas: opts.replicas,
          numRecords: opts.numRecords ?? d.numRecords,
          recordSize: opts.recordSize,
          partitions: opts.partitions,
          inFlight: d.inFlight,
          batchSize: p["batch.size"] === undefined ? d.batchSize : Number(p["batch.size"]),
          lingerMs: p["linger.ms"] === undefined ? d.lingerMs : Number(p["linger.ms"]),
          compression: (p["compression.type"] ?? d.compression) as CompressionType,
          // Every other run times the sides in the reverse order: none always goes first.
          reverse: i % 2 === 1,
          quiet: opts.json,
        }),
      );
    return all;
  });
  const medians = {
    sluiceRecordsPerSec: median(results.map((r) => r.sluiceRecordsPerSec)),
    plainRecordsPerSec: median(results.map((r) => r.plainRecordsPerSec)),
    pipelinedRecordsPerSec: median(results.map((r) => r.pipelinedRecordsPerSec)),
    ratio: median(results.map((r) => r.ratio)),
    pipelinedRatio: median(results.map((r) => r.pipelinedRatio)),
    pipelinedIdsRecordsPerSec: median(results.map((r) => r.pipelinedIdsRecordsPerSec)),
    pipelinedIdsRatio: median(results.map((r) => r.pipelinedIdsRatio)),
    sluiceNonIdempotentRecordsPerSec: median(
      results.map((r) => r.sluiceNonIdempotentRecordsPerSec),
    ),
    nonIdempotentPipelinedRatio: median(results.map((r) => r.nonIdempotentPipelinedRatio)),
    sluiceNonIdempotentCpuMicrosPerRecord: median(
      results.map((r) => r.sluiceNonIdempotentCpuMicrosPerRecord),
    ),
    sluiceCpuMicrosPerRecord: median(results.map((r) => r.sluiceCpuMicrosPerRecord)),
    plainCpuMicrosPerRecord: median(results.map((r) => r.plainCpuMicrosPerRecord)),
    pipelinedCpuMicrosPerRecord: median(results.map((r) => r.pipelinedCpuMicrosPerRecord)),
    pipelinedIdsCpuMicrosPerRecord: median(results.map((r) => r.pipelinedIdsCpuMicrosPerRecord)),
  };
  if (!opts.json && results.length > 1)
    process.stdout.write(
      `median of ${results.length} runs: Sluice ${Math.round(medians.sluiceRecordsPerSec)} records/s, ` +
        `plain ${Math.round(medians.plainRecordsPerSec)} records/s, ratio ${(medians.ratio * 100).toFixed(0)}% ` +
        `(ratios ${results.map((r) => `${(r.ratio * 100).toFixed(0)}%`).join(", ")}); ` +
        `plain pipelined ${Math.round(medians.pipelinedRecordsPerSec)} records/s, ratio ${(medians.pipelinedRatio * 100).toFixed(0)}% ` +
        `(ratios ${results.map((r) => `${(r.pipelinedRatio * 100).toFixed(0)}%`).join(", ")}); ` +
        `pipelined with ids ${Math.round(medians.pipelinedIdsRecordsPerSec)} records/s, ratio ${(medians.pipelinedIdsRatio * 100).toFixed(0)}% ` +
        `(ratios ${results.map((r) => `${(r.pipelinedIdsRatio * 100).toFixed(0)}%`).join(", ")}); ` +
        `Sluice non-idempotent ${Math.round(medians.sluiceNonIdempotentRecordsPerSec)} records/s, ` +
        `${(medians.nonIdempotentPipelinedRatio * 100).toFixed(0)}% of pipelined ` +
        `(ratios ${results.map((r) => `${(r.nonIdempotentPipelinedRatio * 100).toFixed(0)}%`).join(", ")})\n`,
    );
  if (!opts.json) process.stdout.write(`${machineSpeedLine(machineSpeed)}\n`);
  const text = emitJson(
    { benchmark: "nats-produce", runs: results, medians, machineSpeed },
    opts.out,
  );
  if (opts.json) process.stdout.write(`${text}\n`);
}

/** `sluice bench produce | consume | e2e | tune` (Kafka's perf tools and the tuning workshop, embedded topics). */
export function registerTopicBenchCommands(program: Command): void {
  const bench = program.commands.find((c) => c.name() === "bench");
  if (bench === undefined) throw new Error("register the bench command first");

  withNatsClusterOption(bench.command("produce"))
    .description("kafka-producer-perf-test against an embedded topic")
    .option("--topic <name>", "topic name (created in a temporary data directory)", "perf-test")
    .option("--num-records <n>", "records to send", positiveInt, 1_000_000)
    .option("--record-size <bytes>", "bytes per record", positiveInt, 100)
    .option("--throughput <n>", "records/s offered, -1 for unthrottled", throughput, -1)
    .option(
      "--producer-props <props...>",
      "batch.size=… linger.ms=… compression.type=… acks=…",
      (v: string, prev: Record<string, string>) => props(v, prev),
      {},
    )
    .option("--partitions <n>", "partitions of the topic", positiveInt, 1)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval")
    .option(
      "--messaging <url>",
      "NATS servers: produce into a topic on NATS JetStream, beside a plain JetStream client (default 50,000 records)",
    )
    .option("--replicas <n>", "with --messaging: stream replicas", positiveInt, 1)
    .option("--runs <n>", "with --messaging: repeat and report medians", positiveInt, 1)
    .option("--json", "print the JSON result to stdout", false)
    .option("--out <file>", "write the JSON result to a file")
    .action(
      async (
        opts: {
          topic: string;
          numRecords: number;
          recordSize: number;
          throughput: number;
          producerProps: Record<string, string>;
          partitions: number;
          fsync: "always" | "interval" | "never";
          messaging?: string;
          natsCluster?: NatsFlush;
          replicas: number;
          runs: number;
          json: boolean;
          out?: string;
        },
        command: Command,
      ) => {
        if (opts.messaging !== undefined || opts.natsCluster !== undefined) {
          await withNatsServers(opts, (servers) =>
            natsProduceComparison({
              ...opts,
              messaging: servers,
              // The comparison's own default count, unless one was given.
              numRecords:
                command.getOptionValueSource("numRecords") === "cli" ? opts.numRecords : undefined,
            }),
          );
          return;
        }
        const { runProducePerf } = await import("../messaging/topics/perf-test.bench.js");
        await report(
          "produce",
          opts,
          opts,
          () => runProducePerf({ ...opts, progress: true }),
          (r) => r.line,
        );
      },
    );

  bench
    .command("consume")
    .description("kafka-consumer-perf-test: a group of one reads a filled topic")
    .option("--topic <name>", "topic name (created in a temporary data directory)", "perf-test")
    .option("--messages <n>", "records to consume", positiveInt, 1_000_000)
    .option("--record-size <bytes>", "bytes per record", positiveInt, 100)
    .option("--partitions <n>", "partitions of the topic", positiveInt, 1)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval")
    .option(
      "--date-format <pattern>",
      "start.time and end.time in the local zone, as java.text.SimpleDateFormat (letters y M d D E u a H k K h m s S Z X)",
      datePattern,
      KAFKA_DATE_FORMAT,
    )
    .option("--json", "print the JSON result to stdout", false)
    .option("--out <file>", "write the JSON result to a file")
    .action(
      async (opts: {
        topic: string;
        messages: number;
        recordSize: number;
        partitions: number;
        fsync: "always" | "interval" | "never";
        dateFormat: string;
        json: boolean;
        out?: string;
      }) => {
        const { runConsumePerf } = await import("../messaging/topics/perf-test.bench.js");
        await report(
          "consume",
          opts,
          opts,
          () => runConsumePerf({ ...opts, numRecords: opts.messages }),
          (r) => r.lines,
        );
      },
    );

  bench
    .command("e2e")
    .description("end-to-end latency percentiles at a fixed offered rate (from intended send time)")
    .option("--num-records <n>", "records to send", positiveInt, 500_000)
    .option("--record-size <bytes>", "bytes per record (at least 8)", positiveInt, 100)
    .option("--throughput <n>", "records/s offered", positiveInt, 50_000)
    .option(
      "--producer-props <props...>",
      "batch.size=… linger.ms=… (default 0) compression.type=… acks=…",
      (v: string, prev: Record<string, string>) => props(v, prev),
      {},
    )
    .option("--partitions <n>", "partitions of the topic", positiveInt, 1)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval")
    .option(
      "--engine-warm-up",
      "run the topic engine's warm-up first, as sluice start does before it listens",
      false,
    )
    .option("--json", "print the JSON result to stdout", false)
    .option("--out <file>", "write the JSON result to a file")
    .action(
      async (opts: {
        numRecords: number;
        recordSize: number;
        throughput: number;
        producerProps: Record<string, string>;
        partitions: number;
        fsync: "always" | "interval" | "never";
        engineWarmUp: boolean;
        json: boolean;
        out?: string;
      }) => {
        const [{ runE2ePerf }, { pauseLine }] = await Promise.all([
          import("../messaging/topics/e2e-perf.bench.js"),
          import("../observability/pause-monitor.js"),
        ]);
        await report(
          "e2e",
          opts,
          opts,
          () => runE2ePerf({ ...opts, progress: true }),
          (r) => `${r.line}\n${pauseLine(r.pauses)}`,
        );
      },
    );

  bench
    .command("tune")
    .description(
      "the tuning workshop's grid (batch.size x linger.ms x compression.type x partitions) against the untuned baseline",
    )
    .option("--quick", "a short grid: batch.size 16384,65536 x linger.ms 0,10 x none,lz4", false)
    .option("--num-records <n>", "records per configuration", positiveInt)
    .option("--record-size <bytes>", "bytes per record", positiveInt, 100)
    .option("--batch-sizes <list>", "batch.size values", intList)
    .option("--lingers <list>", "linger.ms values", intList)
    .option("--compressions <list>", "compression.type values", codecList)
    .option("--partitions <list>", "partition counts", intList)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval")
    .option(
      "--chart <file>",
      "write the SVG chart of throughput against p99 here",
      "bench-tune.svg",
    )
    .option("--json", "print the JSON result to stdout", false)
    .option("--out <file>", "write the JSON result to a file")
    .action(
      async (opts: {
        quick: boolean;
        numRecords?: number;
        recordSize: number;
        batchSizes?: number[];
        lingers?: number[];
        compressions?: string[];
        partitions?: number[];
        fsync: "always" | "interval" | "never";
        chart: string;
        json: boolean;
        out?: string;
      }) => {
        const { QUICK_GRID, WORKSHOP_GRID, runTune, tuneChart, tuneTable } =
          await import("../messaging/topics/tune-perf.bench.js");
        const base = opts.quick ? QUICK_GRID : WORKSHOP_GRID;
        const grid: TuneGrid = {
          batchSizes: opts.batchSizes ?? base.batchSizes,
          lingersMs: opts.lingers ?? base.lingersMs,
          compressions: opts.compressions ?? base.compressions,
          partitions: opts.partitions ?? base.partitions,
        };
        const numRecords = opts.numRecords ?? (opts.quick ? 50_000 : 200_000);
        await report(
          "tune",
          opts,
          { ...opts, grid, numRecords },
          async () => {
            const result = await runTune({
              grid,
              numRecords,
              recordSize: opts.recordSize,
              fsync: opts.fsync,
              onProgress: (line) => process.stderr.write(`${line}\n`),
            });
            writeFileSync(opts.chart, tuneChart(result));
            return result;
          },
          (r) => `${tuneTable(r)}\nchart: ${opts.chart}`,
        );
      },
    );

  bench
    .command("many-topics")
    .description("RSS of many topics, each read by its own consumer group")
    .option("--topics <n>", "topics", positiveInt, 100)
    .option("--partitions <n>", "partitions per topic", positiveInt, 8)
    .option("--records-per-partition <n>", "records written to each partition", positiveInt, 100)
    .option("--record-size <bytes>", "bytes per record", positiveInt, 100)
    .option("--json", "print the JSON result to stdout", false)
    .option("--out <file>", "write the JSON result to a file")
    .action(
      async (opts: {
        topics: number;
        partitions: number;
        recordsPerPartition: number;
        recordSize: number;
        json: boolean;
        out?: string;
      }) => {
        const { runManyTopics } = await import("../messaging/topics/many-topics.bench.js");
        await report(
          "many-topics",
          opts,
          opts,
          () => runManyTopics(opts),
          (r, peakRssBytes) => `${r.line}, peak RSS ${(peakRssBytes / 1024 / 1024).toFixed(1)} MB`,
        );
      },
    );
}
