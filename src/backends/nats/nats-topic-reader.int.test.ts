import { randomBytes } from "node:crypto";
import type { JetStreamClient } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { ConsumerRecord } from "../../messaging/topics/topic-consumer.js";
import { LeaderReads } from "./leader-reads.js";
import { NatsTopicService } from "./nats-topic-service.js";
import { PartitionReader } from "./partition-reader.js";
import type { PartitionAddress } from "./partition-stream.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";
import { reconnected } from "./test-support/reconnected.js";

// A partition's reader is an ordered consumer, made on the servers when the reader starts. A
// loaded cluster can take seconds to make one (the queues' tails met that: their attempts gave
// up after 2 s and none ever succeeded). Here every reader takes 4 s to make, longer than a poll
// waits for records the stream has before it starts its reader again: the records must still
// come, rather than each new start abandoning the one about to succeed.
const SLOW_START_MS = 4000;
/** A write and a read from the stream's leader (one 100 ms idle pause at most), with room. */
const LEADER_AT_ONCE_MS = 700;

type Subscribe = (
  js: JetStreamClient,
  address: PartitionAddress,
  offset: number,
) => Promise<unknown>;
const readers = PartitionReader as unknown as { subscribe: Subscribe };

describeWithNats("NATS partition readers", () => {
  let cluster: LoopbackNatsCluster;
  const original = readers.subscribe;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    readers.subscribe = original;
    await cluster?.stop();
  });

  it("a reader whose consumer takes 4 s to make still brings the records", async () => {
    const service = await NatsTopicService.open({
      servers: cluster.servers,
      namespace: `R${randomBytes(4).toString("hex")}`,
    });
    const consumer = service.consumer({ groupId: "g", autoOffsetReset: "earliest" });
    // Only a consumer brings records here (not the reads from the leader meanwhile).
    const leaderReads = vi.spyOn(LeaderReads.prototype, "after").mockResolvedValue([]);
    try {
      await service.admin.createTopic({ name: "slow", partitions: 1 });
      const producer = service.producer();
      await producer.sendBatch([0, 1, 2].map((i) => ({ topic: "slow", value: `${i}` })));
      await producer.close();
      readers.subscribe = async (js, address, offset) => {
        await new Promise((resolve) => setTimeout(resolve, SLOW_START_MS));
        return original(js, address, offset);
      };

      await consumer.subscribe(["slow"]);
      const read: ConsumerRecord[] = [];
      const deadline = Date.now() + 20_000;
      while (read.length < 3 && Date.now() < deadline)
        read.push(...(await consumer.poll({ timeoutMs: 500 })));
      expect(read.map((r) => r.value?.toString())).toEqual(["0", "1", "2"]);
    } finally {
      readers.subscribe = original;
      leaderReads.mockRestore();
      await consumer.close();
      await service.close();
    }
  });

  // When the server that places consumers (the meta leader) dies, none can be made until the
  // others elect another; the stream's own leader still answers reads of single records.
  it("a reader whose consumer cannot be made reads from the stream's leader: in order, once each, from the log start", async () => {
    const namespace = `R${randomBytes(4).toString("hex")}`;
    const service = await NatsTopicService.open({ servers: cluster.servers, namespace });
    const consumer = service.consumer({ groupId: "g", autoOffsetReset: "earliest" });
    const producer = service.producer({ lingerMs: 0 });
    try {
      await service.admin.createTopic({ name: "stuck", partitions: 1 });
      await producer.sendBatch(range(0, 100).map((i) => ({ topic: "stuck", value: `${i}` })));
      // The first 40 are gone by the time the reader starts, as retention would drop them.
      await service.admin.deleteRecords("stuck", 0, 40);
      readers.subscribe = () => new Promise(() => undefined);
      await consumer.subscribe(["stuck"]);
      const read: string[] = [];
      const deadline = Date.now() + 20_000;
      let sentMore = false;
      while (read.length < 110 && Date.now() < deadline) {
        read.push(...(await consumer.poll({ timeoutMs: 500 })).map((r) => r.value!.toString()));
        if (read.length >= 60 && !sentMore) {
          sentMore = true;
          await producer.sendBatch(range(100, 150).map((i) => ({ topic: "stuck", value: `${i}` })));
        }
      }
      expect(read).toEqual(range(40, 150).map(String));
    } finally {
      readers.subscribe = original;
      await producer.close();
      await consumer.close();
      await service.close();
    }
  });

  // After a reconnect the reader's consumer may have died with its server (here: its only
  // consumer follows an empty decoy stream, alive and silent), and while the stream's new leader is
  // being elected no consumer can be made: the reader reads from the stream's leader at once, so
  // reading resumes with writing (it waited 1 s more before).
  it("a reader that lost touch reads what follows from the stream's leader at once", async () => {
    const namespace = `R${randomBytes(4).toString("hex")}`;
    // Reconnects at once (to the same server, which the client otherwise waits 2 s to try).
    const connection = await connect({ servers: cluster.servers.split(","), reconnectTimeWait: 0 });
    const service = await NatsTopicService.open({ connection, namespace });
    const consumer = service.consumer({ groupId: "g", autoOffsetReset: "earliest" });
    const producer = service.producer({ lingerMs: 0 });
    try {
      await service.admin.createTopic({ name: "quiet", partitions: 1 });
      readers.subscribe = async (js, address, offset) => {
        readers.subscribe = () => new Promise(() => undefined);
        const decoy = { ...address, stream: `${address.stream}_DECOY` };
        const jsm = await js.jetstreamManager(false);
        await jsm.streams.add({ name: decoy.stream, subjects: [`${namespace}.decoy`] });
        return original(js, decoy, offset);
      };
      await consumer.subscribe(["quiet"]);
      expect(await consumer.poll({ timeoutMs: 500 })).toEqual([]);
      await reconnected(connection);
      const started = Date.now();
      await producer.sendBatch(range(0, 3).map((i) => ({ topic: "quiet", value: `${i}` })));
      const read: string[] = [];
      while (read.length < 3 && Date.now() - started < 5000)
        read.push(...(await consumer.poll({ timeoutMs: 500 })).map((r) => r.value!.toString()));
      expect(read).toEqual(["0", "1", "2"]);
      expect(Date.now() - started).toBeLessThan(LEADER_AT_ONCE_MS);
    } finally {
      readers.subscribe = original;
      await producer.close();
      await consumer.close();
      await service.close();
      await connection.close();
    }
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
