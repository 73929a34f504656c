/**
 * The transactions part of the topics conformance suite: read_committed isolation, commit and
 * abort, the last stable offset, offsets sent to a transaction (read-process-write), fencing of
 * an older producer, the coordinator's timeout, and, where the backend has storage, recovery of
 * transactions across a reopen and a crash.
 */
import { describe, expect, it } from "vitest";
import type { VirtualClock } from "../../time/virtual-clock.js";
import type { ConsumerOptions, ConsumerRecord, TopicConsumer } from "./topic-consumer.js";
import { type TopicErrorName, isTopicError } from "./topic-error.js";
import type { ProducerOptions, TopicProducer } from "./topic-producer.js";
import type { TopicService } from "./topic-service.js";

/** What the transaction tests need of the suite's world. */
export interface TransactionWorld {
  readonly clock: VirtualClock;
  readonly service: TopicService;
  producer(options?: ProducerOptions): TopicProducer;
  consumer(options?: ConsumerOptions): TopicConsumer;
  pollUntil(consumer: TopicConsumer, count: number): Promise<ConsumerRecord[]>;
  settle(consumers: readonly TopicConsumer[], total: number): Promise<ConsumerRecord[]>;
  reopen(): Promise<void>;
  /** Stops the service as a killed process would and opens its storage again. */
  crashAndReopen?(): Promise<void>;
}

const text = (r: ConsumerRecord): string => r.value?.toString("utf8") ?? "<null>";

async function rejectsWith(
  promise: Promise<unknown>,
  name: TopicErrorName,
  field?: string,
): Promise<Error> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${name}`).toBeDefined();
  if (!isTopicError(error, name)) throw error;
  if (field !== undefined) expect(error.field).toBe(field);
  return error;
}

/** Every record a read_committed (or uncommitted) reader of the whole topic gets now. */
async function readAll(
  w: TransactionWorld,
  topic: string,
  isolationLevel: "read_committed" | "read_uncommitted",
  partitions = 1,
): Promise<string[]> {
  const reader = w.consumer({ isolationLevel });
  await reader.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  const out: ConsumerRecord[] = [];
  for (let i = 0; i < 5; i++) {
    const got = await reader.poll();
    out.push(...got);
    if (got.length === 0) await w.clock.advance(1);
  }
  await reader.close();
  return out.map(text);
}

export function transactionTests(w: () => TransactionWorld, crash: boolean): void {
  describe("transactions", () => {
    it("read_committed sees a transaction's records only after commit, and never a marker", async () => {
      await w().service.admin.createTopic({ name: "tx", partitions: 2 });
      const p = w().producer({ transactionalId: "t1", partitioner: "round-robin" });
      await p.initTransactions();
      await p.beginTransaction();
      const sent = p.sendBatch(["a", "b", "c", "d"].map((value) => ({ topic: "tx", value })));
      await p.flush();
      expect(await readAll(w(), "tx", "read_committed", 2)).toEqual([]);
      expect((await readAll(w(), "tx", "read_uncommitted", 2)).sort()).toEqual([
        "a",
        "b",
        "c",
        "d",
      ]);
      const d = await w().service.admin.describePartition("tx", 0);
      expect(d.lastStableOffset).toBe(0);
      expect(d.highWatermark).toBe(2);
      await p.commitTransaction();
      expect((await sent).map((m) => m.offset)).toEqual([0, 0, 1, 1]);
      expect((await readAll(w(), "tx", "read_committed", 2)).sort()).toEqual(["a", "b", "c", "d"]);
      // The marker takes an offset; nobody reads it.
      const after = await w().service.admin.describePartition("tx", 0);
      expect(after).toMatchObject({ highWatermark: 3, lastStableOffset: 3 });
      expect((await readAll(w(), "tx", "read_uncommitted", 2)).sort()).toEqual([
        "a",
        "b",
        "c",
        "d",
      ]);
      await p.close();
    });

    it("an aborted transaction is never seen by read_committed; later records are", async () => {
      await w().service.admin.createTopic({ name: "ab" });
      const p = w().producer({ transactionalId: "t2" });
      const plain = w().producer();
      await p.beginTransaction();
      await p.send({ topic: "ab", value: "aborted-1" });
      await plain.send({ topic: "ab", value: "plain" }); // interleaved, outside the transaction
      await p.send({ topic: "ab", value: "aborted-2" });
      await p.abortTransaction();
      await p.beginTransaction();
      await p.send({ topic: "ab", value: "kept" });
      await p.commitTransaction();
      expect(await readAll(w(), "ab", "read_committed")).toEqual(["plain", "kept"]);
      expect(await readAll(w(), "ab", "read_uncommitted")).toEqual([
        "aborted-1",
        "plain",
        "aborted-2",
        "kept",
      ]);
      await p.close();
      await plain.close();
    });

    it("read_committed stops at an open transaction, records after it wait for its end", async () => {
      await w().service.admin.createTopic({ name: "lso" });
      const p = w().producer({ transactionalId: "t3" });
      const plain = w().producer();
      await plain.send({ topic: "lso", value: "before" });
      await p.beginTransaction();
      await p.send({ topic: "lso", value: "in-tx" });
      await plain.send({ topic: "lso", value: "after" });
      const reader = w().consumer({ isolationLevel: "read_committed" });
      await reader.assign([{ topic: "lso", partition: 0 }]);
      expect((await w().pollUntil(reader, 1)).map(text)).toEqual(["before"]);
      expect(await reader.poll()).toEqual([]);
      await p.commitTransaction();
      expect((await w().pollUntil(reader, 2)).map(text)).toEqual(["in-tx", "after"]);
      await reader.close();
      await p.close();
      await plain.close();
    });

    it("offsets sent to a transaction count only when it commits (read-process-write)", async () => {
      const admin = w().service.admin;
      await admin.createTopic({ name: "in" });
      await admin.createTopic({ name: "out" });
      const seed = w().producer();
      await seed.sendBatch([1, 2, 3, 4].map((i) => ({ topic: "in", value: `${i}` })));
      const consumer = w().consumer({ groupId: "rpw", isolationLevel: "read_committed" });
      await consumer.subscribe(["in"]);
      const input = await w().settle([consumer], 1);
      input.push(...(await w().pollUntil(consumer, 4 - input.length)));
      expect(input).toHaveLength(4);
      const p = w().producer({ transactionalId: "rpw-1" });
      // First attempt aborts: neither the output nor the offsets count.
      await p.beginTransaction();
      await p.sendBatch(input.map((r) => ({ topic: "out", value: `x${text(r)}` })));
      await p.sendOffsetsToTransaction(
        [{ topic: "in", partition: 0, offset: 4 }],
        consumer.groupMetadata(),
      );
      expect(await admin.listGroupOffsets("rpw")).toEqual([]);
      await p.abortTransaction();
      expect(await admin.listGroupOffsets("rpw")).toEqual([]);
      // Second attempt commits both at once.
      await p.beginTransaction();
      await p.sendBatch(input.map((r) => ({ topic: "out", value: `y${text(r)}` })));
      await p.sendOffsetsToTransaction(
        [{ topic: "in", partition: 0, offset: 4 }],
        consumer.groupMetadata(),
      );
      await p.commitTransaction();
      expect(await admin.listGroupOffsets("rpw")).toEqual([
        { topic: "in", partition: 0, offset: 4, metadata: "" },
      ]);
      expect(await readAll(w(), "out", "read_committed")).toEqual(["y1", "y2", "y3", "y4"]);
      // A stale generation is refused, and makes the transaction abortable.
      await p.beginTransaction();
      await rejectsWith(
        p.sendOffsetsToTransaction([{ topic: "in", partition: 0, offset: 4 }], {
          ...consumer.groupMetadata(),
          generationId: consumer.groupMetadata().generationId + 5,
        }),
        "ILLEGAL_GENERATION",
        "generationId",
      );
      await rejectsWith(p.commitTransaction(), "INVALID_TXN_STATE");
      await p.abortTransaction();
      await consumer.close();
      await p.close();
      await seed.close();
    });

    it("a new producer with the same transactional id fences the old one and aborts its transaction", async () => {
      await w().service.admin.createTopic({ name: "fence" });
      const old = w().producer({ transactionalId: "shared" });
      await old.beginTransaction();
      await old.send({ topic: "fence", value: "zombie" });
      const fresh = w().producer({ transactionalId: "shared" });
      await fresh.initTransactions();
      const fenced = await rejectsWith(old.commitTransaction(), "PRODUCER_FENCED", "producerEpoch");
      expect(fenced.constructor.name).toBe("ProducerFencedError");
      await rejectsWith(old.beginTransaction(), "PRODUCER_FENCED", "producerEpoch");
      await fresh.beginTransaction();
      await fresh.send({ topic: "fence", value: "live" });
      await fresh.commitTransaction();
      expect(await readAll(w(), "fence", "read_committed")).toEqual(["live"]);
      await old.close();
      await fresh.close();
    });

    it("refuses transaction calls out of order, on plain producers, and bad options", async () => {
      await w().service.admin.createTopic({ name: "bad" });
      const plain = w().producer();
      await rejectsWith(plain.beginTransaction(), "INVALID_TXN_STATE");
      await rejectsWith(plain.initTransactions(), "INVALID_TXN_STATE");
      const p = w().producer({ transactionalId: "t-bad" });
      await rejectsWith(p.send({ topic: "bad", value: "x" }), "INVALID_TXN_STATE");
      await rejectsWith(p.commitTransaction(), "INVALID_TXN_STATE");
      await p.beginTransaction();
      await rejectsWith(p.beginTransaction(), "INVALID_TXN_STATE");
      await p.commitTransaction(); // an empty transaction commits
      await rejectsWith(p.abortTransaction(), "INVALID_TXN_STATE");
      expect(() => w().producer({ transactionalId: "" })).toThrow(/transactionalId/);
      expect(() => w().producer({ transactionalId: "t", idempotent: false })).toThrow(/idempotent/);
      expect(() => w().producer({ transactionalId: "t", transactionTimeoutMs: 0 })).toThrow(
        /transactionTimeoutMs/,
      );
      await p.close();
      await plain.close();
    });

    it("the coordinator aborts a transaction open past its timeout and fences its producer", async () => {
      await w().service.admin.createTopic({ name: "slow" });
      const p = w().producer({ transactionalId: "t-timeout", transactionTimeoutMs: 500 });
      await p.beginTransaction();
      await p.send({ topic: "slow", value: "late" });
      for (let i = 0; i < 20; i++) await w().clock.advance(100);
      expect((await w().service.admin.describePartition("slow", 0)).lastStableOffset).toBe(2);
      await rejectsWith(p.commitTransaction(), "PRODUCER_FENCED", "producerEpoch");
      expect(await readAll(w(), "slow", "read_committed")).toEqual([]);
      await p.close();
    });

    it("committed and aborted transactions read the same after a reopen", async () => {
      await w().service.admin.createTopic({ name: "keep-tx" });
      const p = w().producer({ transactionalId: "t-keep" });
      await p.beginTransaction();
      await p.send({ topic: "keep-tx", value: "gone" });
      await p.abortTransaction();
      await p.beginTransaction();
      await p.send({ topic: "keep-tx", value: "kept" });
      await p.commitTransaction();
      await p.close();
      await w().reopen();
      expect(await readAll(w(), "keep-tx", "read_committed")).toEqual(["kept"]);
      const again = w().producer({ transactionalId: "t-keep" });
      await again.beginTransaction();
      await again.send({ topic: "keep-tx", value: "more" });
      await again.commitTransaction();
      expect(await readAll(w(), "keep-tx", "read_committed")).toEqual(["kept", "more"]);
      await again.close();
    });

    if (crash)
      it("a transaction open at a crash is aborted on open, with its offsets", async () => {
        const admin = w().service.admin;
        await admin.createTopic({ name: "cin" });
        await admin.createTopic({ name: "cout", partitions: 2 });
        const seed = w().producer();
        await seed.sendBatch([1, 2].map((i) => ({ topic: "cin", value: `${i}` })));
        await seed.close();
        const p = w().producer({ transactionalId: "t-crash", partitioner: "round-robin" });
        await p.beginTransaction();
        await p.sendBatch([1, 2, 3].map((i) => ({ topic: "cout", value: `lost${i}` })));
        await p.sendOffsetsToTransaction([{ topic: "cin", partition: 0, offset: 2 }], {
          groupId: "cg",
          generationId: -1,
          memberId: "",
        });
        await w().crashAndReopen!();
        expect(await readAll(w(), "cout", "read_committed", 2)).toEqual([]);
        expect(await w().service.admin.listGroupOffsets("cg")).toEqual([]);
        for (const partition of [0, 1]) {
          const d = await w().service.admin.describePartition("cout", partition);
          expect(d.lastStableOffset).toBe(d.highWatermark);
        }
        const next = w().producer({ transactionalId: "t-crash" });
        await next.beginTransaction();
        await next.send({ topic: "cout", partition: 0, value: "after" });
        await next.commitTransaction();
        expect(await readAll(w(), "cout", "read_committed", 2)).toEqual(["after"]);
        await next.close();
      });
  });
}
