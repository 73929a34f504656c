import { type Command, InvalidArgumentError } from "commander";
import { runConsumePerf, runProducePerf } from "../messaging/topics/perf-test.bench.js";
import { PeakRss, emitJson, machineInfo } from "../observability/index.js";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError("expected a positive integer");
  return n;
}

function throughput(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || (n < 1 && n !== -1))
    throw new InvalidArgumentError("expected records/s, or -1 for unthrottled");
  return n;
}

function fsyncMode(value: string): "always" | "interval" | "never" {
  if (value !== "always" && value !== "interval" && value !== "never")
    throw new InvalidArgumentError("expected always, interval or never");
  return value;
}

/** `key=value` pairs, as kafka-producer-perf-test's --producer-props takes them. */
function props(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const out = { ...previous };
  for (const pair of value.split(/[\s,]+/).filter((p) => p.length > 0)) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new InvalidArgumentError(`expected key=value, got ${pair}`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** `sluice bench produce` and `sluice bench consume` (Kafka's perf tools, embedded topics). */
export function registerTopicBenchCommands(program: Command): void {
  const bench = program.commands.find((c) => c.name() === "bench");
  if (bench === undefined) throw new Error("register the bench command first");

  bench
    .command("produce")
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
        json: boolean;
        out?: string;
      }) => {
        const rss = new PeakRss();
        const result = await runProducePerf({ ...opts, progress: true });
        const peakRssBytes = rss.stop();
        process.stdout.write(`${result.line}\n`);
        const text = emitJson(
          {
            benchmark: "produce",
            parameters: opts,
            machine: machineInfo(),
            ...result,
            peakRssBytes,
          },
          opts.out,
        );
        if (opts.json) process.stdout.write(`${text}\n`);
      },
    );

  bench
    .command("consume")
    .description("kafka-consumer-perf-test: a group of one reads a filled topic")
    .option("--messages <n>", "records to consume", positiveInt, 1_000_000)
    .option("--record-size <bytes>", "bytes per record", positiveInt, 100)
    .option("--partitions <n>", "partitions of the topic", positiveInt, 1)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval")
    .option("--json", "print the JSON result to stdout", false)
    .option("--out <file>", "write the JSON result to a file")
    .action(
      async (opts: {
        messages: number;
        recordSize: number;
        partitions: number;
        fsync: "always" | "interval" | "never";
        json: boolean;
        out?: string;
      }) => {
        const rss = new PeakRss();
        const result = await runConsumePerf({ ...opts, numRecords: opts.messages });
        const peakRssBytes = rss.stop();
        process.stdout.write(`${result.lines}\n`);
        const text = emitJson(
          {
            benchmark: "consume",
            parameters: opts,
            machine: machineInfo(),
            ...result,
            peakRssBytes,
          },
          opts.out,
        );
        if (opts.json) process.stdout.write(`${text}\n`);
      },
    );
}
