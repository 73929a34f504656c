import { type Command, InvalidArgumentError } from "commander";
import type { QueueService } from "../messaging/queues/index.js";
import { suppliesFields } from "./command-line-fields.js";
import { requireExistingDataDir } from "./existing-data-dir.js";
import {
  type DataSource,
  dataDirOrServer,
  serverOptions,
  throughServerHint,
  withServer,
} from "./server-target.js";

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError("expected an integer from 1 to 1000");
  return n;
}

/**
 * Opens the queues for one command and closes them after: those of a whole data directory
 * (`--data-dir`, or a data directory given as the first argument, via `open`), or a queue
 * directory given as the first argument; or reaches them through the server serving a data
 * directory (`--server`). A directory must exist: no command here creates one.
 */
async function withQueues<T>(
  dir: string | undefined,
  opts: DataSource,
  use: (sqs: QueueService) => Promise<T>,
): Promise<T> {
  if (opts.server !== undefined) {
    dataDirOrServer(opts.dataDir, opts.server); // refuses --data-dir beside it
    return withServer(opts.server, "--server", opts.authToken, (s) => use(s.queues));
  }
  if (dir === undefined && opts.dataDir === undefined)
    throw new InvalidArgumentError(
      "give the data directory (first argument or --data-dir <dir>) or the URL of the server serving it (--server <url>)",
    );
  const path = opts.dataDir ?? dir!;
  const field = opts.dataDir === undefined ? "dir" : "--data-dir";
  const found = await requireExistingDataDir(path, field);
  try {
    return await openQueues(path, opts.dataDir !== undefined || found === "data-directory", use);
  } catch (error) {
    throw throughServerHint(error, `--server <url> instead of ${field === "dir" ? path : field}`);
  }
}

async function openQueues<T>(
  path: string,
  dataDirectory: boolean,
  use: (sqs: QueueService) => Promise<T>,
): Promise<T> {
  // Loaded here, not at the top: `sluice --help` and the other commands need none of it.
  if (dataDirectory) {
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
 * Commands with a positional directory take `--data-dir` (or `--server`) instead, and then
 * shift their arguments: commander sees them all as optional, and a missing one of `names` (the
 * command's own, after the directory) is named here as the help names it.
 */
function dirAndArgs(
  given: readonly (string | undefined)[],
  opts: DataSource,
  names: readonly string[],
): [string | undefined, string[]] {
  const args = given.filter((a) => a !== undefined);
  const flag = opts.server !== undefined ? "--server" : "--data-dir";
  const shifted = opts.dataDir !== undefined || opts.server !== undefined;
  const [dir, own] = shifted ? [undefined, args] : [args[0], args.slice(1)];
  if (own.length < names.length)
    throw new InvalidArgumentError(`missing required argument '${names[own.length]}'`);
  if (own.length > names.length)
    throw new InvalidArgumentError(
      names.length === 0
        ? `too many arguments: ${flag} says where the queues are, got ${own.join(" ")} too`
        : `too many arguments: expected ${names.join(" ")} after ${flag}, got ${own.join(" ")}`,
    );
  return [dir, own];
}

/** `sluice queues list|peek|send DIR ...`: look into (and feed) the queues of a data directory. */
export function registerQueueCommands(program: Command): void {
  const queues = program
    .command("queues")
    .description(
      "inspect the SQS-semantics queues stored in a data directory, or served by a running `sluice start`",
    );

  serverOptions(queues.command("list"))
    .description("every queue with its type and message counts")
    .argument("[dir]", "queue directory (or use --data-dir)")
    .option("--data-dir <dir>", "Sluice data directory (every primitive)")
    .action((first: string | undefined, opts: DataSource) => {
      const [dir] = dirAndArgs([first], opts, []);
      return withQueues(dir, opts, async (sqs) => {
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
      });
    });

  suppliesFields(serverOptions(queues.command("peek")), {
    QueueName: "queue",
    MaxNumberOfMessages: "--max",
  })
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
        opts: DataSource & { max: number },
      ) => {
        const [dir, [queue]] = dirAndArgs([first, second], opts, ["queue"]);
        return withQueues(dir, opts, async (sqs) => {
          const { QueueUrl } = await sqs.getQueueUrl({ QueueName: queue! });
          const { Messages } = await sqs.peekMessages({ QueueUrl, MaxNumberOfMessages: opts.max });
          for (const m of Messages) process.stdout.write(JSON.stringify(m) + "\n");
        });
      },
    );

  suppliesFields(serverOptions(queues.command("send")), {
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
        opts: DataSource & { group?: string; dedup?: string },
      ) => {
        const [dir, [queue, body]] = dirAndArgs([first, second, third], opts, ["queue", "body"]);
        return withQueues(dir, opts, async (sqs) => {
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
