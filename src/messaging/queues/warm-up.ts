import { type TimeLeft, type WarmUpOptions, inThrowawayDirectory } from "../warm-up-options.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import type { SendMessageBatchRequestEntry } from "./queue-service.js";

export interface QueueWarmUpOptions extends WarmUpOptions {
  /** Messages sent, received and deleted through a standard queue (default 20,000). */
  readonly messages?: number;
  /** Through a FIFO queue (default 2,000). */
  readonly fifoMessages?: number;
}

export interface QueueWarmUpReport {
  /** Messages that went through send, receive and delete. */
  readonly messages: number;
  readonly elapsedMs: number;
}

const BODY = "w".repeat(100);

/**
 * Runs queue traffic through a throwaway service in a temporary directory, so that V8 has
 * compiled the send, receive and delete paths before real traffic arrives: a server warms up
 * before it listens, as JIT-compiled services do. A fresh process runs these paths interpreted
 * at first, at several times their compiled cost: offered 50,000 messages a second from its
 * start it falls behind for about half a second (p99 latency of tens of milliseconds, against
 * 1-2 ms once compiled). The warm-up costs a few hundred milliseconds of CPU and leaves nothing
 * on disk; the code it compiles is the code every queue runs.
 */
export async function warmUpQueues(options: QueueWarmUpOptions = {}): Promise<QueueWarmUpReport> {
  const started = performance.now();
  const messages = await inThrowawayDirectory(options, async (dir, timeLeft) => {
    // The service's own default durability when none is given, as the real service has.
    const service = await EmbeddedQueueService.open(
      dir,
      options.fsync === undefined ? {} : { fsync: options.fsync },
    );
    try {
      const standard = await service.createQueue({ QueueName: "warm-up" });
      const fifo = await service.createQueue({
        QueueName: "warm-up.fifo",
        Attributes: { FifoQueue: "true" },
      });
      return (
        (await traffic(service, standard.QueueUrl, options.messages ?? 20_000, timeLeft)) +
        (await traffic(service, fifo.QueueUrl, options.fifoMessages ?? 2_000, timeLeft, {
          group: (n) => `g${n % 20}`,
        }))
      );
    } finally {
      await service.close();
    }
  });
  return { messages, elapsedMs: performance.now() - started };
}

/**
 * Two producers and two consumers, as a server's clients run: batches of ten with a single
 * send and delete now and then, and long polls that wait for the producers. Returns the
 * messages deleted.
 */
async function traffic(
  service: EmbeddedQueueService,
  QueueUrl: string,
  total: number,
  timeLeft: TimeLeft,
  fifo?: { group(n: number): string },
): Promise<number> {
  let sent = 0;
  let deleted = 0;
  const inTime = (): boolean => timeLeft() > 0;
  const entry = (n: number, i: number): SendMessageBatchRequestEntry =>
    fifo === undefined
      ? { Id: `m${i}`, MessageBody: BODY }
      : {
          Id: `m${i}`,
          MessageBody: BODY,
          MessageGroupId: fifo.group(n),
          MessageDeduplicationId: `d${n}`,
        };
  const producer = async (): Promise<void> => {
    for (let round = 0; sent < total && inTime(); round++) {
      if (sent - deleted > 1_000) await turn();
      else if (round % 10 === 9) {
        const { Id: _, ...single } = entry(sent++, 0);
        await service.sendMessage({ QueueUrl, ...single });
      } else {
        const first = sent;
        const count = Math.min(10, total - first);
        sent += count;
        await service.sendMessageBatch({
          QueueUrl,
          Entries: Array.from({ length: count }, (_, i) => entry(first + i, i)),
        });
      }
    }
  };
  // Ends the consumers' long polls at the last delete, or at the deadline.
  const finished = new AbortController();
  const timer = setTimeout(() => finished.abort(), Math.max(0, timeLeft()));
  const consumer = async (): Promise<void> => {
    while (deleted < total && inTime()) {
      const { Messages } = await service.receiveMessage({
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        signal: finished.signal,
      });
      if (Messages.length === 1)
        await service.deleteMessage({ QueueUrl, ReceiptHandle: Messages[0]!.ReceiptHandle });
      else if (Messages.length > 1)
        await service.deleteMessageBatch({
          QueueUrl,
          Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        });
      deleted += Messages.length;
      await turn();
    }
    finished.abort();
  };
  try {
    await Promise.all([producer(), producer(), consumer(), consumer()]);
  } finally {
    clearTimeout(timer);
  }
  return deleted;
}

/** A macrotask turn, as a client's I/O would give: timers (fsync ticks) run meanwhile. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
