import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../engine/simulated-file-system.js";
import { WarmWorker } from "../../engine/test-support/warm-worker.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import type { PeekedMessage } from "./queue-service.js";
import { peekAll } from "./test-support/peek-all.js";

const workerScript = fileURLToPath(
  new URL("./test-support/queue-crash-worker.ts", import.meta.url),
);
const QUEUES = ["std", "orders.fifo"] as const;
type QueueName = (typeof QUEUES)[number];
const FIFO: QueueName = "orders.fifo";
const ROUNDS = 24;
const HOUR_MS = 60 * 60 * 1000;

const dirs: string[] = [];
/** Workers still running: killed in afterAll if the test times out mid-round. */
const running = new Set<WarmWorker>();
afterAll(() => {
  for (const worker of running) worker.child.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Everything the workers reported, over all rounds. A send or delete that was issued but not
 * acknowledged before the kill may or may not have taken effect; the checks allow both.
 */
class Ledger {
  readonly sendsIssued = new Map<string, QueueName>();
  readonly sent = new Map<string, QueueName>();
  readonly deletesIssued = new Set<string>();
  readonly deleted = new Set<string>();
  sendAcks = 0;
  deleteAcks = 0;

  /** Takes a worker's output; only complete lines count (a line cut by the kill never was). */
  add(output: string): void {
    for (const line of output.split("\n").slice(0, -1)) {
      const [tag, queue, body] = line.split(" ") as [string, QueueName, string];
      if (tag === "s") this.sendsIssued.set(body, queue);
      else if (tag === "S") {
        expect(this.sendsIssued.get(body), `ack for a send never issued: ${line}`).toBe(queue);
        expect(this.sent.has(body), `send acknowledged twice: ${line}`).toBe(false);
        this.sent.set(body, queue);
        this.sendAcks++;
      } else if (tag === "d") this.deletesIssued.add(body);
      else if (tag === "D") {
        expect(this.deletesIssued.has(body), `ack for a delete never issued: ${line}`).toBe(true);
        this.deleted.add(body);
        this.deleteAcks++;
      }
    }
  }
}

/** A body's place in send order: round, then the worker's counter. */
function sendOrder(body: string): [number, number] {
  const [, round, counter] = /^r(\d+)-(\d+)/.exec(body)!;
  return [Number(round), Number(counter)];
}

function sentBefore(a: string, b: string): boolean {
  const [ra, ca] = sendOrder(a);
  const [rb, cb] = sendOrder(b);
  return ra < rb || (ra === rb && ca < cb);
}

/** A worker for `round` that loads its modules now and waits for `runWorkerUntilKilled`. */
function warmWorker(dir: string, round: number): WarmWorker {
  const worker = new WarmWorker(workerScript, [dir, String(round)]);
  running.add(worker);
  void worker.closed.then(() => running.delete(worker));
  return worker;
}

/**
 * Lets a warmed worker go, lets it go on for `killAfterMs` after its first acknowledgement,
 * SIGKILLs it and returns all it wrote to stdout.
 */
async function runWorkerUntilKilled(worker: WarmWorker, round: number, killAfterMs: number) {
  const early = async (what: string): Promise<never> => {
    await worker.kill();
    throw new Error(
      `worker of round ${round} ${what} (exit ${worker.child.exitCode}): ${worker.errors}`,
    );
  };
  await worker.start();
  const started = Date.now();
  while (!/^[SD] /m.test(worker.output) && !worker.hasEnded && Date.now() - started < 20_000)
    await sleep(5);
  if (worker.hasEnded) return early("exited before its first acknowledgement");
  if (!/^[SD] /m.test(worker.output)) return early("acknowledged nothing in 20 s");
  await Promise.race([sleep(killAfterMs), worker.closed]);
  if (worker.hasEnded) return early("exited before it was killed");
  // A worker spinning in a synchronous loop (a receive that never returns) stops its heartbeat.
  const stalledMs = Date.now() - worker.lastOutputAt;
  if (stalledMs > 1000) return early(`wrote nothing for ${stalledMs} ms before the kill`);
  await worker.kill();
  return worker.output;
}

/** Every message of a queue, by name. */
async function peekQueue(
  service: EmbeddedQueueService,
  queue: QueueName,
): Promise<PeekedMessage[]> {
  const { QueueUrl } = await service.getQueueUrl({ QueueName: queue });
  return peekAll(service, QueueUrl);
}

/** Checks one queue against the ledger; returns the bodies present and the problems found. */
function checkQueue(
  queue: QueueName,
  messages: readonly PeekedMessage[],
  ledger: Ledger,
): { present: Set<string>; problems: string[]; checked: number } {
  const problems: string[] = [];
  const present = new Set<string>();
  let previousSeq = -1n;
  const lastInGroup = new Map<string, string>();
  for (const m of messages) {
    const body = m.Body;
    // (c) no body twice
    if (present.has(body)) problems.push(`${queue}: ${body} appears twice`);
    present.add(body);
    // (e) only what some worker sent to this queue
    if (ledger.sendsIssued.get(body) !== queue)
      problems.push(`${queue}: ${body} was never sent to this queue`);
    // (b) nothing acknowledged as deleted
    if (ledger.deleted.has(body)) problems.push(`${queue}: ${body} is back after its delete`);
    // Every visibility timeout ran out an hour ago.
    if (m.State !== "visible") problems.push(`${queue}: ${body} is ${m.State}`);
    const seq = BigInt(m.SequenceNumber);
    if (seq <= previousSeq)
      problems.push(`${queue}: sequence ${m.SequenceNumber} after ${previousSeq} (${body})`);
    previousSeq = seq;
    if (queue === FIFO) {
      // (d) within a group, in send order
      const group = m.Attributes.MessageGroupId ?? "";
      if (!body.endsWith(`-${group}`)) problems.push(`${queue}: ${body} in group ${group}`);
      const last = lastInGroup.get(group);
      if (last !== undefined && !sentBefore(last, body))
        problems.push(`${queue}: ${body} after ${last} in group ${group}`);
      lastInGroup.set(group, body);
    }
  }
  // (a) every acknowledged send not (possibly) deleted since
  let checked = 0;
  for (const [body, q] of ledger.sent) {
    if (q !== queue) continue;
    checked++;
    if (!ledger.deletesIssued.has(body) && !present.has(body))
      problems.push(`${queue}: acknowledged ${body} is lost`);
  }
  for (const body of ledger.deleted) if (ledger.sent.get(body) === queue) checked++;
  return { present, problems, checked };
}

describe("queues survive SIGKILL on the real disk", () => {
  it(`keeps acknowledged sends and deletes and FIFO order across ${ROUNDS} kills`, async () => {
    const started = Date.now();
    // Kept for inspection if the test fails.
    const dir = mkdtempSync(join(tmpdir(), "sluice-queue-crash-"));
    const seed = Date.now() % 1_000_000;
    const random = seededRandom(seed);
    const ledger = new Ledger();
    let checks = 0;
    let present = new Map<QueueName, Set<string>>();

    // The next round's worker loads while this round's runs and is checked.
    let next = warmWorker(dir, 0);
    for (let round = 0; round < ROUNDS; round++) {
      const worker = next;
      if (round + 1 < ROUNDS) next = warmWorker(dir, round + 1);
      const output = await runWorkerUntilKilled(worker, round, 300 + Math.floor(random() * 1200));
      const acksBefore = ledger.sendAcks + ledger.deleteAcks;
      ledger.add(output);
      expect(
        ledger.sendAcks + ledger.deleteAcks,
        `round ${round} acknowledged nothing`,
      ).toBeGreaterThan(acksBefore);
      // An hour later: every in-flight message is visible again, nothing has expired yet.
      const clock = new VirtualClock(Date.now() + HOUR_MS);
      const service = await EmbeddedQueueService.open(dir, {
        clock,
        fsync: "always",
        compactionIntervalMs: 0,
      });
      try {
        present = new Map();
        const problems: string[] = [];
        for (const queue of QUEUES) {
          const result = checkQueue(queue, await peekQueue(service, queue), ledger);
          present.set(queue, result.present);
          problems.push(...result.problems);
          checks += result.checked;
        }
        expect(problems.slice(0, 20), `round ${round} (seed ${seed}, dir ${dir})`).toEqual([]);
      } finally {
        await service.close();
      }
    }

    const summary =
      `${ledger.sendAcks} sends and ${ledger.deleteAcks} deletes acknowledged over ` +
      `${ROUNDS} rounds, ${checks} acknowledgement checks, ${Date.now() - started} ms`;
    console.log(summary);
    expect(ledger.sendAcks, summary).toBeGreaterThanOrEqual(ROUNDS * 50);
    expect(ledger.deleteAcks, summary).toBeGreaterThanOrEqual(ROUNDS * 20);

    // Finally, with the real clock: receive and delete everything left (messages received by
    // the last worker come back when their timeouts end), FIFO groups still in order.
    const service = await EmbeddedQueueService.open(dir, {
      fsync: "always",
      compactionIntervalMs: 0,
    });
    try {
      for (const queue of QUEUES) {
        const { QueueUrl } = await service.getQueueUrl({ QueueName: queue });
        const received: string[] = [];
        const byGroup = new Map<string, string[]>();
        const deadline = Date.now() + 20_000;
        const drain = async (): Promise<void> => {
          while (Date.now() < deadline) {
            const { Messages } = await service.receiveMessage({
              QueueUrl,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 120,
              WaitTimeSeconds: 0,
              MessageSystemAttributeNames: ["MessageGroupId"],
            });
            for (const m of Messages) {
              received.push(m.Body);
              const group = m.Attributes?.MessageGroupId ?? "";
              const bodies = byGroup.get(group) ?? [];
              bodies.push(m.Body);
              byGroup.set(group, bodies);
            }
            if (Messages.length > 0) {
              const { Failed } = await service.deleteMessageBatch({
                QueueUrl,
                Entries: Messages.map((m, i) => ({
                  Id: String(i),
                  ReceiptHandle: m.ReceiptHandle,
                })),
              });
              expect(Failed).toEqual([]);
            } else if ((await peekQueue(service, queue)).length === 0) return;
            else await sleep(100);
          }
        };
        await Promise.all([drain(), drain(), drain()]);
        expect(await peekQueue(service, queue), `${queue} still holds messages`).toEqual([]);
        const left = present.get(queue)!;
        expect(received.length, `${queue}: each message received once`).toBe(
          new Set(received).size,
        );
        expect(new Set(received), `${queue}: received what the last check found`).toEqual(left);
        if (queue === FIFO)
          for (const [group, bodies] of byGroup)
            for (let i = 1; i < bodies.length; i++)
              expect(
                sentBefore(bodies[i - 1]!, bodies[i]!),
                `${group}: ${bodies[i]} received after ${bodies[i - 1]}`,
              ).toBe(true);
      }
    } finally {
      await service.close();
    }
    dirs.push(dir);
    console.log(`queue crash test done in ${Date.now() - started} ms`);
  }, 300_000); // 24 child processes: each starts a TypeScript loader, slow on a loaded machine
});
