import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../../engine/index.js";
import {
  type SweptMethod,
  type SweptPart,
  untypedFailures,
} from "../../test-support/type-sweep.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { TopicConsumer } from "./topic-consumer.js";
import { TopicError } from "./topic-error.js";

type Case = SweptMethod;

let counter = 0;
const fresh = (): string => `t-${counter++}`;
const tp = (): { topic: string; partition: number } => ({ topic: "typed", partition: 0 });

const ADMIN: readonly Case[] = [
  {
    method: "createTopic",
    args: () => [{ name: fresh(), partitions: 2, retentionMs: 60_000, cleanupPolicy: "delete" }],
    parts: [[0], [0, "name"], [0, "partitions"], [0, "retentionMs"], [0, "cleanupPolicy"]],
  },
  { method: "describeTopic", args: () => ["typed"], parts: [[0]] },
  {
    method: "listTopics",
    args: () => [{ includeInternal: false }],
    parts: [[0], [0, "includeInternal"]],
  },
  {
    method: "alterTopicConfig",
    args: () => ["typed", { retentionMs: 60_000 }],
    parts: [[0], [1], [1, "retentionMs"], [1, "segmentBytes"]],
  },
  { method: "createPartitions", args: () => ["typed", 1], parts: [[0], [1]] },
  { method: "describePartition", args: () => ["typed", 0], parts: [[0], [1]] },
  { method: "offsetForTimestamp", args: () => ["typed", 0, 0], parts: [[0], [1], [2]] },
  { method: "deleteRecords", args: () => ["typed", 0, 0], parts: [[0], [1], [2]] },
  { method: "describeGroup", args: () => ["g"], parts: [[0]] },
  { method: "listGroupOffsets", args: () => ["g"], parts: [[0]] },
  {
    method: "alterGroupOffsets",
    args: () => ["g", [{ ...tp(), offset: 0 }]],
    parts: [[0], [1], [1, 0], [1, 0, "topic"], [1, 0, "partition"], [1, 0, "offset"]],
  },
  { method: "deleteGroup", args: () => ["nope"], parts: [[0]] },
];

const CONSUMER: readonly Case[] = [
  {
    method: "assign",
    args: () => [[tp()]],
    parts: [[0], [0, 0], [0, 0, "topic"], [0, 0, "partition"]],
  },
  {
    method: "poll",
    args: () => [{ timeoutMs: 0, maxRecords: 10 }],
    parts: [[0], [0, "timeoutMs"], [0, "maxRecords"]],
  },
  { method: "seek", args: () => [tp(), 0], parts: [[0], [0, "topic"], [0, "partition"], [1]] },
  { method: "seekToBeginning", args: () => [[tp()]], parts: [[0], [0, 0]] },
  { method: "seekToTimestamp", args: () => [tp(), 0], parts: [[0], [1]] },
  { method: "pause", args: () => [[tp()]], parts: [[0], [0, 0]] },
  { method: "committed", args: () => [[tp()]], parts: [[0], [0, 0]] },
];

const producerOptions = [
  "clientId",
  "partitioner",
  "batchSize",
  "lingerMs",
  "compression",
  "acks",
  "idempotent",
  "transactionalId",
  "transactionTimeoutMs",
  "maxRequestBytes",
];
const consumerOptions = [
  "groupId",
  "clientId",
  "assignors",
  "sessionTimeoutMs",
  "heartbeatIntervalMs",
  "rebalanceTimeoutMs",
  "autoCommit",
  "autoCommitIntervalMs",
  "autoOffsetReset",
  "isolationLevel",
  "maxPollRecords",
  "maxPartitionFetchBytes",
];

/** Making producers and consumers: the options argument and each of its fields. */
const SERVICE: readonly Case[] = [
  {
    method: "producer",
    args: () => [{ lingerMs: 0 }],
    parts: [[0], ...producerOptions.map((field): SweptPart => [0, field])],
  },
  {
    method: "consumer",
    args: () => [{ groupId: "g", autoCommit: false }],
    parts: [[0], ...consumerOptions.map((field): SweptPart => [0, field])],
  },
];

/**
 * The topics' admin and consumer APIs, each argument and field swept with values of every
 * JavaScript type: a call works or fails with a TopicError, never a TypeError from inside.
 */
describe("topics answer wrong-typed input with typed errors", () => {
  let service: EmbeddedTopicService;
  let consumer: TopicConsumer;
  beforeAll(async () => {
    service = await EmbeddedTopicService.open("/data", {
      fs: new SimulatedFileSystem(13),
      clock: new VirtualClock(),
      fsync: "never",
    });
    await service.admin.createTopic({ name: "typed", partitions: 1 });
    consumer = service.consumer({ autoOffsetReset: "earliest", autoCommit: false });
    await consumer.assign([tp()]);
  });
  afterAll(async () => {
    await consumer.close();
    await service.close();
  });

  /** `settle`: what is done with a call's result (a producer or consumer made is closed). */
  const sweep = (
    target: () => object,
    c: Case,
    settle: (result: unknown) => Promise<unknown> = async () => undefined,
  ) =>
    it(c.method, async () => {
      const untyped = await untypedFailures(
        c.args,
        c.parts,
        async (args) => {
          const object = target() as Record<string, (...a: unknown[]) => unknown>;
          await settle(await object[c.method]!.apply(object, args));
        },
        (e) => e instanceof TopicError,
      );
      expect(untyped).toEqual([]);
    });

  describe("service", () => {
    for (const c of SERVICE)
      sweep(
        () => service,
        c,
        (made) => (made as { close(): Promise<void> }).close(),
      );
  });
  describe("admin", () => {
    for (const c of ADMIN) sweep(() => service.admin, c);
  });
  describe("consumer", () => {
    for (const c of CONSUMER) sweep(() => consumer, c);
  });
});
