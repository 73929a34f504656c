import { randomBytes } from "node:crypto";
import type { JetStreamClient } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NatsQueueService } from "./nats-queue-service.js";
import { QueueStream, type StreamAddress } from "./queue-stream.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";
import { reconnected } from "./test-support/reconnected.js";

// A queue's tail (the consumer that brings every process the queue's entries) can stay alive,
// answering its pulls with heartbeats, and still bring nothing: after a stream leader's death
// it may live on a server whose copy of the stream no longer follows (a CI run saw deliveries
// stop for good that way). Here the next tail a process makes is a real consumer of another,
// empty stream: alive and silent. The process must notice that the queue's stream holds entries
// its tail does not bring, and make a new tail, whether the entries are its own or another's.
/** A stuck tail is replaced after 2.5 s without entries; a new one takes a moment to make. */
const RECOVERY_MS = 8000;
/** A send and a receive read back from the stream's leader (200 ms of idle pauses at most). */
const LEADER_AT_ONCE_MS = 1200;

type Subscribe = (js: JetStreamClient, address: StreamAddress, seq: number) => Promise<unknown>;
const tails = QueueStream as unknown as { subscribe: Subscribe };

/** Makes the next tail any process makes here follow an empty decoy stream instead. */
function nextTailStuck(): void {
  const original = tails.subscribe;
  tails.subscribe = async (js, address, seq) => {
    tails.subscribe = original;
    const decoy = { stream: `${address.stream}_DECOY`, subject: `${address.subject}.decoy` };
    const jsm = await js.jetstreamManager(false);
    await jsm.streams.add({ name: decoy.stream, subjects: [decoy.subject] });
    return original(js, decoy, seq);
  };
}

/** A service's queues past their privacy, for what no caller does: compact, replace a tail. */
function internals(service: NatsQueueService): {
  queues: Map<string, { compact(): Promise<void>; stream: { replaceTail(): void } }>;
} {
  return service as never;
}

describeWithNats("NATS queue tails that bring nothing", () => {
  let cluster: LoopbackNatsCluster;
  const original = tails.subscribe;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    tails.subscribe = original;
    await cluster?.stop();
  });

  const open = (namespace: string): Promise<NatsQueueService> =>
    NatsQueueService.open({
      servers: cluster.servers,
      namespace,
      catalogBucket: "SLUICE_TAIL_catalog",
    });

  it("a process whose tail brings nothing gets its own send back within seconds", async () => {
    const service = await open(`S${randomBytes(4).toString("hex")}`);
    try {
      nextTailStuck();
      const { QueueUrl } = await service.createQueue({ QueueName: "own" });
      await service.sendMessage({ QueueUrl, MessageBody: "mine" });
      const started = Date.now();
      const { Messages } = await service.receiveMessage({ QueueUrl, WaitTimeSeconds: 10 });
      expect(Messages.map((m) => m.Body)).toEqual(["mine"]);
      expect(Date.now() - started).toBeLessThan(RECOVERY_MS);
    } finally {
      tails.subscribe = original;
      await service.close();
    }
  });

  it("a process whose tail brings nothing receives what another process sends within seconds", async () => {
    const namespace = `S${randomBytes(4).toString("hex")}`;
    const sender = await open(namespace);
    const { QueueUrl } = await sender.createQueue({ QueueName: "shared" });
    nextTailStuck();
    const receiver = await open(namespace);
    try {
      tails.subscribe = original;
      await sender.sendMessage({ QueueUrl, MessageBody: "theirs" });
      const started = Date.now();
      const { Messages } = await receiver.receiveMessage({ QueueUrl, WaitTimeSeconds: 10 });
      expect(Messages.map((m) => m.Body)).toEqual(["theirs"]);
      expect(Date.now() - started).toBeLessThan(RECOVERY_MS);
    } finally {
      tails.subscribe = original;
      await Promise.all([sender.close(), receiver.close()]);
    }
  });

  // Compaction purges the entries before the oldest message still live. A process whose tail is
  // stuck meanwhile comes back past a gap: the delete of a message it held was purged, and the
  // message must be forgotten, not handed to a receiver.
  it("a process whose tail fell behind a compaction never receives a message deleted meanwhile", async () => {
    const namespace = `S${randomBytes(4).toString("hex")}`;
    const sender = await open(namespace);
    const receiver = await open(namespace);
    try {
      const { QueueUrl } = await sender.createQueue({ QueueName: "compacted" });
      await sender.sendMessage({ QueueUrl, MessageBody: "deleted" });
      await expect
        .poll(
          async () =>
            (
              await receiver.getQueueAttributes({
                QueueUrl,
                AttributeNames: ["ApproximateNumberOfMessages"],
              })
            ).Attributes.ApproximateNumberOfMessages,
          { timeout: 5000 },
        )
        .toBe("1");
      // The receiver's tail is replaced by one that brings nothing: it falls behind.
      nextTailStuck();
      internals(receiver).queues.get("compacted")!.stream.replaceTail();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const [taken] = (await sender.receiveMessage({ QueueUrl })).Messages;
      await sender.deleteMessage({ QueueUrl, ReceiptHandle: taken!.ReceiptHandle });
      await sender.sendMessage({ QueueUrl, MessageBody: "kept" });
      // Two rounds: compaction purges what a round before found dead.
      const queue = internals(sender).queues.get("compacted")!;
      await queue.compact();
      await queue.compact();
      const { Messages } = await receiver.receiveMessage({ QueueUrl, WaitTimeSeconds: 10 });
      expect(Messages.map((m) => m.Body)).toEqual(["kept"]);
    } finally {
      tails.subscribe = original;
      await Promise.all([sender.close(), receiver.close()]);
    }
  });

  // No consumer can be made while the meta leader is being elected again after its death; the
  // stream's own leader still answers reads of single entries.
  it("a process that can make no new tail applies the entries it reads from the stream's leader", async () => {
    const namespace = `S${randomBytes(4).toString("hex")}`;
    const sender = await open(namespace);
    const { QueueUrl } = await sender.createQueue({ QueueName: "leader" });
    nextTailStuck();
    const receiver = await open(namespace);
    try {
      tails.subscribe = () => new Promise(() => undefined);
      await sender.sendMessageBatch({
        QueueUrl,
        Entries: ["a", "b", "c"].map((body) => ({ Id: body, MessageBody: body })),
      });
      const started = Date.now();
      const bodies: string[] = [];
      while (bodies.length < 3 && Date.now() - started < RECOVERY_MS) {
        const { Messages } = await receiver.receiveMessage({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        });
        bodies.push(...Messages.map((m) => m.Body));
      }
      expect(bodies.sort()).toEqual(["a", "b", "c"]);
    } finally {
      tails.subscribe = original;
      await Promise.all([sender.close(), receiver.close()]);
    }
  });

  // After a reconnect the tail's consumer may have died with its server, and while the stream's
  // new leader is being elected no consumer can be made: the stream is followed on its leader
  // at once, so reading resumes with writing (it waited 1.5 s more before).
  it("after a reconnect, a process that can make no new tail reads from the stream's leader at once", async () => {
    const namespace = `S${randomBytes(4).toString("hex")}`;
    const sender = await open(namespace);
    const { QueueUrl } = await sender.createQueue({ QueueName: "reconnected" });
    // Reconnects at once (to the same server, which the client otherwise waits 2 s to try).
    const connection = await connect({ servers: cluster.servers.split(","), reconnectTimeWait: 0 });
    const receiver = await NatsQueueService.open({
      connection,
      namespace,
      catalogBucket: "SLUICE_TAIL_catalog",
    });
    try {
      await receiver.getQueueUrl({ QueueName: "reconnected" }); // its stream is open
      tails.subscribe = () => new Promise(() => undefined);
      await reconnected(connection);
      const started = Date.now();
      await sender.sendMessage({ QueueUrl, MessageBody: "after" });
      const { Messages } = await receiver.receiveMessage({ QueueUrl, WaitTimeSeconds: 5 });
      expect(Messages.map((m) => m.Body)).toEqual(["after"]);
      expect(Date.now() - started).toBeLessThan(LEADER_AT_ONCE_MS);
    } finally {
      tails.subscribe = original;
      await Promise.all([sender.close(), receiver.close()]);
      await connection.close();
    }
  });
});
