import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../time/virtual-clock.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { JoinRequest } from "./group-coordinator.js";
import type { TopicPartition } from "./topic-admin.js";
import { isTopicError } from "./topic-error.js";
import type { ProducerRecord } from "./topic-producer.js";

// Producer input and group protocol messages of any shape: each call succeeds or fails with a
// typed TopicError naming a field; nothing else is thrown, and what was acknowledged stays.

const dir = mkdtempSync(join(tmpdir(), "sluice-topics-fuzz-"));
let service: EmbeddedTopicService;
const clock = new VirtualClock();
beforeAll(async () => {
  service = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
  await service.admin.createTopic({ name: "fz", partitions: 3, maxMessageBytes: 2048 });
});
afterAll(async () => {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

function expectTyped(error: unknown): void {
  if (!isTopicError(error)) throw error;
  expect(typeof error.field === "string" || error.kafkaError === "ILLEGAL_STATE").toBe(true);
}

/** Mostly plausible values, with anything at all mixed in. */
const loose = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: fc.anything() });

const bytes = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
  fc.constant(null),
);

const recordArb = fc.record(
  {
    topic: loose(fc.constantFrom("fz", "nope", "", "__consumer_offsets")),
    key: loose(bytes),
    value: loose(bytes),
    headers: loose(
      fc.array(fc.record({ key: loose(fc.string({ maxLength: 8 })), value: loose(bytes) }), {
        maxLength: 3,
      }),
    ),
    partition: loose(fc.integer({ min: -2, max: 4 })),
    timestamp: loose(fc.integer({ min: -5, max: 2 ** 53 })),
  },
  { requiredKeys: ["topic", "value"] },
);

describe("fuzzed producer input", () => {
  it("every send and sendBatch resolves or rejects with a typed error; acknowledged records stay", async () => {
    const acknowledged: Array<{ partition: number; offset: number; value: string }> = [];
    const producer = service.producer({ lingerMs: 0 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (records, batch) => {
          const plain = records as unknown as ProducerRecord[];
          try {
            const results = batch
              ? await producer.sendBatch(plain)
              : [await producer.send(plain[0]!)];
            results.forEach((m, i) => {
              const v = plain[i]!.value;
              if (m.topic === "fz" && typeof v === "string")
                acknowledged.push({ partition: m.partition, offset: m.offset, value: v });
            });
          } catch (error) {
            expectTyped(error);
          }
        },
      ),
      { numRuns: 300, seed: 15 },
    );
    await producer.close();
    const reader = service.consumer({ autoOffsetReset: "earliest" });
    await reader.assign([0, 1, 2].map((partition) => ({ topic: "fz", partition })));
    const stored = new Map<string, string>();
    for (;;) {
      const got = await reader.poll();
      if (got.length === 0) break;
      for (const r of got)
        stored.set(`${r.partition}@${r.offset}`, r.value?.toString("utf8") ?? "");
    }
    await reader.close();
    for (const a of acknowledged) expect(stored.get(`${a.partition}@${a.offset}`)).toBe(a.value);
  });

  it("producer options of any shape are taken or refused with a typed error", () => {
    fc.assert(
      fc.property(
        fc.record({
          partitioner: loose(fc.constantFrom("key-hash", "round-robin", "sticky", "x")),
          batchSize: loose(fc.integer({ min: -1, max: 100000 })),
          lingerMs: loose(fc.integer({ min: -1, max: 100 })),
          compression: loose(fc.constantFrom("none", "gzip", "snappy", "lz4", "zstd", "brotli")),
          acks: loose(fc.constantFrom(0, 1, -1, "all", 2)),
          idempotent: loose(fc.boolean()),
          transactionalId: loose(fc.string({ maxLength: 5 })),
          transactionTimeoutMs: loose(fc.integer({ min: -1, max: 10 ** 7 })),
        }),
        (options) => {
          try {
            void service.producer(options as never).close();
          } catch (error) {
            expectTyped(error);
          }
        },
      ),
      { numRuns: 300, seed: 15 },
    );
  });
});

const tpArb = fc.record({
  topic: loose(fc.constantFrom("fz", "nope")),
  partition: loose(fc.integer({ min: -1, max: 3 })),
});

describe("fuzzed group protocol messages", () => {
  it("join, heartbeat, view, commit and leave of any shape succeed or fail with a typed error", async () => {
    const groups = service.groupCoordinator;
    const members: string[] = [];
    const memberId = fc.oneof(
      fc.constant(""),
      fc.constant("ghost"),
      fc.nat(3).map((i) => members[i] ?? ""),
      fc.anything(),
    );
    const groupId = loose(fc.constantFrom("g1", "g2", ""));
    const join = fc.record({
      kind: fc.constant("join" as const),
      request: fc.record({
        groupId,
        memberId,
        clientId: loose(fc.string({ maxLength: 4 })),
        host: loose(fc.string({ maxLength: 4 })),
        topics: loose(fc.array(fc.constantFrom("fz", "nope", ""), { maxLength: 3 })),
        assignors: loose(
          fc.array(fc.constantFrom("range", "roundrobin", "cooperative-sticky", "x"), {
            maxLength: 3,
          }),
        ),
        owned: loose(fc.array(tpArb, { maxLength: 3 })),
        sessionTimeoutMs: loose(fc.integer({ min: -1, max: 100000 })),
        rebalanceTimeoutMs: loose(fc.integer({ min: -1, max: 100000 })),
      }),
    });
    const other = fc.record({
      kind: fc.constantFrom(
        "heartbeat" as const,
        "view" as const,
        "leave" as const,
        "commit" as const,
      ),
      groupId,
      memberId,
      generation: loose(fc.integer({ min: -1, max: 5 })),
      offsets: loose(
        fc.array(
          fc.record({
            topic: tpArb.map((t) => t.topic),
            partition: tpArb.map((t) => t.partition),
            offset: loose(fc.integer({ min: -2, max: 100 })),
          }),
          { maxLength: 3 },
        ),
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(join, other), { minLength: 1, maxLength: 8 }),
        async (messages) => {
          for (const m of messages) {
            try {
              if (m.kind === "join") members.push(groups.join(m.request as unknown as JoinRequest));
              else if (m.kind === "heartbeat")
                groups.heartbeat(m.groupId as string, m.memberId as string);
              else if (m.kind === "view") groups.view(m.groupId as string, m.memberId as string);
              else if (m.kind === "leave") groups.leave(m.groupId as string, m.memberId as string);
              else
                await groups.commit(
                  m.groupId as string,
                  m.memberId as string | undefined,
                  m.generation as number,
                  m.offsets as Array<TopicPartition & { offset: number }>,
                );
            } catch (error) {
              expectTyped(error);
            }
            await clock.advance(5);
          }
        },
      ),
      { numRuns: 200, seed: 15 },
    );
    // The service's own groups still work after all that.
    const consumer = service.consumer({ groupId: "after-fuzz", autoOffsetReset: "earliest" });
    await consumer.subscribe(["fz"]);
    for (let i = 0; i < 50 && consumer.assignment().length < 3; i++) {
      await consumer.poll();
      await clock.advance(10);
    }
    expect(consumer.assignment()).toHaveLength(3);
    await consumer.close();
  });
});
