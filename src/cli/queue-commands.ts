import { type Command, InvalidArgumentError } from "commander";
import { EmbeddedQueueService } from "../messaging/queues/index.js";

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError("expected an integer from 1 to 1000");
  return n;
}

/** Opens the queues in `dir` for one command and closes them after. */
async function withQueues<T>(
  dir: string,
  use: (sqs: EmbeddedQueueService) => Promise<T>,
): Promise<T> {
  const sqs = await EmbeddedQueueService.open(dir);
  try {
    return await use(sqs);
  } finally {
    await sqs.close();
  }
}

/** `sluice queues list|peek|send DIR ...`: look into (and feed) the queues of a data directory. */
export function registerQueueCommands(program: Command): void {
  const queues = program
    .command("queues")
    .description("inspect the SQS-semantics queues stored in a data directory");

  queues
    .command("list")
    .description("every queue with its type and message counts")
    .argument("<dir>", "queue data directory")
    .action((dir: string) =>
      withQueues(dir, async (sqs) => {
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

  queues
    .command("peek")
    .description("print messages in sequence order without receiving them (JSON lines)")
    .argument("<dir>", "queue data directory")
    .argument("<queue>", "queue name")
    .option("--max <n>", "at most this many messages (1-1000)", count, 10)
    .action((dir: string, queue: string, opts: { max: number }) =>
      withQueues(dir, async (sqs) => {
        const { QueueUrl } = await sqs.getQueueUrl({ QueueName: queue });
        const { Messages } = await sqs.peekMessages({ QueueUrl, MaxNumberOfMessages: opts.max });
        for (const m of Messages) process.stdout.write(JSON.stringify(m) + "\n");
      }),
    );

  queues
    .command("send")
    .description("send one message (FIFO queues need --group, and --dedup unless content-based)")
    .argument("<dir>", "queue data directory")
    .argument("<queue>", "queue name")
    .argument("<body>", "message body")
    .option("--group <id>", "MessageGroupId")
    .option("--dedup <id>", "MessageDeduplicationId")
    .action((dir: string, queue: string, body: string, opts: { group?: string; dedup?: string }) =>
      withQueues(dir, async (sqs) => {
        const { QueueUrl } = await sqs.getQueueUrl({ QueueName: queue });
        const result = await sqs.sendMessage({
          QueueUrl,
          MessageBody: body,
          ...(opts.group === undefined ? {} : { MessageGroupId: opts.group }),
          ...(opts.dedup === undefined ? {} : { MessageDeduplicationId: opts.dedup }),
        });
        process.stdout.write(JSON.stringify(result) + "\n");
      }),
    );
}
