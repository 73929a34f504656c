/**
 * Commits of a group member on the embedded service, as a Kafka consumer's user relies on them:
 * `commitAsync` (success and refusal reach the callback), auto-commit (what was polled, not
 * beyond, and nothing with it off), a stale generation's commit refused with
 * ILLEGAL_GENERATION, and `describeGroup`'s member assignments against what each member reads.
 * Time runs on a virtual clock.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../time/index.js";
import type { EmbeddedConsumer } from "./embedded-consumer.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { TopicPartition } from "./topic-admin.js";
import type { ConsumerOptions, ConsumerRecord, TopicConsumer } from "./topic-consumer.js";
import { isTopicError } from "./topic-error.js";

let dir: string;
let clock: VirtualClock;
let topics: EmbeddedTopicService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-commits-"));
  clock = new VirtualClock();
  topics = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
});

afterEach(async () => {
  await topics.close();
  rmSync(dir, { recursive: true, force: true });
});

async function reopen(): Promise<void> {
  await topics.close();
  topics = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
}

const member = (groupId: string, options: ConsumerOptions = {}): TopicConsumer =>
  topics.consumer({ groupId, autoOffsetReset: "earliest", autoCommit: false, ...options });

/** Sends `count` records spread evenly over the topic's partitions; values are "0", "1", ... */
async function produce(topic: string, count: number, from = 0): Promise<void> {
  const producer = topics.producer({ lingerMs: 0, partitioner: "round-robin" });
  await producer.sendBatch(
    Array.from({ length: count }, (_, i) => ({ topic, value: `${from + i}` })),
  );
  await producer.close();
}

/** Polls every consumer until each owns some partitions and together they own `total`. */
async function settle(consumers: readonly TopicConsumer[], total: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    for (const c of consumers) await c.poll();
    const owned = consumers.map((c) => c.assignment().length);
    if (owned.every((n) => n > 0) && owned.reduce((a, b) => a + b, 0) === total) return;
    await clock.advance(10);
  }
  throw new Error(`group did not settle: ${consumers.map((c) => c.assignment().length).join()}`);
}

/** Polls until `count` records came (or 200 polls passed). */
async function pollUntil(consumer: TopicConsumer, count: number): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  for (let i = 0; i < 200 && out.length < count; i++) {
    out.push(...(await consumer.poll()));
    if (out.length < count) await clock.advance(10);
  }
  return out;
}

/** What `commitAsync` reports to its callback. */
function commitAsync(
  consumer: TopicConsumer,
  offsets?: ReadonlyArray<TopicPartition & { offset: number; metadata?: string }>,
): Promise<Error | undefined> {
  return new Promise((resolve) => consumer.commitAsync(offsets, resolve));
}

const names = (tps: readonly TopicPartition[]): string[] =>
  tps.map((tp) => `${tp.topic}-${tp.partition}`).sort();

const offsetsBy = (records: readonly ConsumerRecord[], partition: number): number[] =>
  records.filter((r) => r.partition === partition).map((r) => r.offset);

describe("commitAsync", () => {
  it("commits the positions of what was polled, reports success, and a member after a reopen resumes there", async () => {
    await topics.admin.createTopic({ name: "ca", partitions: 2 });
    await produce("ca", 10);
    const a = member("cag", { clientId: "a" });
    await a.subscribe(["ca"]);
    expect(await pollUntil(a, 10)).toHaveLength(10);
    const reports: Array<Error | undefined> = [];
    await new Promise<void>((resolve) =>
      a.commitAsync(undefined, (error) => {
        reports.push(error);
        resolve();
      }),
    );
    expect(reports).toEqual([undefined]);
    const described = await topics.admin.describeGroup("cag");
    expect(described.offsets.map((o) => [o.partition, o.committedOffset, o.lag])).toEqual([
      [0, 5, 0],
      [1, 5, 0],
    ]);
    // Explicit offsets (with metadata) go through the same way.
    expect(await commitAsync(a, [{ topic: "ca", partition: 1, offset: 4, metadata: "m" }])).toBe(
      undefined,
    );
    expect(await a.committed([{ topic: "ca", partition: 1 }])).toEqual([
      { topic: "ca", partition: 1, offset: 4, metadata: "m" },
    ]);
    expect(reports).toHaveLength(1); // a callback is called once
    await a.close(); // autoCommit is off: closing commits nothing more
    await reopen();
    expect(await topics.admin.listGroupOffsets("cag")).toEqual([
      { topic: "ca", partition: 0, offset: 5, metadata: "" },
      { topic: "ca", partition: 1, offset: 4, metadata: "m" },
    ]);
    await produce("ca", 2, 10);
    const b = member("cag", { clientId: "b" });
    await b.subscribe(["ca"]);
    const resumed = await pollUntil(b, 3);
    expect(offsetsBy(resumed, 0)).toEqual([5]);
    expect(offsetsBy(resumed, 1)).toEqual([4, 5]);
    await b.close();
  });

  it("reports COMMIT_FAILED naming the field for a partition the member does not own, and commits nothing", async () => {
    await topics.admin.createTopic({ name: "own", partitions: 2 });
    const a = member("owng", { clientId: "a", assignors: ["range"] });
    const b = member("owng", { clientId: "b", assignors: ["range"] });
    await a.subscribe(["own"]);
    await b.subscribe(["own"]);
    await settle([a, b], 2);
    const theirs = b.assignment()[0]!;
    const error = await commitAsync(a, [{ ...theirs, offset: 1 }]);
    if (!isTopicError(error, "COMMIT_FAILED")) throw error ?? new Error("expected COMMIT_FAILED");
    expect(error.field).toBe("offsets");
    expect(error.details).toEqual({ topic: theirs.topic, partition: theirs.partition });
    // Without a callback the failure is dropped (no unhandled rejection).
    a.commitAsync([{ ...theirs, offset: 1 }]);
    await clock.advance(0);
    expect(await topics.admin.listGroupOffsets("owng")).toEqual([]);
    await a.close();
    const closed = await commitAsync(a);
    expect(isTopicError(closed, "ILLEGAL_STATE")).toBe(true);
    await b.close();
  });
});

describe("auto-commit", () => {
  it("is on by default: commits, every interval, the positions of records returned by earlier polls, and a new member resumes there", async () => {
    await topics.admin.createTopic({ name: "ac" });
    await produce("ac", 10);
    const options = {
      autoCommitIntervalMs: 100,
      maxPollRecords: 3,
      sessionTimeoutMs: 1000,
      heartbeatIntervalMs: 100,
    };
    const a = topics.consumer({ groupId: "acg", autoOffsetReset: "earliest", ...options });
    await a.subscribe(["ac"]);
    expect((await a.poll()).map((r) => r.offset)).toEqual([0, 1, 2]);
    await clock.advance(50);
    expect((await a.poll()).map((r) => r.offset)).toEqual([3, 4, 5]);
    expect(await topics.admin.listGroupOffsets("acg")).toEqual([]); // the interval has not passed
    await clock.advance(50);
    // This poll commits what the last ones returned (6), not what it returns itself.
    expect((await a.poll()).map((r) => r.offset)).toEqual([6, 7, 8]);
    expect(await topics.admin.listGroupOffsets("acg")).toEqual([
      { topic: "ac", partition: 0, offset: 6, metadata: "" },
    ]);
    // The member crashes (no commit at close); after its session ends a new one takes over.
    (a as EmbeddedConsumer).silence();
    await clock.advance(1100);
    const b = topics.consumer({ groupId: "acg", autoOffsetReset: "earliest", ...options });
    await b.subscribe(["ac"]);
    expect((await pollUntil(b, 4)).map((r) => r.offset)).toEqual([6, 7, 8, 9]);
    // Closing commits the positions of everything returned.
    await b.close();
    expect(await topics.admin.listGroupOffsets("acg")).toEqual([
      { topic: "ac", partition: 0, offset: 10, metadata: "" },
    ]);
  });

  it("with autoCommit false commits nothing, however long the consumer polls", async () => {
    await topics.admin.createTopic({ name: "nac" });
    await produce("nac", 10);
    const a = member("nacg", { autoCommitIntervalMs: 100, maxPollRecords: 3 });
    await a.subscribe(["nac"]);
    const read: ConsumerRecord[] = [];
    for (let i = 0; i < 10; i++) {
      read.push(...(await a.poll()));
      await clock.advance(500);
    }
    expect(read).toHaveLength(10);
    await a.close();
    expect(await topics.admin.listGroupOffsets("nacg")).toEqual([]);
    const b = member("nacg");
    await b.subscribe(["nac"]);
    expect((await pollUntil(b, 10)).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await b.close();
  });
});

describe("generations", () => {
  it("a member still on the generation before a rebalance gets ILLEGAL_GENERATION naming generationId; nothing is committed", async () => {
    await topics.admin.createTopic({ name: "sg", partitions: 4 });
    await produce("sg", 8);
    const opts = { assignors: ["range"] as const };
    const a = member("sgg", { ...opts, clientId: "a" });
    const b = member("sgg", { ...opts, clientId: "b" });
    await a.subscribe(["sg"]);
    await b.subscribe(["sg"]);
    await settle([a, b], 4);
    const before = a.groupMetadata().generationId;
    const formerlyA = a.assignment()[0]!;
    // A third member joins: a rejoins at once, the rebalance ends when b rejoins too, and a has
    // not looked at the group since.
    const c = member("sgg", { ...opts, clientId: "c" });
    await c.subscribe(["sg"]);
    await a.poll();
    await b.poll();
    expect((await topics.admin.describeGroup("sgg")).generationId).toBeGreaterThan(before);
    expect(a.groupMetadata().generationId).toBe(before);
    const stale = [{ ...formerlyA, offset: 1 }];
    const refused = await a.commitSync(stale).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const asynchronously = await commitAsync(a, stale);
    for (const error of [refused, asynchronously]) {
      if (!isTopicError(error, "ILLEGAL_GENERATION"))
        throw error ?? new Error("expected ILLEGAL_GENERATION");
      expect(error.field).toBe("generationId");
      expect(error.details).toEqual({ current: before + 1, got: before });
    }
    expect(await topics.admin.listGroupOffsets("sgg")).toEqual([]);
    // Once it has caught up with the group, it commits what it owns now.
    await settle([a, b, c], 4);
    const now = a.assignment()[0]!;
    await a.commitSync([{ ...now, offset: 1 }]);
    expect(await topics.admin.listGroupOffsets("sgg")).toEqual([
      { ...now, offset: 1, metadata: "" },
    ]);
    for (const m of [a, b, c]) await m.close();
  });
});

describe("describeGroup", () => {
  it("shows each member of a range group the partitions its consumer reads", async () => {
    await topics.admin.createTopic({ name: "da", partitions: 3 });
    await topics.admin.createTopic({ name: "db", partitions: 2 });
    const a = member("dg", { clientId: "a", assignors: ["range"] });
    const b = member("dg", { clientId: "b", assignors: ["range"] });
    await a.subscribe(["da", "db"]);
    await b.subscribe(["da", "db"]);
    await settle([a, b], 5);
    const check = async (consumers: readonly TopicConsumer[]): Promise<void> => {
      const described = await topics.admin.describeGroup("dg");
      expect(described.protocol).toBe("range");
      expect(described.members).toHaveLength(consumers.length);
      for (const consumer of consumers) {
        const { memberId } = consumer.groupMetadata();
        const shown = described.members.find((m) => m.memberId === memberId);
        expect(shown, memberId).toBeDefined();
        expect(names(shown!.assignment)).toEqual(names(consumer.assignment()));
        // Each partition's row names the same owner.
        for (const tp of consumer.assignment())
          expect(
            described.offsets.find((o) => o.topic === tp.topic && o.partition === tp.partition)
              ?.memberId,
          ).toBe(memberId);
      }
    };
    await check([a, b]);
    // Range: per topic, members in member-id order ("a-…" before "b-…") take contiguous blocks.
    expect(names(a.assignment())).toEqual(["da-0", "da-1", "db-0"]);
    expect(names(b.assignment())).toEqual(["da-2", "db-1"]);
    await b.close();
    await settle([a], 5);
    await check([a]);
    await a.close();
  });
});
