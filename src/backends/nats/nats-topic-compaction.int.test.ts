import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ConsumerRecord } from "../../messaging/topics/topic-consumer.js";
import { type Clock, VirtualClock } from "../../time/index.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { NatsTopicService } from "./nats-topic-service.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";
import { startTestCluster } from "./test-support/nats-cluster.js";

// Topics with cleanupPolicy "compact" on a 3-node JetStream cluster, replicas 3: compaction
// removes superseded records by sequence, so the newest record of each key keeps its offset.
let cluster: LoopbackNatsCluster | undefined;

const T0 = Date.UTC(2026, 11, 5);

function openService(
  namespace: string,
  options: { clock?: Clock; deleteRetentionMs?: number; compactionIntervalMs?: number } = {},
): Promise<NatsTopicService> {
  return NatsTopicService.open({
    servers: cluster!.servers,
    replicas: 3,
    namespace,
    compactionIntervalMs: 0, // rounds only when the test asks
    ...options,
  });
}

/** Every record of partition 0 from the start, once `count` have come. */
async function readAll(service: NatsTopicService, topic: string, count: number) {
  const consumer = service.consumer({ autoOffsetReset: "earliest" });
  try {
    await consumer.assign([{ topic, partition: 0 }]);
    const records: ConsumerRecord[] = [];
    for (let polls = 0; records.length < count && polls < 50; polls++)
      records.push(...(await consumer.poll({ timeoutMs: 200 })));
    return records.map((r) => [r.offset, r.key?.toString() ?? null, r.value?.toString() ?? null]);
  } finally {
    await consumer.close();
  }
}

describeWithNats("NATS JetStream topic compaction", () => {
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("keeps the newest record of each key at its offset, records without a key, and the last record", async () => {
    const namespace = `C${randomBytes(4).toString("hex")}`;
    const service = await openService(namespace, { deleteRetentionMs: 0 });
    const producer = service.producer({ lingerMs: 0 });
    try {
      await service.admin.createTopic({ name: "state", cleanupPolicy: "compact" });
      const records: [string | null, string | null][] = [
        ["k1", "a"], // 0: superseded by 3, then 6
        ["k2", "b"], // 1: superseded by the tombstone at 4
        [null, "x"], // 2: no key, kept
        ["k1", "c"], // 3: superseded by 6
        ["k2", null], // 4: a tombstone past its retention (0 here), removed
        ["k3", "d"], // 5
        ["k1", "e"], // 6
        ["k4", null], // 7: a tombstone, but the last record: kept
      ];
      for (const [key, value] of records)
        await producer.send({ topic: "state", partition: 0, key, value });
      const rounds = await service.compactTopics();
      expect(rounds.get("state-0")).toEqual({ scanned: 8, removed: 4 });
      expect(await readAll(service, "state", 4)).toEqual([
        [2, null, "x"],
        [5, "k3", "d"],
        [6, "k1", "e"],
        [7, "k4", null],
      ]);
      expect((await service.admin.describePartition("state", 0)).highWatermark).toBe(8);
      // With nothing appended since, a second round would remove nothing: it reads nothing.
      expect((await service.compactTopics()).get("state-0")).toEqual({ scanned: 0, removed: 0 });
      // New records are appended after the gaps.
      await producer.send({ topic: "state", partition: 0, key: "k3", value: "f" });
      // k3's older record goes, and so does the tombstone, no longer the last record.
      expect((await service.compactTopics()).get("state-0")).toEqual({ scanned: 5, removed: 2 });
      expect((await readAll(service, "state", 3)).map(([offset]) => offset)).toEqual([2, 6, 8]);
    } finally {
      await producer.close();
      await service.close();
    }
  });

  it("keeps records younger than minCompactionLagMs and tombstones younger than deleteRetentionMs", async () => {
    const namespace = `C${randomBytes(4).toString("hex")}`;
    const clock = new VirtualClock(T0);
    const service = await openService(namespace, { clock, deleteRetentionMs: 3_600_000 });
    const producer = service.producer({ lingerMs: 0 });
    try {
      await service.admin.createTopic({
        name: "lagged",
        cleanupPolicy: "compact",
        minCompactionLagMs: 60_000,
      });
      for (const [key, value] of [
        ["k", "old"],
        ["k", "new"],
        ["gone", null],
        ["other", "v"],
      ] as const)
        await producer.send({ topic: "lagged", partition: 0, key, value });
      expect((await service.compactTopics()).get("lagged-0")?.removed).toBe(0);
      // Until the first kept record comes of age, a round has nothing to read.
      await clock.advance(59_999);
      expect((await service.compactTopics()).get("lagged-0")).toEqual({ scanned: 0, removed: 0 });
      await clock.advance(1);
      // "old" is past the lag now; the tombstone is not past its retention yet.
      expect((await service.compactTopics()).get("lagged-0")).toEqual({ scanned: 4, removed: 1 });
      // A changed setting makes the next round read the partition again.
      await service.admin.alterTopicConfig("lagged", { minCompactionLagMs: 30_000 });
      expect((await service.compactTopics()).get("lagged-0")).toEqual({ scanned: 3, removed: 0 });
      await clock.advance(3_600_000);
      expect((await service.compactTopics()).get("lagged-0")?.removed).toBe(1);
      expect(await readAll(service, "lagged", 2)).toEqual([
        [1, "k", "new"],
        [3, "other", "v"],
      ]);
      // The search by time steps over the gap the compaction left at offset 2.
      expect(await service.admin.offsetForTimestamp("lagged", 0, T0)).toBe(1);
      expect(await service.admin.offsetForTimestamp("lagged", 0, T0 + 1)).toBe(4);
    } finally {
      await producer.close();
      await service.close();
    }
  });

  it("keeps a tombstone while an older record of its key stays (timestamps set out of order)", async () => {
    const namespace = `C${randomBytes(4).toString("hex")}`;
    const clock = new VirtualClock(T0 + 60_000);
    const service = await openService(namespace, { clock, deleteRetentionMs: 0 });
    const producer = service.producer({ lingerMs: 0 });
    try {
      await service.admin.createTopic({
        name: "skewed",
        cleanupPolicy: "compact",
        minCompactionLagMs: 60_000,
      });
      // The value's timestamp is a minute ahead of the delete's: it is younger than the lag,
      // the tombstone is not. Removing the tombstone would bring "v" back as k's value.
      const sent: [string, string | null, number][] = [
        ["k", "v", T0 + 60_000],
        ["k", null, T0],
        ["other", "w", T0],
      ];
      for (const [key, value, timestamp] of sent)
        await producer.send({ topic: "skewed", partition: 0, key, value, timestamp });
      expect((await service.compactTopics()).get("skewed-0")?.removed).toBe(0);
      await clock.advance(60_000);
      // Once "v" is past the lag it goes, and its tombstone with it.
      expect((await service.compactTopics()).get("skewed-0")?.removed).toBe(2);
      expect(await readAll(service, "skewed", 1)).toEqual([[2, "other", "w"]]);
    } finally {
      await producer.close();
      await service.close();
    }
  });

  it("without a lag, compacts a superseded record stamped in the future too", async () => {
    const namespace = `C${randomBytes(4).toString("hex")}`;
    const service = await openService(namespace);
    const producer = service.producer({ lingerMs: 0 });
    try {
      await service.admin.createTopic({ name: "future", cleanupPolicy: "compact" });
      const inAnHour = Date.now() + 3_600_000;
      await producer.send({
        topic: "future",
        partition: 0,
        key: "k",
        value: "a",
        timestamp: inAnHour,
      });
      await producer.send({ topic: "future", partition: 0, key: "k", value: "b" });
      expect((await service.compactTopics()).get("future-0")).toEqual({ scanned: 2, removed: 1 });
      expect(await readAll(service, "future", 1)).toEqual([[1, "k", "b"]]);
    } finally {
      await producer.close();
      await service.close();
    }
  });

  it("of two processes compacting at once, one does each partition's round", async () => {
    const namespace = `C${randomBytes(4).toString("hex")}`;
    // Rounds claimed for a minute: of two claims at once, one is written on the revision read.
    const minute = { compactionIntervalMs: 60_000 };
    const [a, b] = await Promise.all([
      openService(namespace, minute),
      openService(namespace, minute),
    ]);
    const producer = a.producer({ lingerMs: 0 });
    try {
      await a.admin.createTopic({ name: "shared", partitions: 3, cleanupPolicy: "compact" });
      for (let p = 0; p < 3; p++)
        for (const value of ["1", "2"])
          await producer.send({ topic: "shared", partition: p, key: "k", value });
      for (let tries = 0; (await b.admin.listTopics()).length === 0 && tries < 50; tries++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const [ra, rb] = await Promise.all([a.compactTopics(), b.compactTopics()]);
      expect([...ra.keys(), ...rb.keys()].sort()).toEqual(["shared-0", "shared-1", "shared-2"]);
      const done = [...ra.values(), ...rb.values()];
      expect(done.reduce((sum, r) => sum + r.removed, 0)).toBe(3);
      // Within the minute, no process claims them again.
      expect((await a.compactTopics()).size + (await b.compactTopics()).size).toBe(0);
    } finally {
      await producer.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
