import { type Command, InvalidArgumentError } from "commander";
// The report writer alone: each benchmark loads what it measures when it runs.
import { emitJson } from "../observability/bench-report.js";
import { machineSpeedLine, withMachineSpeed } from "../observability/machine-speed.js";
import type { QueueBenchPhase } from "../messaging/queues/queue.bench.js";
import { type FsyncMode, fsyncMode, nonNegativeInt, positiveInt } from "./option-parsers.js";
import type { NatsFlush } from "../backends/nats/loopback-nats-cluster.js";
import { withNatsClusterOption, withNatsServers } from "./nats-bench-cluster.js";

function rateList(value: string): number[] {
  return value.split(",").map((part) => {
    const n = Number(part.trim());
    if (!Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(`expected comma-separated positive integers, got ${part}`);
    return n;
  });
}

/** A phase of `bench server` that can run alone. */
function serverBenchPhase(value: string): "long-polls" {
  if (value !== "long-polls") throw new InvalidArgumentError("expected long-polls");
  return value;
}

/** What the records of `bench kafka --client kcat` hold. */
function kcatPayload(value: string): "distinct" | "same" {
  if (value !== "distinct" && value !== "same")
    throw new InvalidArgumentError("expected distinct or same");
  return value;
}

/** A traffic phase of `bench queue` that can run alone. */
function queueBenchPhase(value: string): QueueBenchPhase {
  if (value !== "standard" && value !== "latency" && value !== "fifo" && value !== "backlog")
    throw new InvalidArgumentError("expected standard, latency, fifo or backlog");
  return value;
}

/** The options every benchmark takes: repeat for medians, and where the JSON goes. */
function withCommonOptions(command: Command): Command {
  return command
    .option("--runs <n>", "repeat and report medians", positiveInt, 1)
    .option("--json", "print the JSON result to stdout", false)
    .option("--out <file>", "write the JSON result to a file");
}

/** Median of numbers (the figure quoted from several runs). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface CommonOptions {
  json: boolean;
  out?: string;
  runs: number;
}

/** Runs a benchmark `runs` times; prints each run's human lines, then medians; JSON on request. */
async function repeat(
  name: string,
  opts: CommonOptions,
  run: () => Promise<object>,
  figures: (r: object) => Record<string, number>,
): Promise<void> {
  const { result: results, machineSpeed } = await withMachineSpeed(async () => {
    const all: object[] = [];
    for (let i = 0; i < opts.runs; i++) {
      if (opts.runs > 1 && !opts.json) process.stdout.write(`run ${i + 1}/${opts.runs}\n`);
      all.push(await run());
    }
    return all;
  });
  const medians: Record<string, number> = {};
  if (results.length > 1) {
    const all = results.map(figures);
    for (const key of Object.keys(all[0]!)) medians[key] = median(all.map((f) => f[key]!));
    if (!opts.json)
      process.stdout.write(
        `median of ${results.length} runs: ${Object.entries(medians)
          .map(([k, v]) => `${k}=${Math.round(v * 100) / 100}`)
          .join(" ")}\n`,
      );
  }
  if (!opts.json) process.stdout.write(`${machineSpeedLine(machineSpeed)}\n`);
  const output =
    results.length === 1
      ? { ...results[0]!, machineSpeed }
      : { benchmark: name, runs: results, medians, machineSpeed };
  const text = emitJson(output, opts.out);
  if (opts.json) process.stdout.write(text + "\n");
}

/** `sluice bench <name>`: benchmarks that print a human line and write JSON. */
export function registerBenchCommands(program: Command): void {
  const bench = program
    .command("bench")
    .description("run a benchmark (prints a human line; JSON with --json or --out)");

  withCommonOptions(bench.command("log"))
    .description("append to and read back the durable log (kafka-producer-perf-test style)")
    .option("--num-records <n>", "records to append", positiveInt, 1_000_000)
    .option("--record-size <bytes>", "bytes per record value", positiveInt, 100)
    .option("--batch-size <n>", "records per append call", positiveInt, 100)
    .option("--appenders <n>", "concurrent appenders", positiveInt, 1)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval" as FsyncMode)
    .option("--fsync-interval-ms <ms>", "fsync interval for --fsync interval", positiveInt, 50)
    .option("--no-read", "skip reading the log back")
    .option("--dir <dir>", "where to write (default: a temporary directory)")
    .option("--progress", "print progress every second", false)
    .action(
      async (
        opts: CommonOptions & {
          numRecords: number;
          recordSize: number;
          batchSize: number;
          appenders: number;
          fsync: FsyncMode;
          fsyncIntervalMs: number;
          read: boolean;
          dir?: string;
          progress: boolean;
        },
      ) => {
        await repeat(
          "log",
          opts,
          async () =>
            (await import("../engine/log.bench.js")).runLogBench({
              numRecords: opts.numRecords,
              recordSize: opts.recordSize,
              batchSize: opts.batchSize,
              appenders: opts.appenders,
              fsync: opts.fsync,
              fsyncIntervalMs: opts.fsyncIntervalMs,
              read: opts.read,
              progress: opts.progress,
              quiet: opts.json,
              ...(opts.dir === undefined ? {} : { dir: opts.dir }),
            }),
          (r) => {
            const result = r as {
              produce: { recordsPerSec: number; latency: { p99Ms: number } };
              consume?: { recordsPerSec: number };
              peakRssBytes: number;
            };
            return {
              appendRecordsPerSec: result.produce.recordsPerSec,
              appendP99Ms: result.produce.latency.p99Ms,
              readRecordsPerSec: result.consume?.recordsPerSec ?? 0,
              peakRssMB: result.peakRssBytes / (1024 * 1024),
            };
          },
        );
      },
    );

  withCommonOptions(bench.command("resilience"))
    .description(
      "overhead of wrap(retry, circuitBreaker, timeout); idempotency store and duplicate detector",
    )
    .option("--duration-ms <ms>", "length of each timed loop", positiveInt, 2000)
    .option("--keys <n>", "keys for the memory figures", positiveInt, 1_000_000)
    .action(async (opts: CommonOptions & { durationMs: number; keys: number }) => {
      await repeat(
        "resilience",
        opts,
        async () =>
          (await import("../resilience/resilience.bench.js")).runResilienceBench({
            json: opts.json,
            durationMs: opts.durationMs,
            keys: opts.keys,
          }),
        (r) => {
          const result = r as {
            policyOverhead: { cooperativeTimeout: { callsPerSecond: number; nsPerCall: number } };
            idempotencyStore: { checksPerSecondHit: number; stateBytesPerKey: number };
          };
          return {
            wrappedCallsPerSec: result.policyOverhead.cooperativeTimeout.callsPerSecond,
            nsPerCall: result.policyOverhead.cooperativeTimeout.nsPerCall,
            idempotencyChecksPerSec: result.idempotencyStore.checksPerSecondHit,
            idempotencyBytesPerKey: result.idempotencyStore.stateBytesPerKey,
          };
        },
      );
    });

  withNatsClusterOption(withCommonOptions(bench.command("queue")))
    .description(
      "send -> receive -> delete through embedded SQS-semantics queues (with --messaging nats://… or --nats-cluster: through the queues on NATS JetStream, beside a plain JetStream client)",
    )
    .option("--messaging <url>", "NATS servers: run the NATS JetStream comparison instead")
    .option("--replicas <n>", "with --messaging: stream replicas", positiveInt, 1)
    .option(
      "--rounds <n>",
      "with --messaging: timed rounds of each side per run, alternating",
      positiveInt,
      2,
    )
    .option("--num-messages <n>", "messages per traffic phase", positiveInt, 200_000)
    .option("--message-size <bytes>", "bytes per message body", positiveInt, 100)
    .option("--producers <n>", "concurrent producers (batches of 10)", positiveInt, 4)
    .option("--consumers <n>", "concurrent consumers (batches of 10)", positiveInt, 4)
    .option("--rate <n>", "offered messages/s of the latency phase", positiveInt, 50_000)
    .option(
      "--warmup-ms <ms>",
      "fixed-rate phases: traffic before the measured messages, reported apart (0: none)",
      nonNegativeInt,
      1000,
    )
    .option(
      "--engine-warm-up",
      "run the queue engine's warm-up first, as sluice start does before it listens",
      false,
    )
    .option("--max-backlog <n>", "throughput phases: producers wait above this", positiveInt, 2_000)
    .option("--fifo-groups <n>", "message groups of the FIFO phase", positiveInt, 100)
    .option(
      "--backlog <n>",
      "messages queued for the memory/recovery phase (0 skips)",
      nonNegativeInt,
      1_000_000,
    )
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval" as FsyncMode)
    .option(
      "--sweep <rates>",
      "latency sweep over offered rates, e.g. 10000,50000,100000",
      rateList,
    )
    .option("--chart <file>", "SVG chart of the sweep", "bench-results/queue-latency-sweep.svg")
    .option("--progress", "print progress every second", false)
    .option(
      "--only <phase>",
      "run one phase alone: standard, latency, fifo or backlog",
      queueBenchPhase,
    )
    .action(
      async (
        opts: CommonOptions & {
          only?: QueueBenchPhase;
          sweep?: number[];
          chart: string;
          numMessages: number;
          messageSize: number;
          producers: number;
          consumers: number;
          rate: number;
          warmupMs: number;
          engineWarmUp: boolean;
          maxBacklog: number;
          fifoGroups: number;
          backlog: number;
          fsync: FsyncMode;
          progress: boolean;
          messaging?: string;
          natsCluster?: NatsFlush;
          replicas: number;
          rounds: number;
        },
        command: Command,
      ) => {
        if (opts.messaging !== undefined || opts.natsCluster !== undefined) {
          // 200,000 messages at JetStream's ~1,000 receives/s would take minutes per run.
          const given = command.getOptionValueSource("numMessages") === "cli";
          await withNatsServers(opts, (servers) =>
            runNatsQueueComparison({
              ...opts,
              messaging: servers,
              numMessages: given ? opts.numMessages : 20_000,
            }),
          );
          return;
        }
        await repeat(
          "queue",
          opts,
          async () =>
            (await import("../messaging/queues/queue.bench.js")).runQueueBench({
              numMessages: opts.numMessages,
              messageSize: opts.messageSize,
              producers: opts.producers,
              consumers: opts.consumers,
              rate: opts.rate,
              warmupMs: opts.warmupMs,
              engineWarmUp: opts.engineWarmUp,
              maxBacklog: opts.maxBacklog,
              fifoGroups: opts.fifoGroups,
              backlog: opts.backlog,
              sweep: opts.sweep ?? [],
              chart: opts.chart,
              fsync: opts.fsync,
              progress: opts.progress,
              quiet: opts.json,
              ...(opts.only === undefined ? {} : { only: opts.only }),
            }),
          (r) => {
            type Phase = {
              messagesPerSec: number;
              cpuMicrosPerMessage: number;
              latency: { p50Ms: number; p95Ms: number; p99Ms: number };
            };
            const result = r as {
              standard?: Phase;
              latency?: Phase;
              fifo?: Phase;
              backlog?: { rssBytes: number; heapBytesPerMessage: number; recoveryMs: number };
              peakRssBytes: number;
            };
            const { standard, latency, fifo, backlog } = result;
            return {
              ...(standard === undefined
                ? {}
                : {
                    standardMsgPerSec: standard.messagesPerSec,
                    standardCpuMicrosPerMsg: standard.cpuMicrosPerMessage,
                    standardP95Ms: standard.latency.p95Ms,
                  }),
              ...(latency === undefined
                ? {}
                : {
                    fixedRateMsgPerSec: latency.messagesPerSec,
                    fixedRateP50Ms: latency.latency.p50Ms,
                    fixedRateP95Ms: latency.latency.p95Ms,
                    fixedRateP99Ms: latency.latency.p99Ms,
                  }),
              ...(fifo === undefined
                ? {}
                : {
                    fifoMsgPerSec: fifo.messagesPerSec,
                    fifoCpuMicrosPerMsg: fifo.cpuMicrosPerMessage,
                  }),
              ...(backlog === undefined
                ? {}
                : {
                    backlogRssMB: backlog.rssBytes / 1048576,
                    backlogHeapBytesPerMessage: backlog.heapBytesPerMessage,
                    backlogRecoveryMs: backlog.recoveryMs,
                  }),
            };
          },
        );
      },
    );

  const runNatsQueueComparison = (
    opts: CommonOptions & {
      messaging: string;
      replicas: number;
      rounds: number;
      numMessages: number;
      messageSize: number;
      producers: number;
      consumers: number;
    },
  ): Promise<void> =>
    repeat(
      "nats-queue",
      opts,
      async () =>
        (await import("../backends/nats/nats-queue.bench.js")).runNatsQueueBench({
          servers: opts.messaging,
          replicas: opts.replicas,
          numMessages: opts.numMessages,
          messageSize: opts.messageSize,
          producers: opts.producers,
          consumers: opts.consumers,
          rounds: opts.rounds,
          quiet: opts.json,
        }),
      (r) => {
        const result = r as {
          sluiceMessagesPerSec: number;
          plainMessagesPerSec: number;
          ratio: number;
          sluiceCpuUsPerMessage: number;
          plainCpuUsPerMessage: number;
        };
        return {
          sluiceMsgPerSec: result.sluiceMessagesPerSec,
          plainMsgPerSec: result.plainMessagesPerSec,
          ratio: result.ratio,
          sluiceCpuUsPerMsg: result.sluiceCpuUsPerMessage,
          plainCpuUsPerMsg: result.plainCpuUsPerMessage,
        };
      },
    );

  withCommonOptions(bench.command("nats-queue"))
    .description(
      "send -> receive -> delete through Sluice's queues on NATS JetStream, and a plain JetStream client doing the same",
    )
    .option("--messaging <url>", "NATS servers", "nats://127.0.0.1:4222")
    .option("--replicas <n>", "stream replicas", positiveInt, 1)
    .option("--rounds <n>", "timed rounds of each side per run, alternating", positiveInt, 2)
    .option("--num-messages <n>", "messages through each round of each side", positiveInt, 20_000)
    .option("--message-size <bytes>", "bytes per message body", positiveInt, 100)
    .option("--producers <n>", "concurrent producers (batches of 10)", positiveInt, 4)
    .option("--consumers <n>", "concurrent consumers (batches of 10)", positiveInt, 4)
    .action(
      async (
        opts: CommonOptions & {
          messaging: string;
          replicas: number;
          rounds: number;
          numMessages: number;
          messageSize: number;
          producers: number;
          consumers: number;
        },
      ) => {
        await runNatsQueueComparison(opts);
      },
    );

  withCommonOptions(bench.command("server"))
    .description(
      "sluice start in its own process: SQS via @aws-sdk/client-sqs (vs fauxqs and sqslite), REST produce, WebSocket consume, idle long polls",
    )
    .option("--num-messages <n>", "SQS messages", positiveInt, 100_000)
    .option(
      "--sqs-warmup <n>",
      "SQS messages each leg moves untimed first, on its own queue (0: none)",
      nonNegativeInt,
      5_000,
    )
    .option("--message-size <bytes>", "bytes per message body / record value", positiveInt, 100)
    .option("--producers <n>", "concurrent SDK producers (batches of 10)", positiveInt, 4)
    .option("--consumers <n>", "concurrent SDK consumers (batches of 10)", positiveInt, 4)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval" as FsyncMode)
    .option("--rest-records <n>", "records produced over REST, then consumed", positiveInt, 500_000)
    .option("--rest-batch <n>", "records per REST produce request", positiveInt, 1000)
    .option("--long-polls <n>", "idle long polls held open", positiveInt, 1000)
    .option(
      "--long-poll-wakes <n>",
      "messages sent to a waiting poll, each timed",
      positiveInt,
      1000,
    )
    .option("--no-peers", "skip the fauxqs and sqslite comparison")
    .option("--only <phase>", "run one phase alone: long-polls", serverBenchPhase)
    .option("--profile-dir <dir>", "run the server under --cpu-prof, its profile written here")
    .action(
      async (
        opts: CommonOptions & {
          only?: "long-polls";
          profileDir?: string;
          numMessages: number;
          sqsWarmup: number;
          messageSize: number;
          producers: number;
          consumers: number;
          fsync: FsyncMode;
          restRecords: number;
          restBatch: number;
          longPolls: number;
          longPollWakes: number;
          peers: boolean;
        },
      ) => {
        const options = {
          numMessages: opts.numMessages,
          sqsWarmupMessages: opts.sqsWarmup,
          messageSize: opts.messageSize,
          producers: opts.producers,
          consumers: opts.consumers,
          fsync: opts.fsync,
          restRecords: opts.restRecords,
          restBatch: opts.restBatch,
          longPolls: opts.longPolls,
          longPollWakes: opts.longPollWakes,
          peers: opts.peers,
          ...(opts.profileDir === undefined ? {} : { profileDir: opts.profileDir }),
          quiet: opts.json,
        };
        const longPollFigures = (
          polls: import("../server/server.bench.js").ServerBenchResult["longPolls"],
        ): Record<string, number> => ({
          longPollServerRssAtStartMB: polls.serverRssAtStartBytes / 1048576,
          longPollServerRssMB: polls.serverRssBytes / 1048576,
          longPollServerRssBeforePollsMB: polls.serverRssBeforePollsBytes / 1048576,
          longPollWakeP50Ms: polls.wake.p50Ms,
          longPollWakeP99Ms: polls.wake.p99Ms,
          longPollSendAnsweredP99Ms: polls.sendAnswered.p99Ms,
          longPollFloorP50Ms: polls.roundTripFloor.p50Ms,
          longPollFloorP99Ms: polls.roundTripFloor.p99Ms,
          longPollServerCpuUsPerWake: polls.cpuPerWake.serverUs,
          longPollClientCpuUsPerWake: polls.cpuPerWake.clientUs,
          longPollServerCpuUsPerFloorRequest: polls.cpuPerFloorRequest.serverUs,
        });
        if (opts.only === "long-polls") {
          await repeat(
            "server",
            opts,
            async () => (await import("../server/server.bench.js")).runLongPollBench(options),
            (r) =>
              longPollFigures(
                (r as import("../server/server.bench.js").LongPollBenchResult).longPolls,
              ),
          );
          return;
        }
        await repeat(
          "server",
          opts,
          async () => (await import("../server/server.bench.js")).runServerBench(options),
          (r) => {
            const result = r as Awaited<
              ReturnType<typeof import("../server/server.bench.js").runServerBench>
            >;
            const peer = (name: string): number => {
              const p = result.peers[name];
              return p !== undefined && "messagesPerSecond" in p ? p.messagesPerSecond : Number.NaN;
            };
            return {
              sqsSdkMessagesPerSec: result.sqsSdk.messagesPerSecond,
              sqsSdkServerCpuMsPer1k: result.sqsSdk.serverCpuMsPer1kMessages,
              sqsSdkClientCpuMsPer1k: result.sqsSdk.clientCpuMsPer1kMessages,
              sqsQueryMessagesPerSec: result.sqsQuery.messagesPerSecond,
              sqsQueryServerCpuMsPer1k: result.sqsQuery.serverCpuMsPer1kMessages,
              sqsQueryClientCpuMsPer1k: result.sqsQuery.clientCpuMsPer1kMessages,
              fauxqsMessagesPerSec: peer("fauxqs"),
              sqsliteMessagesPerSec: peer("sqslite"),
              ratioToFasterPeer: result.ratioToFasterPeer ?? Number.NaN,
              restProduceRecordsPerSec: result.restProduceRecordsPerSecond,
              restProduceServerCpuUsPerRecord: result.restProduceCpu.serverUs,
              restProduceClientCpuUsPerRecord: result.restProduceCpu.clientUs,
              webSocketConsumeRecordsPerSec: result.webSocketConsumeRecordsPerSecond,
              webSocketConsumeServerCpuUsPerRecord: result.webSocketConsumeCpu.serverUs,
              webSocketConsumeClientCpuUsPerRecord: result.webSocketConsumeCpu.clientUs,
              requestFloorServerCpuUs: result.requestFloor.serverCpuUsPerRequest,
              requestFloorClientCpuUs: result.requestFloor.clientCpuUsPerRequest,
              ...longPollFigures(result.longPolls),
            };
          },
        );
      },
    );

  withCommonOptions(bench.command("bus"))
    .description("event pattern matching against many rules; putEvents -> rule -> queue end to end")
    .option("--rules <n>", "rules of mixed kinds in the matching phase", positiveInt, 1000)
    .option(
      "--e2e-rules <n>",
      "rules on the bus in the end-to-end phase (at most 300; 10 before 2026-12-02)",
      positiveInt,
      300,
    )
    .option("--match-ms <ms>", "length of each matching loop", positiveInt, 3000)
    .option(
      "--warmup-ms <ms>",
      "untimed matching before each matching loop (0 before 2026-12-02)",
      nonNegativeInt,
      2000,
    )
    .option("--num-events <n>", "events put in the end-to-end phase", positiveInt, 100_000)
    .option("--producers <n>", "concurrent putEvents callers (10 entries each)", positiveInt, 8)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval" as FsyncMode)
    .action(
      async (
        opts: CommonOptions & {
          rules: number;
          e2eRules: number;
          matchMs: number;
          warmupMs: number;
          numEvents: number;
          producers: number;
          fsync: FsyncMode;
        },
      ) => {
        await repeat(
          "bus",
          opts,
          async () =>
            (await import("../messaging/bus/bus.bench.js")).runBusBench(
              {
                rules: opts.rules,
                e2eRules: opts.e2eRules,
                matchMs: opts.matchMs,
                warmupMs: opts.warmupMs,
                numEvents: opts.numEvents,
                producers: opts.producers,
                fsync: opts.fsync,
              },
              opts.json,
            ),
          (r) => {
            const result = r as {
              matching: {
                eventsPerSecParsed: number;
                eventsPerSecFromJson: number;
                eventsPerCpuSecParsed: number;
                eventsPerCpuSecFromJson: number;
              };
              endToEnd: {
                endToEndEventsPerSec: number;
                putEventsPerSec: number;
                cpuMicrosPerEvent: number;
              };
            };
            return {
              matchEventsPerSec: result.matching.eventsPerSecParsed,
              matchFromJsonEventsPerSec: result.matching.eventsPerSecFromJson,
              matchEventsPerCpuSec: result.matching.eventsPerCpuSecParsed,
              matchFromJsonEventsPerCpuSec: result.matching.eventsPerCpuSecFromJson,
              endToEndEventsPerSec: result.endToEnd.endToEndEventsPerSec,
              putEventsPerSec: result.endToEnd.putEventsPerSec,
              endToEndCpuMicrosPerEvent: result.endToEnd.cpuMicrosPerEvent,
            };
          },
        );
      },
    );

  withCommonOptions(bench.command("pubsub"))
    .description("publishBatch fanning out to queue subscriptions with filter policies")
    .option("--num-messages <n>", "messages published", positiveInt, 50_000)
    .option(
      "--subscriptions <n>",
      "queue subscriptions (each matching every message)",
      positiveInt,
      10,
    )
    .option("--producers <n>", "concurrent publishBatch callers (10 entries each)", positiveInt, 4)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval" as FsyncMode)
    .option("--envelope", "deliver SNS's JSON envelope instead of raw messages", false)
    .option(
      "--warmup-messages <n>",
      "messages fanned out untimed first, on services of their own (0: none)",
      nonNegativeInt,
      10_000,
    )
    .action(
      async (
        opts: CommonOptions & {
          numMessages: number;
          subscriptions: number;
          producers: number;
          fsync: FsyncMode;
          envelope: boolean;
          warmupMessages: number;
        },
      ) => {
        await repeat(
          "pubsub",
          opts,
          async () =>
            (await import("../messaging/pubsub/pubsub.bench.js")).runPubSubBench(
              {
                numMessages: opts.numMessages,
                subscriptions: opts.subscriptions,
                producers: opts.producers,
                fsync: opts.fsync,
                envelope: opts.envelope,
                warmupMessages: opts.warmupMessages,
              },
              opts.json,
            ),
          (r) => {
            const result = r as {
              fanOutMessagesPerSec: number;
              deliveriesPerSec: number;
              publishedPerSec: number;
              cpuMicrosPerMessage: number;
            };
            return {
              fanOutMessagesPerSec: result.fanOutMessagesPerSec,
              deliveriesPerSec: result.deliveriesPerSec,
              publishedPerSec: result.publishedPerSec,
              cpuMicrosPerMessage: result.cpuMicrosPerMessage,
            };
          },
        );
      },
    );

  withCommonOptions(bench.command("kafka"))
    .description(
      "kafkajs (default) or kcat producing to and consuming from the Kafka listener on embedded topics",
    )
    .option(
      "--client <name>",
      "kafkajs | kcat (kcat: 1,000,000 records, lz4, and end-to-end latency)",
      "kafkajs",
    )
    .option("--compression <codec>", "kcat: none | gzip | snappy | lz4 | zstd", "lz4")
    .option(
      "--payload <kind>",
      "kcat: distinct (letters drawn for every record) | same (one value for all)",
      kcatPayload,
      "distinct" as const,
    )
    .option(
      "--latency-rate <n>",
      "kcat: records/s of the end-to-end latency run",
      positiveInt,
      20_000,
    )
    .option(
      "--num-records <n>",
      "records to produce and consume (default 200,000 kafkajs, 1,000,000 kcat)",
      positiveInt,
    )
    .option("--record-size <bytes>", "bytes per record value", positiveInt, 100)
    .option("--batch-size <n>", "records per kafkajs send", positiveInt, 1000)
    .option("--in-flight <n>", "sends in flight at once", positiveInt, 4)
    .option("--gzip", "gzip-compress the batches", false)
    .option("--fsync <mode>", "always | interval | never", fsyncMode, "interval" as FsyncMode)
    .action(
      async (
        opts: CommonOptions & {
          numRecords?: number;
          recordSize: number;
          batchSize: number;
          inFlight: number;
          gzip: boolean;
          fsync: FsyncMode;
          client: string;
          compression: string;
          payload: "distinct" | "same";
          latencyRate: number;
        },
      ) => {
        if (opts.client === "kcat") {
          await repeat(
            "kafka-kcat",
            opts,
            async () =>
              (await import("../server/kafka/kcat.bench.js")).runKcatBench({
                ...(opts.numRecords === undefined ? {} : { numRecords: opts.numRecords }),
                recordSize: opts.recordSize,
                compression: opts.compression as "lz4",
                payload: opts.payload,
                fsync: opts.fsync,
                latencyRate: opts.latencyRate,
                quiet: opts.json,
              }),
            (r) => {
              const result = r as {
                produce: { recordsPerSec: number; cpuMicrosPerRecord: number };
                consume: { recordsPerSec: number; cpuMicrosPerRecord: number };
                endToEnd: { latency: { p50Ms: number; p99Ms: number } };
              };
              return {
                produceRecordsPerSec: result.produce.recordsPerSec,
                produceCpuMicrosPerRecord: result.produce.cpuMicrosPerRecord,
                consumeRecordsPerSec: result.consume.recordsPerSec,
                consumeCpuMicrosPerRecord: result.consume.cpuMicrosPerRecord,
                endToEndP50Ms: result.endToEnd.latency.p50Ms,
                endToEndP99Ms: result.endToEnd.latency.p99Ms,
              };
            },
          );
          return;
        }
        if (opts.client !== "kafkajs")
          throw new InvalidArgumentError(`--client: expected kafkajs or kcat, got ${opts.client}`);
        await repeat(
          "kafka",
          opts,
          async () =>
            (await import("../server/kafka/kafka.bench.js")).runKafkaBench({
              ...(opts.numRecords === undefined ? {} : { numRecords: opts.numRecords }),
              recordSize: opts.recordSize,
              batchSize: opts.batchSize,
              inFlight: opts.inFlight,
              gzip: opts.gzip,
              fsync: opts.fsync,
              quiet: opts.json,
            }),
          (r) => {
            const result = r as {
              produce: { recordsPerSec: number; sendLatency: { p99Ms: number } };
              consume: { recordsPerSec: number };
            };
            return {
              produceRecordsPerSec: result.produce.recordsPerSec,
              sendP99Ms: result.produce.sendLatency.p99Ms,
              consumeRecordsPerSec: result.consume.recordsPerSec,
            };
          },
        );
      },
    );

  withCommonOptions(bench.command("eventstore"))
    .description("event store: appends, stream reads, projection lag, rebuild, time travel")
    .option("--backend <b>", "embedded | postgres", "embedded")
    .option(
      "--postgres <url>",
      "server for --backend postgres",
      "postgres://postgres@127.0.0.1:5432/test",
    )
    .option("--append-events <n>", "events of the append phase", positiveInt, 400_000)
    .option(
      "--history-events <n>",
      "events of the year of history (0 skips)",
      nonNegativeInt,
      1_000_000,
    )
    .option("--history-streams <n>", "streams of the year of history", positiveInt, 100_000)
    .option("--lag-seconds <n>", "length of the fixed-rate lag phase", positiveInt, 5)
    .action(
      async (
        opts: CommonOptions & {
          backend: string;
          postgres: string;
          appendEvents: number;
          historyEvents: number;
          historyStreams: number;
          lagSeconds: number;
        },
      ) => {
        if (opts.backend !== "embedded" && opts.backend !== "postgres")
          throw new InvalidArgumentError("--backend: expected embedded or postgres");
        const backend = opts.backend;
        await repeat(
          "eventstore",
          opts,
          async () =>
            (await import("../eventstore/eventstore.bench.js")).runEventStoreBench({
              backend,
              postgresUrl: opts.postgres,
              appendEvents: opts.appendEvents,
              historyEvents: opts.historyEvents,
              historyStreams: opts.historyStreams,
              lagSeconds: opts.lagSeconds,
              quiet: opts.json,
            }),
          (r) => {
            type Summary = { p95Ms: number; p99Ms: number; maxMs: number };
            const result = r as {
              append: { eventsPerSec: number; eventsPerCpuSec: number };
              read: { eventsPerSec: number; eventsPerCpuSec: number };
              lag: { lag: Summary };
              rebuild: { eventsPerSec: number; eventsPerCpuSec: number };
              history?: { aggregateAsOf: Summary; projectionAsOf: Summary };
            };
            return {
              appendEventsPerSec: result.append.eventsPerSec,
              appendEventsPerCpuSec: result.append.eventsPerCpuSec,
              readEventsPerSec: result.read.eventsPerSec,
              readEventsPerCpuSec: result.read.eventsPerCpuSec,
              lagP99Ms: result.lag.lag.p99Ms,
              rebuildEventsPerSec: result.rebuild.eventsPerSec,
              rebuildEventsPerCpuSec: result.rebuild.eventsPerCpuSec,
              aggregateAsOfP95Ms: result.history?.aggregateAsOf.p95Ms ?? 0,
              projectionAsOfMaxMs: result.history?.projectionAsOf.maxMs ?? 0,
            };
          },
        );
      },
    );
}
