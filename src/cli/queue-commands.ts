import { type Command, InvalidArgumentError } from "commander";
import type { EmbeddedQueueService } from "../messaging/queues/index.js";
import { suppliesFields } from "./command-line-fields.js";
import { requireExistingDataDir } from "./existing-data-dir.js";

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError("expected an integer from 1 to 1000");
  return n;
}

/**
 * Opens the queues for one command and closes them after: those of a whole data directory
 * (`--data-dir`, or a data directory given as the first argument, via `open`), or a queue
 * directory given as the first argument. Either must exist: no command here creates one.
 */
async function withQueues<T>(
  dir: string | undefined,
  dataDir: string | undefined,
  use: (sqs: EmbeddedQueueService) => Promise<T>,
): Promise<T> {
  if (dataDir === undefined && dir === undefined)
    throw new InvalidArgumentError("give --data-dir <dir> or a queue directory");
  const path = dataDir ?? dir!;
  const found = await requireExistingDataDir(path, dataDir === undefined ? "dir" : "--data-dir");
  // Loaded here, not at the top: `sluice --help` and the other commands need none of it.
  if (dataDir !== undefined || found === "data-directory") {
    const { open } = await import("../sluice/index.js");
    const sluice = await open(path);
    try {
      return await use(sluice.queues);
    } finally {
      await sluice.close();
    }
  }
  const { EmbeddedQueueService } = await import("../messaging/queues/index.js");
  const sqs = await EmbeddedQueueService.open(path);
  try {
    return await use(sqs);
  } finally {
    await sqs.close();
  }
}

/**
 * Commands with a positional directory take `--data-dir` instead, and then shift their
 * arguments: commander sees them all as optional, and a missing one of `names` (the command's
 * own, after the directory) is named here as the help names it.
 */
function dirAndArgs(
  given: readonly (string | undefined)[],
  dataDir: string | undefined,
  names: readonly string[],
): [string | undefined, string[]] {
  const args = given.filter((a) => a !== undefined);
  const [dir, own] = dataDir !== undefined ? [undefined, args] : [args[0], args.slice(1)];
  if (own.length < names.length)
    throw new InvalidArgumentError(`missing required argument '${names[own.length]}'`);
  if (own.length > names.length)
    throw new InvalidArgumentError(
      `too many arguments: expected ${names.join(" ")} after --data-dir, got ${own.join(" ")}`,
    );
  return [dir, own];
}

/** `sluice queues list|peek|send DIR ...`: look into (and feed) the queues of a data directory. */
export function registerQueueCommands(program: Command): void {
  const queues = program
    .command("queues")
    .description("inspect the SQS-semantics queues stored in a data directory");

  queues
    .command("list")
    .description("every queue with its type and message counts")
    .argument("[dir]", "queue directory (or use --data-dir)")
    .option("--data-dir <dir>", "Sluice data directory (every primitive)")
    .action((dir: string | undefined, opts: { dataDir?: string }) =>
      withQueues(dir, opts.dataDir, async (sqs) => {
        const { QueueUrls } = await sqs.listQueues();
        process.stdout.write("queue\ttype\tvisible\tinflight\tdelayed\tarn\n");
        for (const QueueUrl of QueueUrls) {
          const { Attributes: a } = await sqs.getQueueAttributes({ QueueUrl });
          const name = QueueUrl.slice(QueueUrl.lastIndexOf("/") + 1);
          process.stdout.write(
            `${name}\t${a.FifoQueue === "true" ? "fifo" : "standard"}\t${a.ApproximateNumberOfMessages}\t` +
              `${a.ApproximateNumberOfMessagesNotVisible}\t${a.ApproximateNumberOfMessagesDelayed}\t${a.QueueArn}\n`,
          );
        }
      }),
    );

  suppliesFields(queues.command("peek"), { QueueName: "queue", MaxNumberOfMessages: "--max" })
    .description("print messages in sequence order without receiving them (JSON lines)")
    .usage("[options] [dir] <queue>")
    .argument("[dir]", "queue directory (or use --data-dir)")
    .argument("[queue]", "queue name")
    .option("--data-dir <dir>", "Sluice data directory (every primitive)")
    .option("--max <n>", "at most this many messages (1-1000)", count, 10)
    .action(
      (
        first: string | undefined,
        second: string | undefined,
        opts: { max: number; dataDir?: string },
      ) => {
        const [dir, [queue]] = dirAndArgs([first, second], opts.dataDir, ["queue"]);
        return withQueues(dir, opts.dataDir, async (sqs) => {
          const { QueueUrl } = await sqs.getQueueUrl({ QueueName: queue! });
          const { Messages } = await sqs.peekMessages({ QueueUrl, MaxNumberOfMessages: opts.max });
          for (const m of Messages) process.stdout.write(JSON.stringify(m) + "\n");
        });
      },
    );

  suppliesFields(queues.command("send"), {
    QueueName: "queue",
    MessageBody: "body",
    MessageGroupId: "--group",
    MessageDeduplicationId: "--dedup",
  })
    .description("send one message (FIFO queues need --group, and --dedup unless content-based)")
    .usage("[options] [dir] <queue> <body>")
    .argument("[dir]", "queue directory (or use --data-dir)")
    .argument("[queue]", "queue name")
    .argument("[body]", "message body")
    .option("--data-dir <dir>", "Sluice data directory (every primitive)")
    .option("--group <id>", "MessageGroupId")
    .option("--dedup <id>", "MessageDeduplicationId")
    .action(
      (
        first: string | undefined,
        second: string | undefined,
        third: string | undefined,
        opts: { group?: string; dedup?: string; dataDir?: string },
      ) => {
        const [dir, [queue, body]] = dirAndArgs([first, second, third], opts.dataDir, [
          "queue",
          "body",
        ]);
        return withQueues(dir, opts.dataDir, async (sqs) => {
          const { QueueUrl } = await sqs.getQueueUrl({ QueueName: queue! });
          const result = await sqs.sendMessage({
            QueueUrl,
            MessageBody: body!,
            ...(opts.group === undefined ? {} : { MessageGroupId: opts.group }),
            ...(opts.dedup === undefined ? {} : { MessageDeduplicationId: opts.dedup }),
          });
          process.stdout.write(JSON.stringify(result) + "\n");
        });
      },
    );
}
