import { describe, expect, it } from "vitest";
import { SimulatedFileSystem, seededRandom } from "../../engine/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import { peekAll } from "./test-support/peek-all.js";

const DIR = "/data/queues";
const QUEUES = ["std", "jobs.fifo"] as const;

/**
 * Deterministic crash simulation on the simulated disk: random traffic under fsync "always",
 * then a crash that drops every unsynced byte (keeping a torn prefix) or a failed fsync, then
 * recovery. What a call acknowledged must be there; what an acknowledged delete removed must
 * not come back. Seeded, so a failure names the seed that reproduces it.
 */
describe("embedded queues on a simulated disk that crashes", () => {
  it("acknowledges a deduplicated retry only once the first send is durable", async () => {
    const fs = new SimulatedFileSystem(1);
    const service = await EmbeddedQueueService.open(DIR, {
      fs,
      clock: new VirtualClock(),
      fsync: "always",
    });
    const { QueueUrl } = await service.createQueue({
      QueueName: "d.fifo",
      Attributes: { FifoQueue: "true" },
    });
    const send = {
      QueueUrl,
      MessageBody: "once",
      MessageGroupId: "g",
      MessageDeduplicationId: "once",
    };
    const acks: string[] = [];
    const first = service.sendMessage(send).then((r) => {
      acks.push("first");
      return r;
    });
    const retry = service.sendMessage(send).then((r) => {
      acks.push("retry");
      return r;
    });
    const [a, b] = await Promise.all([first, retry]);
    expect(b.MessageId).toBe(a.MessageId);
    expect(acks).toEqual(["first", "retry"]);
    await service.close();
  });

  for (let seed = 1; seed <= 25; seed++) {
    it(`keeps every acknowledged change through crashes and failed fsyncs (seed ${seed})`, async () => {
      const fs = new SimulatedFileSystem(seed);
      const random = seededRandom(seed * 7919);
      const clock = new VirtualClock();
      const open = (): Promise<EmbeddedQueueService> =>
        EmbeddedQueueService.open(DIR, {
          fs,
          clock,
          fsync: "always",
          segmentBytes: 2048,
          compactionIntervalMs: 500,
        });
      let service = await open();
      const urls: Record<string, string> = {};
      for (const name of QUEUES)
        urls[name] = (
          await service.createQueue({
            QueueName: name,
            Attributes: name.endsWith(".fifo") ? { FifoQueue: "true" } : {},
          })
        ).QueueUrl;
      const sent = new Map<string, string>();
      const deleteIssued = new Set<string>();
      const deleted = new Set<string>();
      let counter = 0;

      for (let round = 0; round < 6; round++) {
        const calls: Promise<unknown>[] = [];
        // Calls that fail with the crash are settled below; until then they must not count as
        // unhandled (fsyncs complete on later turns, so failures arrive before that).
        const track = (call: Promise<unknown>): void => {
          call.catch(() => undefined);
          calls.push(call);
        };
        const fifoThisRound: string[] = []; // inside one deduplication window
        const live = service;
        for (let op = 0; op < 30; op++) {
          const queue = QUEUES[Math.floor(random() * QUEUES.length)]!;
          const QueueUrl = urls[queue]!;
          if (random() < 0.55) {
            // Now and then a FIFO send is retried: the duplicate's ack must be as durable.
            const retry = queue.endsWith(".fifo") && fifoThisRound.length > 0 && random() < 0.2;
            const bodies = retry
              ? [fifoThisRound[Math.floor(random() * fifoThisRound.length)]!]
              : Array.from({ length: 1 + Math.floor(random() * 10) }, () => `m${counter++}`);
            if (queue.endsWith(".fifo") && !retry) fifoThisRound.push(...bodies);
            track(
              live
                .sendMessageBatch({
                  QueueUrl,
                  Entries: bodies.map((MessageBody, i) => ({
                    Id: `e${i}`,
                    MessageBody,
                    ...(queue.endsWith(".fifo")
                      ? {
                          MessageGroupId: `g${Number(MessageBody.slice(1)) % 3}`,
                          MessageDeduplicationId: MessageBody,
                        }
                      : {}),
                  })),
                })
                .then((r) => {
                  expect(r.Failed).toEqual([]);
                  for (const b of bodies) sent.set(b, queue);
                }),
            );
          } else {
            track(
              live
                .receiveMessage({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30 })
                .then(async ({ Messages }) => {
                  const doomed = Messages.filter(() => random() < 0.7);
                  if (doomed.length === 0) return;
                  for (const m of doomed) deleteIssued.add(m.Body);
                  await live.deleteMessageBatch({
                    QueueUrl,
                    Entries: doomed.map((m, i) => ({
                      Id: `d${i}`,
                      ReceiptHandle: m.ReceiptHandle,
                    })),
                  });
                  for (const m of doomed) deleted.add(m.Body);
                }),
            );
          }
          if (random() < 0.3) await Promise.resolve();
        }
        // Let part of the traffic complete, then pull the plug (or fail an fsync first).
        if (random() < 0.5)
          for (let turns = random() * 40; turns > 0; turns--) await Promise.resolve();
        else
          await Promise.race([Promise.allSettled(calls), clock.advance(Math.floor(random() * 3))]);
        if (random() < 0.3) {
          fs.failNextSyncs(1);
          await Promise.allSettled(calls.slice(-3));
        }
        fs.crash();
        fs.clearFaults();
        service.kill();
        await Promise.allSettled(calls);
        await clock.advance(60 * 60_000); // every in-flight message is visible again
        service = await open();
        await verify(service, urls, sent, deleteIssued, deleted);
      }
      expect(sent.size, "the simulation acknowledged some sends").toBeGreaterThan(20);
      await service.close();
    });
  }
});

async function verify(
  service: EmbeddedQueueService,
  urls: Record<string, string>,
  sent: Map<string, string>,
  deleteIssued: Set<string>,
  deleted: Set<string>,
): Promise<void> {
  const present = new Map<string, string>();
  for (const queue of QUEUES) {
    const messages = await peekAll(service, urls[queue]!);
    const groups = new Map<string, number>();
    for (const m of messages) {
      expect(present.has(m.Body), `${m.Body} present twice`).toBe(false);
      present.set(m.Body, queue);
      if (queue.endsWith(".fifo")) {
        const n = Number(m.Body.slice(1));
        const group = m.Attributes.MessageGroupId!;
        expect(n, `FIFO order in ${group}`).toBeGreaterThan(groups.get(group) ?? -1);
        groups.set(group, n);
      }
    }
  }
  for (const [body, queue] of sent)
    if (!deleteIssued.has(body))
      expect(present.get(body), `acknowledged ${body} is lost`).toBe(queue);
  for (const body of deleted) expect(present.has(body), `deleted ${body} came back`).toBe(false);
}
