// A queue worker process for the SIGKILL crash test: mixed sends, receives and deletes on a
// standard and a FIFO queue with fsync "always", from several loops at once, until it is killed.
//
// Protocol on stdout (one process.stdout.write per batch, so a batch's lines go out together;
// stdout is a pipe, which Node writes synchronously on Linux):
//   s <queue> <body>   before a sendMessageBatch: the body may be stored from now on
//   S <queue> <body>   after it resolved: the body is acknowledged as stored
//   d <queue> <body>   before a deleteMessageBatch: the message may be deleted from now on
//   D <queue> <body>   after it resolved: the message is acknowledged as deleted
//   h                  a heartbeat every 100 ms, proving the event loop still turns
// Bodies are unique across rounds: `r<round>-<counter>` on the standard queue and
// `r<round>-<counter>-g<group>` on the FIFO queue, the counter growing in the order sends are
// issued (so within a round, counter order is send order). A broken FIFO guarantee seen live
// (a group delivered while another receive holds one of its messages) ends the worker with
// exit code 1 and the reason on stderr. It writes "ready" once loaded and opens the queues
// only when the test says go (see WarmWorker).
import { setTimeout as sleep } from "node:timers/promises";
import { waitForGo } from "../../../engine/test-support/warm-worker.js";
import { EmbeddedQueueService } from "../embedded-queue-service.js";

const [dir, roundArg] = process.argv.slice(2);
if (dir === undefined || roundArg === undefined)
  throw new Error("usage: queue-crash-worker DIR ROUND");
const round = Number(roundArg);

const STANDARD_QUEUE = "std";
const FIFO_QUEUE = "orders.fifo";
const FIFO_GROUPS = 5;
/** Producers pause while a queue holds more than this many messages. */
const MAX_BACKLOG = 1500;
/**
 * A delete is only issued while the receive's visibility timeout has at least this much left.
 * The service answers a delete whose handle went stale (the message came back and was received
 * again) with success without deleting; a delete issued in time always takes effect.
 */
const DELETE_SAFETY_MS = 300;

await waitForGo();
const service = await EmbeddedQueueService.open(dir, {
  fsync: "always",
  // Small segments and frequent compaction, so the standard queue's log drops its dead prefix
  // and carries live messages forward while the worker runs (and gets killed).
  segmentBytes: 32 * 1024,
  compactionIntervalMs: 200,
});
const urls = {
  [STANDARD_QUEUE]: (await service.createQueue({ QueueName: STANDARD_QUEUE })).QueueUrl,
  [FIFO_QUEUE]: (
    await service.createQueue({
      QueueName: FIFO_QUEUE,
      Attributes: { FifoQueue: "true", ContentBasedDeduplication: "false" },
    })
  ).QueueUrl,
};
type QueueName = keyof typeof urls;

let counter = 0;
/** Orders the calls of all loops: each receive and delete call takes the next number. */
let calls = 0;
const random = Math.random;

function fail(error: unknown): never {
  process.stderr.write(`worker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
}

function lines(tag: string, queue: QueueName, bodies: readonly string[]): string {
  return bodies.map((b) => `${tag} ${queue} ${b}\n`).join("");
}

async function backlog(queue: QueueName): Promise<number> {
  const { Attributes } = await service.getQueueAttributes({
    QueueUrl: urls[queue],
    AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
  });
  return (
    Number(Attributes.ApproximateNumberOfMessages) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

/** One FIFO receive's messages of one group, while they may still be in flight. */
interface Hold {
  /** The receive's call number: the service took the messages during that call. */
  readonly call: number;
  /** Date.now() before the call: the visibility timeout runs from at or after it. */
  readonly calledAt: number;
  /** Date.now() right after the call returned its promise: the messages were taken by then. */
  readonly takenBy: number;
  readonly visibilityMs: number;
  /** Body -> call number of its delete, once issued. */
  readonly deletes: Map<string, number | undefined>;
}
const holds = new Map<string, Hold[]>();

/**
 * Whether `later`'s receive certainly broke FIFO: it took messages of a group while `earlier`
 * held some of that group in flight (not deleted before the call, timeout not yet run out).
 */
function overlaps(earlier: Hold, later: Hold): boolean {
  if (earlier.call >= later.call) return false;
  const stillHeld = [...earlier.deletes.values()].some((d) => d === undefined || d > later.call);
  return stillHeld && later.takenBy < earlier.calledAt + earlier.visibilityMs - 20;
}

function checkFifoReceive(hold: Hold, group: string): void {
  const now = Date.now();
  const live = (holds.get(group) ?? []).filter((h) => h.calledAt + h.visibilityMs + 1000 > now);
  for (const other of live)
    if (overlaps(other, hold) || overlaps(hold, other))
      fail(
        new Error(
          `FIFO group ${group} delivered twice at once: ${[...hold.deletes.keys()].join(",")} ` +
            `while ${[...other.deletes.keys()].join(",")} were in flight`,
        ),
      );
  live.push(hold);
  holds.set(group, live);
}

async function producer(queue: QueueName): Promise<never> {
  const fifo = queue === FIFO_QUEUE;
  for (;;) {
    if ((await backlog(queue)) > MAX_BACKLOG) {
      await sleep(20);
      continue;
    }
    const count = 1 + Math.floor(random() * 10);
    // Built, announced and sent in one synchronous run: counter order is send order.
    const entries = Array.from({ length: count }, (_, i) => {
      const group = Math.floor(random() * FIFO_GROUPS);
      const body = fifo ? `r${round}-${counter++}-g${group}` : `r${round}-${counter++}`;
      return fifo
        ? {
            Id: String(i),
            MessageBody: body,
            MessageGroupId: `g${group}`,
            MessageDeduplicationId: body,
          }
        : { Id: String(i), MessageBody: body };
    });
    const bodyOf = new Map(entries.map((e) => [e.Id, e.MessageBody]));
    process.stdout.write(lines("s", queue, [...bodyOf.values()]));
    const result = await service.sendMessageBatch({ QueueUrl: urls[queue], Entries: entries });
    if (result.Failed.length > 0) fail(new Error(`send failed: ${JSON.stringify(result.Failed)}`));
    process.stdout.write(
      lines(
        "S",
        queue,
        result.Successful.map((s) => bodyOf.get(s.Id)!),
      ),
    );
  }
}

async function consumer(queue: QueueName): Promise<never> {
  const fifo = queue === FIFO_QUEUE;
  for (;;) {
    const visibilityS = 1 + Math.floor(random() * 3);
    const call = ++calls;
    const calledAt = Date.now();
    const receiving = service.receiveMessage({
      QueueUrl: urls[queue],
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibilityS,
      WaitTimeSeconds: 0,
    });
    // Without long polling the service takes the messages before the call returns.
    const takenBy = Date.now();
    const { Messages } = await receiving;
    if (Messages.length === 0) {
      await sleep(10);
      continue;
    }
    const holdOf = new Map<string, Hold>();
    if (fifo) {
      for (const m of Messages) {
        const group = /-(g\d+)$/.exec(m.Body)?.[1] ?? "";
        let hold = holdOf.get(group);
        if (hold === undefined) {
          hold = { call, calledAt, takenBy, visibilityMs: visibilityS * 1000, deletes: new Map() };
          holdOf.set(group, hold);
        }
        hold.deletes.set(m.Body, undefined);
      }
      for (const [group, hold] of holdOf) checkFifoReceive(hold, group);
    }
    if (random() < 0.3) await sleep(Math.floor(random() * 150));
    // Delete some, not all: the rest stay in flight and come back after their timeout.
    const chosen = Messages.filter(() => random() < 0.75);
    const deadline = calledAt + visibilityS * 1000 - DELETE_SAFETY_MS;
    if (chosen.length === 0 || Date.now() >= deadline) continue;
    const bodyOf = new Map(chosen.map((m, i) => [String(i), m.Body]));
    process.stdout.write(lines("d", queue, [...bodyOf.values()]));
    if (Date.now() >= deadline) continue; // the write took long: too late now
    const deleteCall = ++calls;
    for (const hold of holdOf.values())
      for (const body of bodyOf.values())
        if (hold.deletes.has(body)) hold.deletes.set(body, deleteCall);
    const result = await service.deleteMessageBatch({
      QueueUrl: urls[queue],
      Entries: chosen.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
    });
    if (result.Failed.length > 0)
      fail(new Error(`delete failed: ${JSON.stringify(result.Failed)}`));
    process.stdout.write(
      lines(
        "D",
        queue,
        result.Successful.map((s) => bodyOf.get(s.Id)!),
      ),
    );
  }
}

process.stdout.write(`open ${process.pid}\n`);
setInterval(() => process.stdout.write("h\n"), 100);
const loops: Promise<never>[] = [];
for (const queue of [STANDARD_QUEUE, FIFO_QUEUE] as const)
  for (let i = 0; i < 2; i++) loops.push(producer(queue), consumer(queue));
await Promise.all(loops).catch(fail);
