import { type Command, InvalidArgumentError } from "commander";
import type { GroupDescription, TopicService } from "../messaging/topics/index.js";
import { suppliesFields } from "./command-line-fields.js";
import { requireExistingDataDir } from "./existing-data-dir.js";
import { positiveInt } from "./option-parsers.js";
import {
  type DataSource,
  dataDirOrServer,
  serverOptions,
  throughServerHint,
  withServer,
} from "./server-target.js";

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("expected an integer");
  return n;
}

/** Seconds between two prints of `--watch`, checked before anything is opened or printed. */
function watchSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new InvalidArgumentError("expected a number of seconds > 0");
  return seconds;
}

/**
 * Opens the topics of a data directory (`--data-dir`) for one command and closes them after, or
 * reaches them through the server serving one (`--server`). Only `create` makes a data
 * directory (and removes it again if the command fails, e.g. on a bad topic name): the other
 * commands look into (or delete from) a data directory that must exist.
 */
async function withTopics<T>(
  opts: DataSource,
  use: (topics: TopicService) => Promise<T>,
  create = false,
): Promise<T> {
  const source = dataDirOrServer(opts.dataDir, opts.server);
  if ("server" in source)
    return withServer(source.server, "--server", opts.authToken, (s) => use(s.topics));
  const { dataDir } = source;
  if (!create) await requireExistingDataDir(dataDir, "--data-dir");
  // Loaded here, not at the top: `sluice --help` and the other commands need none of it.
  const [{ open }, { withDataDir }] = await Promise.all([
    import("../sluice/index.js"),
    import("./new-data-dir.js"),
  ]);
  try {
    return await withDataDir(
      dataDir,
      "--data-dir",
      () => open(dataDir),
      (s) => use(s.topics),
    );
  } catch (error) {
    throw throughServerHint(error, "--server <url> instead of --data-dir");
  }
}

/** Left-aligned columns, as Kafka's tools print them. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map(
      (row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join(" ")
          .trimEnd() + "\n",
    )
    .join("");
}

/** kafka-consumer-groups --describe: one row per partition, "-" where there is nothing. */
export function describeGroupTable(group: GroupDescription): string {
  const rows: string[][] = [
    [
      "GROUP",
      "TOPIC",
      "PARTITION",
      "CURRENT-OFFSET",
      "LOG-END-OFFSET",
      "LAG",
      "CONSUMER-ID",
      "HOST",
      "CLIENT-ID",
    ],
  ];
  for (const o of group.offsets)
    rows.push([
      group.groupId,
      o.topic,
      String(o.partition),
      o.committedOffset < 0 ? "-" : String(o.committedOffset),
      String(o.logEndOffset),
      o.committedOffset < 0 ? "-" : String(o.lag),
      o.memberId ?? "-",
      o.host === undefined ? "-" : `/${o.host}`,
      o.clientId ?? "-",
    ]);
  return formatTable(rows);
}

/** Where the topics are: a data directory, or the server serving one (exactly one of them). */
const dataDirOption = (command: Command): Command =>
  serverOptions(command.option("--data-dir <dir>", "Sluice data directory"));

/** A command whose <topic> argument is the library's `name`. */
const onTopic = (command: Command): Command => suppliesFields(command, { name: "topic" });

/** `sluice topics ...` and `sluice groups ...` on a data directory, in the shape of Kafka's tools. */
export function registerTopicCommands(program: Command): void {
  const topics = program
    .command("topics")
    .description("Kafka-semantics topics in a data directory");

  dataDirOption(topics.command("list").description("topic names, one a line"))
    .option("--include-internal", "also __consumer_offsets")
    .action((opts: DataSource & { includeInternal?: boolean }) =>
      withTopics(opts, async (topics) => {
        const names = await topics.admin.listTopics({
          includeInternal: opts.includeInternal === true,
        });
        for (const name of names) process.stdout.write(`${name}\n`);
      }),
    );

  dataDirOption(
    onTopic(
      topics
        .command("describe")
        .description("partitions, offsets and config, as kafka-topics --describe"),
    ),
  )
    .argument("<topic>", "topic name")
    .action((topic: string, opts: DataSource) =>
      withTopics(opts, async (topics) => {
        const d = await topics.admin.describeTopic(topic);
        const config = Object.entries(d.config)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(",");
        process.stdout.write(
          `Topic: ${d.name}\tPartitionCount: ${d.partitions}\tConfigs: ${config}\n`,
        );
        const rows = [
          ["", "Topic:", "Partition:", "LogStartOffset:", "HighWatermark:", "SizeBytes:"],
        ];
        for (let p = 0; p < d.partitions; p++) {
          const info = await topics.admin.describePartition(topic, p);
          rows.push([
            "",
            d.name,
            String(p),
            String(info.logStartOffset),
            String(info.highWatermark),
            String(info.sizeBytes),
          ]);
        }
        process.stdout.write(formatTable(rows));
      }),
    );

  dataDirOption(onTopic(topics.command("create").description("create a topic")))
    .argument("<topic>", "topic name")
    .option("--partitions <n>", "partition count", positiveInt, 1)
    .option("--retention-ms <ms>", "delete data older than this (-1 = forever)", integer)
    .option("--retention-bytes <bytes>", "per-partition size limit (-1 = unbounded)", integer)
    .option("--cleanup-policy <policy>", "delete | compact | compact,delete")
    .option("--segment-bytes <bytes>", "segment size", positiveInt)
    .option("--max-message-bytes <bytes>", "largest record batch", positiveInt)
    .action(
      (
        topic: string,
        opts: DataSource & {
          partitions: number;
          retentionMs?: number;
          retentionBytes?: number;
          cleanupPolicy?: "delete" | "compact" | "compact,delete";
          segmentBytes?: number;
          maxMessageBytes?: number;
        },
      ) =>
        withTopics(
          opts,
          async (topics) => {
            const { dataDir: _dataDir, server: _server, authToken: _authToken, ...config } = opts;
            await topics.admin.createTopic({ name: topic, ...config });
            process.stdout.write(`Created topic ${topic}.\n`);
          },
          true,
        ),
    );

  dataDirOption(onTopic(topics.command("delete").description("delete a topic and its data")))
    .argument("<topic>", "topic name")
    .action((topic: string, opts: DataSource) =>
      withTopics(opts, async (topics) => {
        await topics.admin.deleteTopic(topic);
        process.stdout.write(`Deleted topic ${topic}.\n`);
      }),
    );

  const groups = program.command("groups").description("consumer groups in a data directory");

  dataDirOption(groups.command("list").description("group ids with state and member count")).action(
    (opts: DataSource) =>
      withTopics(opts, async (topics) => {
        const rows = [["GROUP", "STATE", "MEMBERS"]];
        for (const g of await topics.admin.listGroups())
          rows.push([g.groupId, g.state, String(g.members)]);
        process.stdout.write(formatTable(rows));
      }),
  );

  dataDirOption(
    suppliesFields(
      groups
        .command("describe")
        .description("kafka-consumer-groups --describe columns, per partition"),
      { groupId: "group" },
    ),
  )
    .argument("<group>", "group id")
    .option(
      "--watch [seconds]",
      "print again every few seconds (default 2) until interrupted",
      watchSeconds,
    )
    .action((group: string, opts: DataSource & { watch?: true | number }) =>
      withTopics(opts, async (topics) => {
        const print = async (): Promise<void> => {
          process.stdout.write(describeGroupTable(await topics.admin.describeGroup(group)));
        };
        await print();
        if (opts.watch === undefined) return;
        const seconds = opts.watch === true ? 2 : opts.watch;
        const stop = new AbortController();
        process.once("SIGINT", () => stop.abort());
        while (!stop.signal.aborted) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, seconds * 1000);
            stop.signal.addEventListener("abort", () => {
              clearTimeout(timer);
              resolve();
            });
          });
          if (stop.signal.aborted) break;
          process.stdout.write(`\n${new Date().toISOString()}\n`);
          await print();
        }
      }),
    );
}
