/**
 * The conformance suite every `TopicService` backend must pass: Kafka's observable semantics
 * for topics (admin, errors, key placement, per-partition order), consumers (poll, seek,
 * pause) and consumer groups (assignment, rebalancing on join, leave and session expiry,
 * committed offsets, lag), and, where the backend has storage, durability across a reopen.
 * Transactions (`conformance-transactions.ts`) run where the backend has storage. Time runs on a
 * `VirtualClock`, so session timeouts take milliseconds.
 *
 * Usage, in a backend's test file:
 *
 *     describeTopicConformance({ name: "embedded", open: (clock) => ..., reopen: (s, clock) => ... });
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it as vitestIt } from "vitest";
import { VirtualClock } from "../../time/virtual-clock.js";
import type { TopicPartition } from "./topic-admin.js";
import type { ConsumerOptions, ConsumerRecord, TopicConsumer } from "./topic-consumer.js";
import { type TopicErrorName, isTopicError } from "./topic-error.js";
import type { ProducerOptions, TopicProducer } from "./topic-producer.js";
import type { TopicService } from "./topic-service.js";
import { transactionTests } from "./conformance-transactions.js";

export interface TopicConformanceHarness {
  readonly name: string;
  /** A fresh, empty service whose time is `clock`. */
  open(clock: VirtualClock): Promise<TopicService>;
  /** Closes `service` and opens the same storage again; omit when the backend has no storage. */
  reopen?(service: TopicService, clock: VirtualClock): Promise<TopicService>;
  /** Makes `consumer` fall silent as a crashed process would (no heartbeats, no leave); omit if impossible. */
  silence?(consumer: TopicConsumer): void;
  /** Stops `service` as a killed process would (nothing closed cleanly) and opens its storage again. */
  crashAndReopen?(service: TopicService, clock: VirtualClock): Promise<TopicService>;
  /** Tests this backend cannot pass, by name, with the reason (reported as skipped). */
  readonly skips?: Readonly<Record<string, string>>;
  /** Why the backend has no transactions, if it has none: their tests are skipped with it. */
  readonly noTransactions?: string;
}

/** The harness's skips, read while its tests are declared (one harness per test file). */
let skips: Readonly<Record<string, string>> = {};
const declared = new Set<string>();

type TestBody = () => Promise<void>;

/** Declares a test, or skips it with the reason when the harness lists it. */
function it(name: string, body: TestBody): void {
  declared.add(name);
  const reason = skips[name];
  if (reason === undefined) vitestIt(name, body);
  else vitestIt.skip(`${name} [skipped: ${reason}]`, body);
}
it.skipIf =
  (condition: boolean) =>
  (name: string, body: TestBody): void =>
    condition ? vitestIt.skip(name, body) : it(name, body);

/**
 * Kafka's murmur2 placement, written from the algorithm (seed 0x9747b28c, m 0x5bd1e995, r 24,
 * little-endian words) and checked below against vectors from Kafka's own UtilsTest.
 */
function referenceMurmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ data.length) | 0;
  const words = data.length >> 2;
  for (let i = 0; i < words; i++) {
    let k = data.readInt32LE(i * 4);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = words * 4;
  const rest = data.length & 3;
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
const kafkaPartition = (key: string, partitions: number): number =>
  (referenceMurmur2(Buffer.from(key, "utf8")) & 0x7fffffff) % partitions;

const text = (r: ConsumerRecord): string => r.value?.toString("utf8") ?? "<null>";

async function rejectsWith(promise: Promise<unknown>, name: TopicErrorName, field?: string) {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${name}`).toBeDefined();
  if (!isTopicError(error, name)) throw error;
  if (field !== undefined) expect(error.field).toBe(field);
}

function throwsWith(run: () => unknown, name: TopicErrorName, field?: string): void {
  try {
    run();
  } catch (error) {
    if (!isTopicError(error, name)) throw error;
    if (field !== undefined) expect(error.field).toBe(field);
    return;
  }
  throw new Error(`expected ${name}`);
}

class World {
  private constructor(
    readonly harness: TopicConformanceHarness,
    readonly clock: VirtualClock,
    public service: TopicService,
  ) {}

  static async open(harness: TopicConformanceHarness): Promise<World> {
    const clock = new VirtualClock();
    return new World(harness, clock, await harness.open(clock));
  }

  get admin() {
    return this.service.admin;
  }

  producer(options: ProducerOptions = {}): TopicProducer {
    return this.service.producer({ lingerMs: 0, ...options });
  }

  consumer(options: ConsumerOptions = {}): TopicConsumer {
    return this.service.consumer({ autoCommit: false, autoOffsetReset: "earliest", ...options });
  }

  /** Polls (moving time 10 ms between polls) until `count` records came or 200 polls passed. */
  async pollUntil(
    consumer: TopicConsumer,
    count: number,
    others: readonly TopicConsumer[] = [],
  ): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = [];
    for (let i = 0; i < 200 && out.length < count; i++) {
      out.push(...(await consumer.poll()));
      for (const other of others) await other.poll();
      if (out.length < count) await this.clock.advance(10);
    }
    return out;
  }

  /**
   * Polls every consumer until each owns some partitions and together they own `total`;
   * returns the records those polls returned.
   */
  async settle(consumers: readonly TopicConsumer[], total: number): Promise<ConsumerRecord[]> {
    const seen: ConsumerRecord[] = [];
    for (let i = 0; i < 200; i++) {
      for (const c of consumers) seen.push(...(await c.poll()));
      const owned = consumers.map((c) => c.assignment().length);
      if (owned.every((n) => n > 0) && owned.reduce((a, b) => a + b, 0) === total) return seen;
      await this.clock.advance(10);
    }
    throw new Error(
      `group did not settle: ${consumers.map((c) => c.assignment().length).join(", ")}`,
    );
  }

  async reopen(): Promise<void> {
    if (this.harness.reopen === undefined) throw new Error("backend has no storage");
    this.service = await this.harness.reopen(this.service, this.clock);
  }

  async crashAndReopen(): Promise<void> {
    if (this.harness.crashAndReopen === undefined) throw new Error("backend cannot crash");
    this.service = await this.harness.crashAndReopen(this.service, this.clock);
  }

  close(): Promise<void> {
    return this.service.close();
  }
}

const sorted = (tps: readonly TopicPartition[]): string[] =>
  tps.map((tp) => `${tp.topic}-${tp.partition}`).sort();

/** Registers the suite for one backend. */
export function describeTopicConformance(harness: TopicConformanceHarness): void {
  describe(`TopicService conformance: ${harness.name}`, () => {
    let current: World | undefined;
    const w = (): World => {
      if (current === undefined) throw new Error("no world");
      return current;
    };
    beforeEach(async () => {
      current = await World.open(harness);
    });
    afterEach(async () => {
      const world = current;
      current = undefined;
      await world?.close();
    });

    skips = harness.skips ?? {};
    adminTests(w);
    producerTests(w);
    consumerTests(w);
    groupTests(w, harness);
    if (harness.reopen !== undefined) durabilityTests(w);
    if (harness.reopen !== undefined && harness.noTransactions === undefined)
      transactionTests(w, harness.crashAndReopen !== undefined);
    if (harness.noTransactions !== undefined)
      describe.skip(`transactions [skipped: ${harness.noTransactions}]`, () =>
        transactionTests(w, harness.crashAndReopen !== undefined));
    beforeAll(() => {
      // By now every test is declared: a skip must name one of them.
      const unknown = Object.keys(harness.skips ?? {}).filter((name) => !declared.has(name));
      if (unknown.length > 0) throw new Error(`skips name no test: ${unknown.join(", ")}`);
    });
  });
}

function adminTests(w: () => World): void {
  describe("admin", () => {
    it("creates, lists (sorted), describes and deletes topics", async () => {
      const created = await w().admin.createTopic({ name: "orders", partitions: 3 });
      expect(created).toMatchObject({ name: "orders", partitions: 3, internal: false });
      expect(created.config.cleanupPolicy).toBe("delete");
      await w().admin.createTopic({ name: "audit" });
      expect(await w().admin.listTopics()).toEqual(["audit", "orders"]);
      expect((await w().admin.describeTopic("audit")).partitions).toBe(1);
      await w().admin.deleteTopic("orders");
      expect(await w().admin.listTopics()).toEqual(["audit"]);
      await rejectsWith(w().admin.describeTopic("orders"), "UNKNOWN_TOPIC_OR_PARTITION");
    });

    it('takes names beginning with "__" as ordinary topics, as Kafka does, and refuses the internal ones', async () => {
      // Debezium's heartbeat topics are named this way.
      const name = "__debezium-heartbeat.inventory";
      expect(await w().admin.createTopic({ name })).toMatchObject({ name, internal: false });
      expect(await w().admin.listTopics()).toEqual([name]);
      const p = w().producer();
      expect((await p.send({ topic: name, value: "beat" })).offset).toBe(0);
      await p.close();
      for (const internal of ["__consumer_offsets", "__transaction_state"])
        await rejectsWith(w().admin.createTopic({ name: internal }), "INVALID_REQUEST", "name");
      await w().admin.deleteTopic(name);
      expect(await w().admin.listTopics()).toEqual([]);
    });

    it("keeps the given config and reports it", async () => {
      const d = await w().admin.createTopic({
        name: "compacted",
        partitions: 2,
        cleanupPolicy: "compact",
        retentionMs: 60_000,
        retentionBytes: 1_000_000,
        segmentBytes: 1024 * 1024,
        maxMessageBytes: 4096,
        minCompactionLagMs: 1000,
      });
      expect(d.config).toEqual({
        cleanupPolicy: "compact",
        retentionMs: 60_000,
        retentionBytes: 1_000_000,
        segmentBytes: 1024 * 1024,
        maxMessageBytes: 4096,
        minCompactionLagMs: 1000,
      });
      expect((await w().admin.describeTopic("compacted")).config).toEqual(d.config);
    });

    it("refuses a duplicate name, bad names, bad partition counts and bad config, naming the field", async () => {
      await w().admin.createTopic({ name: "t" });
      await rejectsWith(w().admin.createTopic({ name: "t" }), "TOPIC_ALREADY_EXISTS");
      for (const name of ["", "a/b", "..", ".", "x".repeat(250), "sp ace"])
        await rejectsWith(w().admin.createTopic({ name }), "INVALID_TOPIC_EXCEPTION", "name");
      for (const partitions of [0, -1, 1.5, Number.NaN])
        await rejectsWith(
          w().admin.createTopic({ name: "p", partitions }),
          "INVALID_PARTITIONS",
          "partitions",
        );
      await rejectsWith(
        w().admin.createTopic({ name: "c", cleanupPolicy: "sometimes" as never }),
        "INVALID_CONFIG",
        "cleanupPolicy",
      );
      await rejectsWith(
        w().admin.createTopic({ name: "c", maxMessageBytes: 0 }),
        "INVALID_CONFIG",
        "maxMessageBytes",
      );
      expect(await w().admin.listTopics()).toEqual(["t"]);
    });

    it("grows partitions, never shrinks them", async () => {
      await w().admin.createTopic({ name: "grow", partitions: 2 });
      await w().admin.createPartitions("grow", 5);
      expect((await w().admin.describeTopic("grow")).partitions).toBe(5);
      await rejectsWith(w().admin.createPartitions("grow", 3), "INVALID_PARTITIONS");
      await rejectsWith(w().admin.createPartitions("nope", 3), "UNKNOWN_TOPIC_OR_PARTITION");
      const p = w().producer();
      const sent = await p.send({ topic: "grow", partition: 4, value: "x" });
      expect(sent.partition).toBe(4);
      await p.close();
    });

    it("a topic grown or deleted while it is being created opens each partition once", async () => {
      const created = w().admin.createTopic({ name: "young", partitions: 3 });
      const aTurnLater = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
      await aTurnLater(); // the create has begun opening its partitions
      const grown = w()
        .admin.createPartitions("young", 5)
        .then(
          () => 5,
          (error: unknown) => {
            // A backend that makes the topic visible only once created refuses the grow.
            if (!isTopicError(error, "UNKNOWN_TOPIC_OR_PARTITION")) throw error;
            return 3;
          },
        );
      // Both settle before either is judged: a create that fails must not leave the grow's
      // outcome unawaited (it would reject once the service closes, an unhandled rejection).
      const [createdOutcome, grownOutcome] = await Promise.allSettled([created, grown]);
      if (createdOutcome.status === "rejected") throw createdOutcome.reason;
      if (grownOutcome.status === "rejected") throw grownOutcome.reason;
      const partitions = grownOutcome.value;
      expect((await w().admin.describeTopic("young")).partitions).toBe(partitions);
      const p = w().producer();
      for (let partition = 0; partition < partitions; partition++)
        expect((await p.send({ topic: "young", partition, value: "x" })).offset).toBe(0);
      await p.close();
      const again = w().admin.createTopic({ name: "brief", partitions: 3 });
      await aTurnLater();
      const deleted = w()
        .admin.deleteTopic("brief")
        .then(
          () => true,
          (error: unknown) => {
            if (!isTopicError(error, "UNKNOWN_TOPIC_OR_PARTITION")) throw error;
            return false;
          },
        );
      const [againOutcome, deletedOutcome] = await Promise.allSettled([again, deleted]);
      if (againOutcome.status === "rejected") throw againOutcome.reason;
      if (deletedOutcome.status === "rejected") throw deletedOutcome.reason;
      if (deletedOutcome.value) expect(await w().admin.listTopics()).not.toContain("brief");
      else await w().admin.deleteTopic("brief");
      // The name can be used again at once, its partitions empty.
      await w().admin.createTopic({ name: "brief", partitions: 3 });
      expect((await w().admin.describePartition("brief", 2)).highWatermark).toBe(0);
    });

    it("keeps every one of concurrent partition and config changes (none overwrites another)", async () => {
      await w().admin.createTopic({ name: "edited", partitions: 2 });
      const outcomes = await Promise.allSettled([
        w().admin.createPartitions("edited", 4),
        w().admin.alterTopicConfig("edited", { retentionMs: 120_000 }),
        w().admin.createPartitions("edited", 6),
        w().admin.alterTopicConfig("edited", { retentionBytes: 1 << 20 }),
      ]);
      // Growing to 4 after 6 is refused as growing to fewer; either order keeps 6.
      for (const [i, outcome] of outcomes.entries())
        if (outcome.status === "rejected") {
          expect(i).toBe(0);
          expect(isTopicError(outcome.reason, "INVALID_PARTITIONS")).toBe(true);
        }
      const described = await w().admin.describeTopic("edited");
      expect(described.partitions).toBe(6);
      expect(described.config).toMatchObject({ retentionMs: 120_000, retentionBytes: 1 << 20 });
      const p = w().producer();
      for (let partition = 0; partition < 6; partition++)
        expect((await p.send({ topic: "edited", partition, value: "x" })).offset).toBe(0);
      await p.close();
    });

    it("describes a partition's log start, high watermark and size", async () => {
      await w().admin.createTopic({ name: "d", partitions: 2 });
      const empty = await w().admin.describePartition("d", 1);
      expect(empty).toMatchObject({
        topic: "d",
        partition: 1,
        logStartOffset: 0,
        highWatermark: 0,
        lastStableOffset: 0,
      });
      const p = w().producer();
      await p.sendBatch([1, 2, 3].map((i) => ({ topic: "d", partition: 1, value: `v${i}` })));
      const after = await w().admin.describePartition("d", 1);
      expect(after.highWatermark).toBe(3);
      expect(after.sizeBytes).toBeGreaterThan(0);
      await rejectsWith(w().admin.describePartition("d", 2), "UNKNOWN_TOPIC_OR_PARTITION");
      await p.close();
    });

    it("deleteRecords moves the log start; reads below it start from there", async () => {
      await w().admin.createTopic({ name: "dr" });
      const p = w().producer();
      await p.sendBatch([0, 1, 2, 3].map((i) => ({ topic: "dr", value: `v${i}` })));
      await w().admin.deleteRecords("dr", 0, 2);
      expect((await w().admin.describePartition("dr", 0)).logStartOffset).toBe(2);
      const c = w().consumer();
      await c.assign([{ topic: "dr", partition: 0 }]);
      expect((await w().pollUntil(c, 2)).map(text)).toEqual(["v2", "v3"]);
      await c.close();
      await p.close();
    });
  });
}

function producerTests(w: () => World): void {
  describe("producer", () => {
    it("places keyed records as Kafka's default partitioner does (murmur2, positive modulo)", async () => {
      // The reference murmur2 against Kafka's own vectors (UtilsTest.testMurmur2).
      const vectors: Array<[string, number]> = [
        ["21", -973932308],
        ["foobar", -790332482],
        ["a-little-bit-long-string", -985981536],
        ["a-little-bit-longer-string", -1486304829],
        ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
        ["abc", 479470107],
      ];
      for (const [input, hash] of vectors) expect(referenceMurmur2(Buffer.from(input))).toBe(hash);
      await w().admin.createTopic({ name: "k", partitions: 7 });
      const p = w().producer({ partitioner: "key-hash" });
      const keys = [...vectors.map(([k]) => k), ...Array.from({ length: 40 }, (_, i) => `k${i}`)];
      const sent = await p.sendBatch(keys.map((key) => ({ topic: "k", key, value: key })));
      sent.forEach((m, i) => expect(m.partition, keys[i]).toBe(kafkaPartition(keys[i]!, 7)));
      await p.close();
    });

    it("round-robin spreads records evenly, keys ignored", async () => {
      await w().admin.createTopic({ name: "rr", partitions: 4 });
      const p = w().producer({ partitioner: "round-robin" });
      const sent = await p.sendBatch(
        Array.from({ length: 40 }, (_, i) => ({ topic: "rr", key: "same", value: `${i}` })),
      );
      const counts = [0, 0, 0, 0];
      for (const m of sent) counts[m.partition]!++;
      expect(counts).toEqual([10, 10, 10, 10]);
      await p.close();
    });

    it("sticky keeps a batch on one partition", async () => {
      await w().admin.createTopic({ name: "st", partitions: 4 });
      const p = w().producer({ partitioner: "sticky", lingerMs: 1000 });
      const sending = p.sendBatch(
        Array.from({ length: 20 }, (_, i) => ({ topic: "st", key: `k${i}`, value: `${i}` })),
      );
      await p.flush();
      const sent = await sending;
      expect(new Set(sent.map((m) => m.partition)).size).toBe(1);
      await p.close();
    });

    it("gives offsets in send order per partition, with key, value, headers and timestamp kept", async () => {
      await w().admin.createTopic({ name: "o", partitions: 1 });
      const p = w().producer();
      const ts = w().clock.now() - 1000;
      const sent = await p.sendBatch([
        { topic: "o", key: "a", value: "one", headers: [{ key: "h", value: "x" }], timestamp: ts },
        { topic: "o", key: null, value: Buffer.from([0, 1, 2]) },
        { topic: "o", key: "tomb", value: null },
      ]);
      expect(sent.map((m) => m.offset)).toEqual([0, 1, 2]);
      expect(sent[0]).toMatchObject({ topic: "o", partition: 0, timestamp: ts });
      const c = w().consumer();
      await c.assign([{ topic: "o", partition: 0 }]);
      const got = await w().pollUntil(c, 3);
      expect(got[0]!.key?.toString()).toBe("a");
      expect(got[0]!.headers).toEqual([{ key: "h", value: Buffer.from("x") }]);
      expect(got[0]!.timestamp).toBe(ts);
      expect(got[1]!.key).toBeNull();
      expect(got[1]!.value).toEqual(Buffer.from([0, 1, 2]));
      expect(got[2]!.value).toBeNull();
      await c.close();
      await p.close();
    });

    it("compresses with every codec and reads the records back", async () => {
      await w().admin.createTopic({ name: "z", partitions: 1 });
      const c = w().consumer();
      await c.assign([{ topic: "z", partition: 0 }]);
      for (const compression of ["none", "gzip", "snappy", "lz4", "zstd"] as const) {
        const p = w().producer({ compression });
        await p.sendBatch(
          Array.from({ length: 50 }, (_, i) => ({ topic: "z", value: `${compression}-${i}` })),
        );
        await p.close();
        const got = await w().pollUntil(c, 50);
        expect(got.map(text)).toEqual(Array.from({ length: 50 }, (_, i) => `${compression}-${i}`));
      }
      await c.close();
    });

    it("caps a batch at the topic's maxMessageBytes, whatever batchSize says", async () => {
      // Kafka's producer splits a batch the broker refuses as too large; ours never builds one,
      // compressed or not. The values do not compress, so a codec's framing only adds bytes.
      const maxMessageBytes = 64 * 1024;
      await w().admin.createTopic({ name: "capped", partitions: 1, maxMessageBytes });
      const c = w().consumer();
      await c.assign([{ topic: "capped", partition: 0 }]);
      let seed = 7;
      const noise = (): Buffer =>
        Buffer.from(
          Array.from({ length: 1000 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24),
        );
      const records = Array.from({ length: 200 }, () => ({ topic: "capped", value: noise() }));
      for (const compression of ["none", "gzip", "snappy", "lz4", "zstd"] as const) {
        const p = w().producer({ batchSize: 1024 * 1024, lingerMs: 0, compression });
        expect(await p.sendBatch(records)).toHaveLength(records.length);
        await p.close();
      }
      expect(await w().pollUntil(c, 5 * records.length)).toHaveLength(5 * records.length);
      await c.close();
    });

    it("refuses unknown topics and partitions, oversized records and bad input, naming the field", async () => {
      await w().admin.createTopic({ name: "small", maxMessageBytes: 1024 });
      const p = w().producer();
      await rejectsWith(p.send({ topic: "missing", value: "x" }), "UNKNOWN_TOPIC_OR_PARTITION");
      await rejectsWith(
        p.send({ topic: "small", partition: 3, value: "x" }),
        "UNKNOWN_TOPIC_OR_PARTITION",
        "partition",
      );
      await rejectsWith(
        p.send({ topic: "small", value: Buffer.alloc(2000) }),
        "MESSAGE_TOO_LARGE",
        "value",
      );
      await rejectsWith(p.send({ topic: "small", value: 42 as never }), "INVALID_RECORD", "value");
      await rejectsWith(
        p.send({ topic: "small", value: "x", timestamp: -5 }),
        "INVALID_RECORD",
        "timestamp",
      );
      throwsWith(
        () => w().service.producer({ compression: "brotli" as never }),
        "UNSUPPORTED_COMPRESSION_TYPE",
        "compression",
      );
      throwsWith(() => w().service.producer({ batchSize: -1 }), "INVALID_CONFIG");
      // A delay no timer can hold (Node would fire it after 1 ms) is refused, not shortened.
      throwsWith(() => w().service.producer({ lingerMs: 2 ** 31 }), "INVALID_CONFIG");
      // nothing acknowledged was lost by the refusals
      const ok = await p.send({ topic: "small", value: "fine" });
      expect(ok.offset).toBe(0);
      await p.close();
    });
  });
}

function consumerTests(w: () => World): void {
  describe("consumer", () => {
    it("reads every partition in order, and seeks to offsets, timestamps, beginning and end", async () => {
      await w().admin.createTopic({ name: "s", partitions: 1 });
      const p = w().producer();
      const t0 = w().clock.now();
      for (let i = 0; i < 10; i++) {
        await p.send({ topic: "s", value: `v${i}`, timestamp: t0 + i * 100 });
      }
      const tp = { topic: "s", partition: 0 };
      const c = w().consumer();
      await c.assign([tp]);
      expect((await w().pollUntil(c, 10)).map(text)).toEqual(
        Array.from({ length: 10 }, (_, i) => `v${i}`),
      );
      expect(c.position(tp)).toBe(10);
      c.seek(tp, 7);
      expect((await w().pollUntil(c, 3)).map((r) => r.offset)).toEqual([7, 8, 9]);
      await c.seekToTimestamp(tp, t0 + 450);
      expect(c.position(tp)).toBe(5);
      await c.seekToBeginning();
      expect(c.position(tp)).toBe(0);
      await c.seekToEnd([tp]);
      expect(c.position(tp)).toBe(10);
      await c.seekToTimestamp(tp, t0 + 99_999);
      expect(c.position(tp)).toBe(10);
      await c.close();
      await p.close();
    });

    it("pause stops a partition's records until resume", async () => {
      await w().admin.createTopic({ name: "pz", partitions: 2 });
      const p = w().producer();
      for (const partition of [0, 1])
        await p.sendBatch(
          [0, 1].map((i) => ({ topic: "pz", partition, value: `${partition}:${i}` })),
        );
      const c = w().consumer();
      await c.assign([
        { topic: "pz", partition: 0 },
        { topic: "pz", partition: 1 },
      ]);
      c.pause([{ topic: "pz", partition: 0 }]);
      expect(sorted(c.paused())).toEqual(["pz-0"]);
      const first = await w().pollUntil(c, 2);
      expect(first.map(text)).toEqual(["1:0", "1:1"]);
      expect(await c.poll()).toEqual([]);
      c.resume([{ topic: "pz", partition: 0 }]);
      expect((await w().pollUntil(c, 2)).map(text)).toEqual(["0:0", "0:1"]);
      await c.close();
      await p.close();
    });

    it("a poll with a timeout returns records sent while it waits", async () => {
      await w().admin.createTopic({ name: "lp" });
      const c = w().consumer();
      await c.assign([{ topic: "lp", partition: 0 }]);
      const polling = c.poll({ timeoutMs: 1000 });
      const p = w().producer();
      await p.send({ topic: "lp", value: "late" });
      await w().clock.advance(10);
      expect((await polling).map(text)).toEqual(["late"]);
      await c.close();
      await p.close();
    });

    it("iterates records with records(signal)", async () => {
      await w().admin.createTopic({ name: "it" });
      const p = w().producer();
      await p.sendBatch([0, 1, 2].map((i) => ({ topic: "it", value: `v${i}` })));
      const c = w().consumer();
      await c.assign([{ topic: "it", partition: 0 }]);
      const abort = new AbortController();
      const seen: string[] = [];
      for await (const r of c.records(abort.signal)) {
        seen.push(text(r));
        if (seen.length === 3) abort.abort();
      }
      expect(seen).toEqual(["v0", "v1", "v2"]);
      await c.close();
      await p.close();
    });

    it("assign of an unknown topic fails; autoOffsetReset latest starts at the end", async () => {
      const c = w().consumer();
      await rejectsWith(c.assign([{ topic: "ghost", partition: 0 }]), "UNKNOWN_TOPIC_OR_PARTITION");
      await w().admin.createTopic({ name: "late" });
      const p = w().producer();
      await p.send({ topic: "late", value: "old" });
      const latest = w().consumer({ groupId: "g-latest", autoOffsetReset: "latest" });
      await latest.subscribe(["late"]);
      await w().settle([latest], 1);
      await p.send({ topic: "late", value: "new" });
      expect((await w().pollUntil(latest, 1)).map(text)).toEqual(["new"]);
      await latest.close();
      await c.close();
      await p.close();
    });
  });
}

function groupTests(w: () => World, harness: TopicConformanceHarness): void {
  describe("consumer groups", () => {
    for (const assignor of ["range", "roundrobin", "cooperative-sticky"] as const) {
      it(`${assignor}: two members split the partitions, every record read once`, async () => {
        await w().admin.createTopic({ name: "g", partitions: 4 });
        const a = w().consumer({ groupId: "grp", clientId: "a", assignors: [assignor] });
        const b = w().consumer({ groupId: "grp", clientId: "b", assignors: [assignor] });
        await a.subscribe(["g"]);
        await b.subscribe(["g"]);
        await w().settle([a, b], 4);
        expect(a.assignment()).toHaveLength(2);
        expect(b.assignment()).toHaveLength(2);
        const all = [...sorted(a.assignment()), ...sorted(b.assignment())].sort();
        expect(all).toEqual(["g-0", "g-1", "g-2", "g-3"]);
        const p = w().producer({ partitioner: "round-robin" });
        await p.sendBatch(Array.from({ length: 40 }, (_, i) => ({ topic: "g", value: `${i}` })));
        const got: ConsumerRecord[] = [];
        for (let i = 0; i < 100 && got.length < 40; i++) {
          got.push(...(await a.poll()), ...(await b.poll()));
          await w().clock.advance(10);
        }
        expect(got.map(text).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `${i}`).sort());
        const d = await w().admin.describeGroup("grp");
        expect(d.state).toBe("Stable");
        expect(d.protocol).toBe(assignor);
        expect(d.members.map((m) => m.clientId).sort()).toEqual(["a", "b"]);
        await a.close();
        await b.close();
        await p.close();
      });
    }

    it("range gives each member a contiguous block per topic, as Kafka's RangeAssignor", async () => {
      await w().admin.createTopic({ name: "r", partitions: 5 });
      const members = ["m1", "m2"].map((clientId) =>
        w().consumer({ groupId: "rg", clientId, assignors: ["range"] }),
      );
      for (const m of members) await m.subscribe(["r"]);
      await w().settle(members, 5);
      const blocks = members.map((m) =>
        m
          .assignment()
          .map((tp) => tp.partition)
          .sort(),
      );
      blocks.sort((x, y) => x[0]! - y[0]!);
      expect(blocks).toEqual([
        [0, 1, 2],
        [3, 4],
      ]);
      for (const m of members) await m.close();
    });

    it("calls the listener: assigned after joining, revoked before a rebalance takes partitions", async () => {
      await w().admin.createTopic({ name: "l", partitions: 2 });
      const events: string[] = [];
      const a = w().consumer({ groupId: "lg", clientId: "a", assignors: ["range"] });
      await a.subscribe(["l"], {
        onPartitionsAssigned: (tps) => void events.push(`assigned ${sorted(tps).join(",")}`),
        onPartitionsRevoked: (tps) => void events.push(`revoked ${sorted(tps).join(",")}`),
      });
      await w().settle([a], 2);
      const b = w().consumer({ groupId: "lg", clientId: "b", assignors: ["range"] });
      await b.subscribe(["l"]);
      await w().settle([a, b], 2);
      expect(events[0]).toBe("assigned l-0,l-1");
      expect(events).toContain("revoked l-0,l-1");
      expect(events.indexOf("revoked l-0,l-1")).toBeLessThan(events.length - 1);
      await a.close();
      await b.close();
    });

    it("cooperative-sticky keeps a member's partitions that need not move", async () => {
      await w().admin.createTopic({ name: "cs", partitions: 4 });
      const opts = { groupId: "csg", assignors: ["cooperative-sticky"] as const };
      const a = w().consumer({ ...opts, clientId: "a" });
      const revoked: string[] = [];
      await a.subscribe(["cs"], {
        onPartitionsRevoked: (tps) => void revoked.push(...sorted(tps)),
      });
      await w().settle([a], 4);
      const before = sorted(a.assignment());
      const b = w().consumer({ ...opts, clientId: "b" });
      await b.subscribe(["cs"]);
      await w().settle([a, b], 4);
      const kept = sorted(a.assignment());
      expect(kept).toHaveLength(2);
      for (const tp of kept) expect(before).toContain(tp);
      // only the partitions that moved were revoked
      expect(revoked.sort()).toEqual(before.filter((tp) => !kept.includes(tp)).sort());
      await a.close();
      await b.close();
    });

    it.skipIf(harness.silence === undefined)(
      "a member that stops heartbeating is removed after the session timeout",
      async () => {
        await w().admin.createTopic({ name: "hb", partitions: 2 });
        const opts = { groupId: "hbg", sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 };
        const a = w().consumer({ ...opts, clientId: "a" });
        const b = w().consumer({ ...opts, clientId: "b" });
        await a.subscribe(["hb"]);
        await b.subscribe(["hb"]);
        await w().settle([a, b], 2);
        w().harness.silence!(b);
        for (let i = 0; i < 100 && a.assignment().length < 2; i++) {
          await a.poll();
          await w().clock.advance(200);
        }
        expect(a.assignment()).toHaveLength(2);
        expect((await w().admin.describeGroup("hbg")).members).toHaveLength(1);
        await a.close();
      },
    );

    it("a member that leaves hands its partitions to the others", async () => {
      await w().admin.createTopic({ name: "lv", partitions: 3 });
      const a = w().consumer({ groupId: "lvg", clientId: "a" });
      const b = w().consumer({ groupId: "lvg", clientId: "b" });
      await a.subscribe(["lv"]);
      await b.subscribe(["lv"]);
      await w().settle([a, b], 3);
      await b.close();
      await w().settle([a], 3);
      expect(a.assignment()).toHaveLength(3);
      await a.close();
      const d = await w().admin.describeGroup("lvg");
      expect(d.state).toBe("Empty");
      expect(d.members).toHaveLength(0);
    });

    it("committed offsets resume the group where it left off, and describeGroup shows lag", async () => {
      await w().admin.createTopic({ name: "co", partitions: 2 });
      const p = w().producer({ partitioner: "round-robin" });
      await p.sendBatch(Array.from({ length: 10 }, (_, i) => ({ topic: "co", value: `${i}` })));
      const a = w().consumer({ groupId: "cog", clientId: "a" });
      await a.subscribe(["co"]);
      const first = await w().settle([a], 2);
      first.push(...(await w().pollUntil(a, 10 - first.length)));
      expect(first).toHaveLength(10);
      // commit only the first 3 of partition 0
      await a.commitSync([{ topic: "co", partition: 0, offset: 3 }]);
      expect(
        await a.committed([
          { topic: "co", partition: 0 },
          { topic: "co", partition: 1 },
        ]),
      ).toEqual([{ topic: "co", partition: 0, offset: 3, metadata: "" }, undefined]);
      const d = await w().admin.describeGroup("cog");
      const row0 = d.offsets.find((o) => o.partition === 0)!;
      expect(row0).toMatchObject({ committedOffset: 3, logEndOffset: 5, lag: 2, clientId: "a" });
      await a.close();
      const b = w().consumer({ groupId: "cog", clientId: "b" });
      await b.subscribe(["co"]);
      const again = await w().settle([b], 2);
      again.push(...(await w().pollUntil(b, 7 - again.length)));
      // partition 0 resumes at 3; partition 1 had no commit and starts at the beginning
      expect(again.filter((r) => r.partition === 0).map((r) => r.offset)).toEqual([3, 4]);
      expect(again.filter((r) => r.partition === 1).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
      await b.commitSync();
      const after = await w().admin.describeGroup("cog");
      expect(after.offsets.map((o) => o.lag)).toEqual([0, 0]);
      await b.close();
      await p.close();
    });

    it("refuses a commit for a partition the member does not own, and bad offsets", async () => {
      await w().admin.createTopic({ name: "own", partitions: 2 });
      const a = w().consumer({ groupId: "owng", assignors: ["range"] });
      const b = w().consumer({ groupId: "owng", assignors: ["range"] });
      await a.subscribe(["own"]);
      await b.subscribe(["own"]);
      await w().settle([a, b], 2);
      const theirs = b.assignment()[0]!;
      await rejectsWith(a.commitSync([{ ...theirs, offset: 0 }]), "COMMIT_FAILED", "offsets");
      const mine = a.assignment()[0]!;
      await rejectsWith(a.commitSync([{ ...mine, offset: -2 }]), "INVALID_REQUEST", "offset");
      await a.close();
      await b.close();
    });

    it("lists groups, deletes an empty one, refuses to delete one with members", async () => {
      await w().admin.createTopic({ name: "lg" });
      const a = w().consumer({ groupId: "alive" });
      await a.subscribe(["lg"]);
      await w().settle([a], 1);
      expect((await w().admin.listGroups()).map((g) => g.groupId)).toContain("alive");
      await rejectsWith(w().admin.deleteGroup("alive"), "NON_EMPTY_GROUP");
      await a.commitSync([{ topic: "lg", partition: 0, offset: 0 }]);
      await a.close();
      await w().admin.deleteGroup("alive");
      await rejectsWith(w().admin.describeGroup("alive"), "GROUP_ID_NOT_FOUND");
    });

    it("alterGroupOffsets resets an empty group", async () => {
      await w().admin.createTopic({ name: "ag" });
      const p = w().producer();
      await p.sendBatch([0, 1, 2, 3].map((i) => ({ topic: "ag", value: `${i}` })));
      await w().admin.alterGroupOffsets("agg", [{ topic: "ag", partition: 0, offset: 2 }]);
      expect(await w().admin.listGroupOffsets("agg")).toEqual([
        { topic: "ag", partition: 0, offset: 2, metadata: "" },
      ]);
      const c = w().consumer({ groupId: "agg" });
      await c.subscribe(["ag"]);
      expect((await w().pollUntil(c, 2)).map(text)).toEqual(["2", "3"]);
      await c.close();
      await p.close();
    });
  });
}

function durabilityTests(w: () => World): void {
  describe("durability", () => {
    it('a topic whose name begins with "__" stays an ordinary topic across a reopen', async () => {
      await w().admin.createTopic({ name: "__heartbeat" });
      await w().reopen();
      expect(await w().admin.describeTopic("__heartbeat")).toMatchObject({ internal: false });
      expect(await w().admin.listTopics()).toEqual(["__heartbeat"]);
      await w().admin.deleteTopic("__heartbeat");
      expect(await w().admin.listTopics()).toEqual([]);
    });

    it("topics, records, config and committed offsets survive a reopen", async () => {
      await w().admin.createTopic({ name: "keep", partitions: 3, retentionMs: 3_600_000 });
      const p = w().producer();
      await p.sendBatch(
        Array.from({ length: 30 }, (_, i) => ({ topic: "keep", key: `k${i}`, value: `${i}` })),
      );
      await p.close();
      const c = w().consumer({ groupId: "kg" });
      await c.subscribe(["keep"]);
      const read = await w().settle([c], 3);
      read.push(...(await w().pollUntil(c, 30 - read.length)));
      expect(read).toHaveLength(30);
      await c.commitSync();
      await c.close();
      await w().reopen();
      const d = await w().admin.describeTopic("keep");
      expect(d).toMatchObject({ partitions: 3 });
      expect(d.config.retentionMs).toBe(3_600_000);
      const offsets = await w().admin.listGroupOffsets("kg");
      expect(offsets.map((o) => o.offset).reduce((a, b) => a + b, 0)).toBe(30);
      const reader = w().consumer();
      await reader.assign([0, 1, 2].map((partition) => ({ topic: "keep", partition })));
      const all = await w().pollUntil(reader, 30);
      expect(all.map(text).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `${i}`).sort());
      for (const r of all) expect(r.partition).toBe(kafkaPartition(r.key!.toString(), 3));
      await reader.close();
    });

    it("a deleted topic stays deleted after a reopen, and its name can be reused", async () => {
      await w().admin.createTopic({ name: "gone", partitions: 2 });
      const p = w().producer();
      await p.send({ topic: "gone", value: "x" });
      await p.close();
      await w().admin.deleteTopic("gone");
      await w().reopen();
      expect(await w().admin.listTopics()).toEqual([]);
      await w().admin.createTopic({ name: "gone" });
      expect((await w().admin.describePartition("gone", 0)).highWatermark).toBe(0);
    });
  });
}
