import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { MessageMoveTask } from "../../messaging/queues/queue-service.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { LEASE_MS, NatsMoveTask } from "./nats-move-task.js";
import type { NatsQueue } from "./nats-queue.js";
import { NatsQueueService } from "./nats-queue-service.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";
import { eventually } from "./test-support/eventually.js";
import { startTestCluster } from "./test-support/nats-cluster.js";

// Move tasks shared by several processes (each its own connection and service) on one
// namespace, in real time: one process works a running task, every process lists and may
// cancel it, and another takes it over when its owner closes or stops renewing it.
let cluster: LoopbackNatsCluster | undefined;

const freshNamespace = (): string => `T${randomBytes(4).toString("hex")}`;

function openService(namespace: string): Promise<NatsQueueService> {
  return NatsQueueService.open({
    servers: cluster!.servers,
    replicas: 3,
    namespace,
    catalogBucket: "SLUICE_TESTS_catalog",
  });
}

const arnOf = (name: string): string => `arn:aws:sqs:us-east-1:000000000000:${name}`;

/** Messages `service` stored in the destination queue (each process has its own copy of it). */
function countSends(service: NatsQueueService, name: string): { moved: number; firstAt?: number } {
  const queue = (service as unknown as { queues: Map<string, NatsQueue> }).queues.get(name)!;
  const counted: { moved: number; firstAt?: number } = { moved: 0 };
  const send = queue.send.bind(queue);
  vi.spyOn(queue, "send").mockImplementation(async (sends, moveKeys) => {
    counted.firstAt ??= Date.now();
    counted.moved += sends.length;
    return send(sends, moveKeys);
  });
  return counted;
}

/**
 * A DLQ holding `n` messages (sent to it directly) and a destination for them, seen by every
 * service; returns the messages' ids.
 */
async function deadLetters(services: NatsQueueService[], n: number): Promise<string[]> {
  const [a] = services;
  const { QueueUrl: dlq } = await a!.createQueue({ QueueName: "dlq" });
  await a!.createQueue({
    QueueName: "src",
    Attributes: {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf("dlq"), maxReceiveCount: 1 }),
    },
  });
  await a!.createQueue({ QueueName: "dest" });
  const ids: string[] = [];
  for (let i = 0; i < n; i += 10) {
    const { Successful } = await a!.sendMessageBatch({
      QueueUrl: dlq,
      Entries: Array.from({ length: Math.min(10, n - i) }, (_, j) => ({
        Id: `e${j}`,
        MessageBody: `m${i + j}`,
      })),
    });
    ids.push(...Successful.map((s) => s.MessageId));
  }
  for (const service of services)
    await eventually(async () => {
      for (const name of ["dlq", "src", "dest"]) await service.getQueueUrl({ QueueName: name });
      const { Attributes } = await service.getQueueAttributes({
        QueueUrl: dlq,
        AttributeNames: ["ApproximateNumberOfMessages"],
      });
      expect(Attributes.ApproximateNumberOfMessages).toBe(String(n));
    });
  return ids;
}

async function taskIn(service: NatsQueueService, handle: string): Promise<MessageMoveTask> {
  const { Results } = await service.listMessageMoveTasks({ SourceArn: arnOf("dlq") });
  const task = Results.find((r) => r.TaskHandle === handle);
  if (task === undefined) throw new Error(`task ${handle} not listed`);
  return task;
}

/** The destination's message ids, each as often as it is there (received, not deleted). */
async function idsIn(service: NatsQueueService, name: string): Promise<string[]> {
  const { QueueUrl } = await service.getQueueUrl({ QueueName: name });
  const ids: string[] = [];
  for (let empty = 0; empty < 2;) {
    const { Messages } = await service.receiveMessage({
      QueueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 600,
      WaitTimeSeconds: 1,
    });
    if (Messages.length === 0) empty++;
    ids.push(...Messages.map((m) => m.MessageId));
  }
  return ids.sort();
}

async function visibleIn(service: NatsQueueService, name: string): Promise<number> {
  const { QueueUrl } = await service.getQueueUrl({ QueueName: name });
  const { Attributes } = await service.getQueueAttributes({
    QueueUrl,
    AttributeNames: ["ApproximateNumberOfMessages"],
  });
  return Number(Attributes.ApproximateNumberOfMessages);
}

describeWithNats("NATS move tasks across processes", () => {
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await cluster?.stop();
  });

  it("a task started in one process is listed by the others, and only its owner moves messages, at the task's rate", async () => {
    const namespace = freshNamespace();
    const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
    let c: NatsQueueService | undefined;
    try {
      const n = 40;
      const rate = 10;
      const ids = await deadLetters([a, b], n);
      const sentByA = countSends(a, "dest");
      const sentByB = countSends(b, "dest");
      const started = Date.now();
      const { TaskHandle } = await a.startMessageMoveTask({
        SourceArn: arnOf("dlq"),
        DestinationArn: arnOf("dest"),
        MaxNumberOfMessagesPerSecond: rate,
      });
      const seen = await eventually(() => taskIn(b, TaskHandle));
      expect(seen).toMatchObject({ Status: "RUNNING", ApproximateNumberOfMessagesToMove: n });
      // A third process opening mid-task restores it owned by a: it follows and does not move.
      c = await openService(namespace);
      const sentByC = countSends(c, "dest");
      await sleep(1500);
      const progress = (await taskIn(b, TaskHandle)).ApproximateNumberOfMessagesMoved;
      expect(progress).toBeGreaterThan(0);
      expect(progress).toBeLessThan(n);
      await eventually(async () => {
        expect((await taskIn(c!, TaskHandle)).ApproximateNumberOfMessagesMoved).toBeGreaterThan(
          progress,
        );
      });
      // At `rate` a second the n messages take n / rate seconds; each of three processes moving
      // at that rate would take a third.
      await eventually(async () => expect(await visibleIn(a, "dlq")).toBe(0), 10_000);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(((n / rate) * 1000 * 9) / 10);
      for (const service of [a, b, c])
        await eventually(async () =>
          expect(await taskIn(service, TaskHandle)).toMatchObject({
            Status: "COMPLETED",
            ApproximateNumberOfMessagesMoved: n,
          }),
        );
      expect(sentByA.moved).toBe(n);
      expect(sentByB.moved).toBe(0);
      expect(sentByC.moved).toBe(0);
      expect(await idsIn(b, "dest")).toEqual([...ids].sort());
      expect(await visibleIn(b, "dlq")).toBe(0);
    } finally {
      vi.restoreAllMocks();
      await Promise.all([a.close(), b.close(), c?.close()]);
    }
  }, 60_000);

  it("another process cancels a task: its owner stops moving and every process lists it CANCELLED", async () => {
    const namespace = freshNamespace();
    const services = await Promise.all([0, 1, 2].map(() => openService(namespace)));
    const [a, b, c] = services as [NatsQueueService, NatsQueueService, NatsQueueService];
    try {
      const n = 100;
      await deadLetters(services, n);
      const sentByA = countSends(a, "dest");
      const { TaskHandle } = await a.startMessageMoveTask({
        SourceArn: arnOf("dlq"),
        DestinationArn: arnOf("dest"),
        MaxNumberOfMessagesPerSecond: 10,
      });
      await eventually(() => taskIn(b, TaskHandle));
      await sleep(1500);
      const { ApproximateNumberOfMessagesMoved: movedAtCancel } = await b.cancelMessageMoveTask({
        TaskHandle,
      });
      expect(movedAtCancel).toBeGreaterThan(0);
      for (const service of services)
        await eventually(async () =>
          expect((await taskIn(service, TaskHandle)).Status).toBe("CANCELLED"),
        );
      // a may finish the batch it was moving when it heard: then nothing more.
      const movedByA = sentByA.moved;
      expect(movedByA).toBeLessThanOrEqual(movedAtCancel + 10);
      await sleep(2000);
      expect(sentByA.moved).toBe(movedByA);
      expect(await visibleIn(a, "dest")).toBe(movedByA);
      expect(await visibleIn(a, "dlq")).toBe(n - movedByA);
      await expect(b.cancelMessageMoveTask({ TaskHandle })).rejects.toMatchObject({
        sqsError: "UnsupportedOperation",
      });
      expect((await taskIn(c, TaskHandle)).Status).toBe("CANCELLED");
    } finally {
      vi.restoreAllMocks();
      await Promise.all(services.map((s) => s.close()));
    }
  }, 60_000);

  it("of two processes starting a task on one DLQ at once, one starts it and the other is refused", async () => {
    const namespace = freshNamespace();
    const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
    try {
      await deadLetters([a, b], 20);
      for (let round = 0; round < 3; round++) {
        const starts = await Promise.allSettled(
          [a, b].map((service) =>
            service.startMessageMoveTask({
              SourceArn: arnOf("dlq"),
              DestinationArn: arnOf("dest"),
              MaxNumberOfMessagesPerSecond: 1,
            }),
          ),
        );
        const started = starts.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
        const refused = starts.flatMap((s) =>
          s.status === "rejected" ? [s.reason as unknown] : [],
        );
        expect(started).toHaveLength(1);
        expect(refused).toMatchObject([{ sqsError: "UnsupportedOperation", field: "SourceArn" }]);
        // Cancelled (from either process), the queue takes a new task.
        const { TaskHandle } = started[0]!;
        await eventually(() => [a, b][round % 2]!.cancelMessageMoveTask({ TaskHandle }));
        for (const service of [a, b])
          await eventually(async () =>
            expect(await taskIn(service, TaskHandle)).toMatchObject({ Status: "CANCELLED" }),
          );
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("the owner closes mid-task: another process carries it on at once and completes it, nothing lost or moved twice", async () => {
    await ownerGoneMidTask("close");
  }, 60_000);

  it("the owner stops renewing mid-task (a crash): another process takes it over after the lease", async () => {
    await ownerGoneMidTask("crash");
  }, 60_000);

  it("a deleted source queue takes its task away in every process", async () => {
    const namespace = freshNamespace();
    const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
    try {
      await deadLetters([a, b], 20);
      const { TaskHandle } = await a.startMessageMoveTask({
        SourceArn: arnOf("dlq"),
        DestinationArn: arnOf("dest"),
        MaxNumberOfMessagesPerSecond: 1,
      });
      await eventually(() => taskIn(b, TaskHandle));
      await b.deleteQueue({ QueueUrl: (await b.getQueueUrl({ QueueName: "dlq" })).QueueUrl });
      await eventually(async () =>
        expect(
          (a as unknown as { moveTasks: Map<string, unknown> }).moveTasks.has(TaskHandle),
        ).toBe(false),
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});

/**
 * a works a task and goes away mid-task: closed (it leaves the task ownerless) or crashed (it
 * stops without a word, so b waits out the lease); b completes the task.
 */
async function ownerGoneMidTask(how: "close" | "crash"): Promise<void> {
  const namespace = freshNamespace();
  const [a, b] = await Promise.all([openService(namespace), openService(namespace)]);
  try {
    const n = 60;
    const ids = await deadLetters([a, b], n);
    const sentByB = countSends(b, "dest");
    const { TaskHandle } = await a.startMessageMoveTask({
      SourceArn: arnOf("dlq"),
      DestinationArn: arnOf("dest"),
      MaxNumberOfMessagesPerSecond: 20,
    });
    await eventually(() => taskIn(b, TaskHandle));
    await sleep(1000);
    // A crash: the task stops where it is, its record still naming a.
    const crash =
      how === "crash"
        ? vi.spyOn(NatsMoveTask.prototype, "release").mockImplementation(function (
            this: NatsMoveTask,
          ) {
            this.stop();
            return this.done;
          })
        : undefined;
    const goneAt = Date.now();
    await a.close();
    crash?.mockRestore();
    const before = await taskIn(b, TaskHandle);
    expect(before.Status).toBe("RUNNING");
    expect(before.ApproximateNumberOfMessagesMoved).toBeLessThan(n);
    await eventually(
      async () =>
        expect(await taskIn(b, TaskHandle)).toMatchObject({
          Status: "COMPLETED",
          ApproximateNumberOfMessagesMoved: n,
        }),
      20_000,
    );
    const takenAfter = sentByB.firstAt! - goneAt;
    if (how === "close") expect(takenAfter).toBeLessThan(2000);
    else {
      expect(takenAfter).toBeGreaterThanOrEqual(LEASE_MS - 1000);
      expect(takenAfter).toBeLessThan(LEASE_MS + 3000);
    }
    expect(await idsIn(b, "dest")).toEqual([...ids].sort());
    expect(await visibleIn(b, "dlq")).toBe(0);
  } finally {
    vi.restoreAllMocks();
    await Promise.all([a.close(), b.close()]);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
