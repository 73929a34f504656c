import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { describeQueueConformance } from "../../messaging/queues/conformance.js";
import type { Message, QueueService } from "../../messaging/queues/queue-service.js";
import type { Clock } from "../../time/index.js";
import { NatsCatalog } from "./nats-catalog.js";
import { NatsQueueService } from "./nats-queue-service.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";
import { eventually } from "./test-support/eventually.js";

// The queue conformance suite against a 3-node JetStream cluster started for this file, plus
// what the suite's virtual clock cannot show: several processes (each its own connection and
// service) sharing queues in real time. Each test gets its own namespace (fresh streams).
// Streams are replicated SLUICE_NATS_REPLICAS times, by default 3, as the scale-out is meant
// to run (about three times as long as with 1).
const replicas = Number(process.env.SLUICE_NATS_REPLICAS ?? "3");
let cluster: LoopbackNatsCluster | undefined;
const namespaceOf = new WeakMap<QueueService, string>();

const freshNamespace = (): string => `T${randomBytes(4).toString("hex")}`;

interface ServiceOptions {
  clock?: Clock;
  replicas?: number;
  heldPayloadBytes?: number;
}

async function openService(
  namespace: string,
  options: ServiceOptions = {},
): Promise<NatsQueueService> {
  const service = await NatsQueueService.open({
    servers: cluster!.servers,
    replicas: options.replicas ?? replicas,
    namespace,
    catalogBucket: "SLUICE_TESTS_catalog",
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.heldPayloadBytes === undefined
      ? {}
      : { heldPayloadBytes: options.heldPayloadBytes }),
  });
  namespaceOf.set(service, namespace);
  return service;
}

const ROUND_TRIP =
  "a long poll woken by a send, a timer or a delete needs a network round trip to claim the " +
  "message, and the suite gives it one event-loop turn (the delete cases passed 3 runs of 4 " +
  "here: a race, not a result); nats-queue-service.int.test.ts shows the same wake-ups in real " +
  "time across processes";

const SKIPS = {
  "a waiting receive resolves as soon as a message is sent": ROUND_TRIP,
  "a waiting receive returns a delayed message when it becomes due": ROUND_TRIP,
  "a long poll waiting on a group blocked by its in-flight head returns when deleteMessage deletes the head":
    ROUND_TRIP,
  "a long poll waiting on a group blocked by its in-flight head returns when deleteMessageBatch deletes the head":
    ROUND_TRIP,
};

describeWithNats("NATS JetStream queues", () => {
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const conformance = (name: string, options: ServiceOptions): void =>
    describeQueueConformance({
      name,
      open: (clock) => openService(freshNamespace(), { ...options, clock }),
      async reopen(service, clock) {
        const namespace = namespaceOf.get(service);
        if (namespace === undefined) throw new Error("reopen: not a service this harness opened");
        await service.close();
        return openService(namespace, { ...options, clock });
      },
      skips: SKIPS,
    });
  conformance(`NATS JetStream, 3 nodes, replicas ${replicas}`, {});
  // Every body and attribute read back from the streams when received, peeked at or moved, as
  // a process past its payload budget does (replicas 1: the reads, not replication, are tested).
  conformance("NATS JetStream, payloads held in the streams only", {
    heldPayloadBytes: 0,
    replicas: 1,
  });

  describe("several processes in real time", () => {
    it("a long poll in one process wakes when another sends, and when a delay ends", async () => {
      const namespace = freshNamespace();
      const a = await openService(namespace);
      const b = await openService(namespace);
      try {
        const { QueueUrl } = await a.createQueue({ QueueName: "wake" });
        await eventually(() => b.getQueueUrl({ QueueName: "wake" }));
        const started = Date.now();
        const poll = a.receiveMessage({ QueueUrl, WaitTimeSeconds: 10 });
        await sleep(300);
        await b.sendMessage({ QueueUrl, MessageBody: "from b" });
        expect((await poll).Messages.map((m) => m.Body)).toEqual(["from b"]);
        // Woken by the send, well before its 10 s wait (the bound leaves room for a loaded
        // machine: the other process's send crosses a 3-node cluster first).
        const waited = Date.now() - started;
        expect(waited).toBeGreaterThanOrEqual(300);
        expect(waited).toBeLessThan(5000);
        await b.sendMessage({ QueueUrl, MessageBody: "delayed", DelaySeconds: 1 });
        const delayedAt = Date.now();
        const late = await a.receiveMessage({ QueueUrl, WaitTimeSeconds: 10 });
        expect(late.Messages.map((m) => m.Body)).toEqual(["delayed"]);
        expect(Date.now() - delayedAt).toBeGreaterThanOrEqual(900);
        expect(Date.now() - delayedAt).toBeLessThan(5000);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it("a long poll on a FIFO group blocked by its in-flight head returns when another process deletes the head", async () => {
      const namespace = freshNamespace();
      const a = await openService(namespace);
      const b = await openService(namespace);
      try {
        const { QueueUrl } = await a.createQueue({
          QueueName: "blocked.fifo",
          Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
        });
        await eventually(() => b.getQueueUrl({ QueueName: "blocked.fifo" }));
        for (const body of ["a1", "a2"])
          await a.sendMessage({ QueueUrl, MessageBody: body, MessageGroupId: "A" });
        // A long poll: b sees a's sends once its copy of the stream has them (a short receive
        // in the moment between may rightly find nothing, as SQS's short polls may).
        const [head] = (await b.receiveMessage({ QueueUrl, WaitTimeSeconds: 5 })).Messages;
        expect(head?.Body).toBe("a1");
        const started = Date.now();
        const poll = a.receiveMessage({ QueueUrl, WaitTimeSeconds: 10 });
        await sleep(500);
        await b.deleteMessage({ QueueUrl, ReceiptHandle: head!.ReceiptHandle });
        expect((await poll).Messages.map((m) => m.Body)).toEqual(["a2"]);
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it("competing consumers in three processes receive every message once", async () => {
      const namespace = freshNamespace();
      const services = await Promise.all([0, 1, 2].map(() => openService(namespace)));
      try {
        const [producer] = services;
        const { QueueUrl } = await producer!.createQueue({
          QueueName: "work",
          Attributes: { VisibilityTimeout: "60" },
        });
        for (const s of services) await eventually(() => s.getQueueUrl({ QueueName: "work" }));
        const total = 300;
        for (let i = 0; i < total; i += 10)
          await producer!.sendMessageBatch({
            QueueUrl,
            Entries: Array.from({ length: 10 }, (_, j) => ({
              Id: `e${j}`,
              MessageBody: `m${i + j}`,
            })),
          });
        const seen = new Map<string, number>();
        const consume = async (service: NatsQueueService): Promise<void> => {
          for (let empty = 0; empty < 3;) {
            const { Messages } = await service.receiveMessage({
              QueueUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
            });
            if (Messages.length === 0) empty++;
            for (const m of Messages) seen.set(m.Body, (seen.get(m.Body) ?? 0) + 1);
            await deleteAll(service, QueueUrl, Messages);
          }
        };
        await Promise.all(services.map(consume));
        expect(seen.size).toBe(total);
        expect([...seen.values()].every((n) => n === 1)).toBe(true);
      } finally {
        await Promise.all(services.map((s) => s.close()));
      }
    });

    it("a FIFO group is delivered in order across processes, one message in flight at a time", async () => {
      const namespace = freshNamespace();
      const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
      try {
        const { QueueUrl } = await a.createQueue({
          QueueName: "orders.fifo",
          Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
        });
        await eventually(() => b.getQueueUrl({ QueueName: "orders.fifo" }));
        for (let i = 0; i < 40; i++)
          await a.sendMessage({ QueueUrl, MessageBody: `m${i}`, MessageGroupId: `g${i % 2}` });
        const order: string[] = [];
        const consume = async (service: NatsQueueService): Promise<void> => {
          for (let empty = 0; empty < 3;) {
            const { Messages } = await service.receiveMessage({
              QueueUrl,
              MaxNumberOfMessages: 1,
              WaitTimeSeconds: 1,
            });
            if (Messages.length === 0) empty++;
            for (const m of Messages) order.push(m.Body);
            await deleteAll(service, QueueUrl, Messages);
          }
        };
        await Promise.all([consume(a), consume(b)]);
        for (const group of [0, 1]) {
          const expected = Array.from({ length: 20 }, (_, i) => `m${2 * i + group}`);
          expect(order.filter((body) => Number(body.slice(1)) % 2 === group)).toEqual(expected);
        }
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it("a queue deleted while its edits' echoes are on their way stays deleted in every process", async () => {
      const namespace = freshNamespace();
      const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
      try {
        for (let round = 0; round < 8; round++) {
          const name = `raced-${round}`;
          const { QueueUrl } = await a.createQueue({ QueueName: name });
          const edits = Promise.allSettled([
            a.setQueueAttributes({ QueueUrl, Attributes: { VisibilityTimeout: "40" } }),
            a.tagQueue({ QueueUrl, Tags: { late: "1" } }),
          ]);
          await a.deleteQueue({ QueueUrl });
          await edits;
          // The watch brings the edits' writes after the delete made here: they must not open
          // the queue again, here or in the other process, which hears them all in order.
          for (let look = 0; look < 5; look++) {
            expect((await a.listQueues()).QueueUrls).toEqual([]);
            await sleep(40);
          }
          await eventually(async () => expect((await b.listQueues()).QueueUrls).toEqual([]));
        }
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it("a handle from a receive in one process deletes and changes the message through another at once", async () => {
      const namespace = freshNamespace();
      const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
      try {
        const { QueueUrl } = await a.createQueue({
          QueueName: "handed-over",
          Attributes: { VisibilityTimeout: "30" },
        });
        await eventually(() => b.getQueueUrl({ QueueName: "handed-over" }));
        const rounds = 20;
        for (let i = 0; i < rounds; i++) {
          await a.sendMessage({ QueueUrl, MessageBody: `m${i}` });
          const [received] = (await b.receiveMessage({ QueueUrl, WaitTimeSeconds: 5 })).Messages;
          // At once through a, whose copy of the stream may not have b's receive yet.
          if (i % 2 === 0) {
            await a.deleteMessage({ QueueUrl, ReceiptHandle: received!.ReceiptHandle });
            continue;
          }
          await a.changeMessageVisibility({
            QueueUrl,
            ReceiptHandle: received!.ReceiptHandle,
            VisibilityTimeout: 0,
          });
          // Visible again at once, not 30 s later.
          const [again] = (await a.receiveMessage({ QueueUrl, WaitTimeSeconds: 5 })).Messages;
          expect(again?.Body).toBe(`m${i}`);
          await a.deleteMessageBatch({
            QueueUrl,
            Entries: [{ Id: "x", ReceiptHandle: again!.ReceiptHandle }],
          });
        }
        const { Attributes } = await a.getQueueAttributes({
          QueueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        });
        expect(Attributes).toEqual({
          ApproximateNumberOfMessages: "0",
          ApproximateNumberOfMessagesNotVisible: "0",
        });
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it("a FIFO receive retried in another process with its ReceiveRequestAttemptId gets the same messages and handles", async () => {
      const namespace = freshNamespace();
      const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
      try {
        const { QueueUrl } = await a.createQueue({
          QueueName: "retried.fifo",
          Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
        });
        await eventually(() => b.getQueueUrl({ QueueName: "retried.fifo" }));
        for (const group of ["g1", "g2", "g3"])
          await a.sendMessage({ QueueUrl, MessageBody: group, MessageGroupId: group });
        const attempt = { QueueUrl, MaxNumberOfMessages: 2, ReceiveRequestAttemptId: "retry-1" };
        const first = await a.receiveMessage(attempt);
        expect(first.Messages.map((m) => m.Body)).toEqual(["g1", "g2"]);
        // The caller lost a's answer and retries through b at once, whose copy of the stream
        // may not have a's receive yet.
        const retried = await b.receiveMessage({ ...attempt, MaxNumberOfMessages: 10 });
        expect(retried.Messages.map((m) => [m.MessageId, m.ReceiptHandle])).toEqual(
          first.Messages.map((m) => [m.MessageId, m.ReceiptHandle]),
        );
        // Another attempt is another receive: only g3 is left to take.
        const other = await b.receiveMessage({
          QueueUrl,
          MaxNumberOfMessages: 10,
          ReceiveRequestAttemptId: "retry-2",
        });
        expect(other.Messages.map((m) => m.Body)).toEqual(["g3"]);
        await deleteAll(a, QueueUrl, [...retried.Messages, ...other.Messages]);
        await eventually(async () =>
          expect(
            (
              await b.getQueueAttributes({
                QueueUrl,
                AttributeNames: ["ApproximateNumberOfMessagesNotVisible"],
              })
            ).Attributes,
          ).toEqual({ ApproximateNumberOfMessagesNotVisible: "0" }),
        );
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it("edits computed from the stored attributes, made at once from two processes, are all kept", async () => {
      const namespace = freshNamespace();
      const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
      try {
        const { QueueUrl } = await a.createQueue({ QueueName: "policy" });
        await eventually(() => b.getQueueUrl({ QueueName: "policy" }));
        // As AddPermission does: read the stored Policy, add a statement, write it whole.
        const addStatement = (service: NatsQueueService, sid: string) =>
          service.editQueueAttributes(QueueUrl, (current) => {
            const policy = JSON.parse(current.Policy ?? '{"Statement":[]}') as {
              Statement: { Sid: string }[];
            };
            return { Policy: JSON.stringify({ Statement: [...policy.Statement, { Sid: sid }] }) };
          });
        await Promise.all(
          Array.from({ length: 6 }, (_, n) => addStatement(n % 2 === 0 ? a : b, `s${n}`)),
        );
        // a hears b's last edit through the catalog's watch, a moment later.
        await eventually(async () => {
          const { Attributes } = await a.getQueueAttributes({
            QueueUrl,
            AttributeNames: ["Policy"],
          });
          const policy = JSON.parse(Attributes.Policy!) as { Statement: { Sid: string }[] };
          expect(policy.Statement.map((s) => s.Sid).sort()).toEqual([
            "s0",
            "s1",
            "s2",
            "s3",
            "s4",
            "s5",
          ]);
        });
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it("tag and attribute edits made at once from two processes are all kept", async () => {
      const namespace = freshNamespace();
      const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
      try {
        const { QueueUrl } = await a.createQueue({ QueueName: "edited" });
        await eventually(() => b.getQueueUrl({ QueueName: "edited" }));
        const tags = (n: number): Record<string, string> => ({ [`k${n}`]: `v${n}` });
        await Promise.all([
          ...Array.from({ length: 6 }, (_, n) =>
            (n % 2 === 0 ? a : b).tagQueue({ QueueUrl, Tags: tags(n) }),
          ),
          a.setQueueAttributes({ QueueUrl, Attributes: { VisibilityTimeout: "45" } }),
          b.setQueueAttributes({ QueueUrl, Attributes: { DelaySeconds: "3" } }),
        ]);
        const expected: Record<string, string> = {};
        for (let n = 0; n < 6; n++) Object.assign(expected, tags(n));
        for (const service of [a, b]) {
          // b hears a's last edit through the catalog's watch, a moment later.
          await eventually(async () => {
            expect((await service.listQueueTags({ QueueUrl })).Tags).toEqual(expected);
            const { Attributes } = await service.getQueueAttributes({
              QueueUrl,
              AttributeNames: ["VisibilityTimeout", "DelaySeconds"],
            });
            expect(Attributes).toEqual({ VisibilityTimeout: "45", DelaySeconds: "3" });
          });
        }
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it("an edit's answer arriving after a later edit from another process does not undo it", async () => {
      const namespace = freshNamespace();
      const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
      // eslint-disable-next-line @typescript-eslint/unbound-method -- applied to the catalog below
      const update = NatsCatalog.prototype.update;
      try {
        const { QueueUrl } = await a.createQueue({ QueueName: "raced" });
        await eventually(() => b.getQueueUrl({ QueueName: "raced" }));
        const attributesAt = async (service: QueueService) =>
          (
            await service.getQueueAttributes({
              QueueUrl,
              AttributeNames: ["VisibilityTimeout", "DelaySeconds"],
            })
          ).Attributes;
        // b's edit is stored, then, before its answer is applied in b, a edits on top of it and
        // b's watch brings that: the order the race in CI took.
        vi.spyOn(NatsCatalog.prototype, "update").mockImplementationOnce(async function (
          this: NatsCatalog,
          ...args: Parameters<NatsCatalog["update"]>
        ) {
          const stored = await update.apply(this, args);
          await a.setQueueAttributes({ QueueUrl, Attributes: { VisibilityTimeout: "45" } });
          await eventually(async () =>
            expect((await attributesAt(b)).VisibilityTimeout).toBe("45"),
          );
          return stored;
        });
        await b.setQueueAttributes({ QueueUrl, Attributes: { DelaySeconds: "3" } });
        expect(await attributesAt(b)).toEqual({ VisibilityTimeout: "45", DelaySeconds: "3" });
      } finally {
        vi.restoreAllMocks();
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});

async function deleteAll(service: QueueService, QueueUrl: string, messages: Message[]) {
  if (messages.length === 0) return;
  const result = await service.deleteMessageBatch({
    QueueUrl,
    Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
  });
  expect(result.Failed).toEqual([]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
