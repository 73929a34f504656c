// Fetch's minBytes, maxBytes and partitionMaxBytes on the wire, against embedded topics (real
// partition logs): a fetch waits for minBytes (up to maxWaitMs) and answers as soon as enough
// has arrived; the limits bound the answer in whole batches, except that the first batch of the
// answer goes whole even when it alone is larger (KIP-74), so a consumer never stalls.
import { describe, expect, it } from "vitest";
import { decodeBatches, encodeBatch, readBatchHeader, SluiceError } from "../../index.js";
import {
  fetch,
  type FetchResponse,
  produce,
  type ProduceResponse,
} from "./protocol/schemas/index.js";
import { listenerWithRawClient } from "./test-support/listener-fixture.js";
import { RawKafkaClient } from "./test-support/raw-client.js";

const file = listenerWithRawClient("fetch-limits");

/** A batch of `count` records of 100 bytes, `tag` in each value. */
const batchOf = (tag: string, count = 10): Buffer =>
  encodeBatch(
    Array.from({ length: count }, (_, i) => ({
      value: Buffer.from(`${tag}-${i}-`.padEnd(100, "x")),
    })),
    { baseOffset: 0, defaultTimestamp: Date.now() },
  );

async function produceTo(
  topic: string,
  batch: Buffer,
  partition = 0,
  via: RawKafkaClient = file.client,
): Promise<void> {
  const answer = await via.request<ProduceResponse>(produce, 8, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
  expect(answer.responses![0]!.partitionResponses![0]!.errorCode).toBe(0);
}

interface Limits {
  readonly minBytes?: number;
  readonly maxBytes?: number;
  readonly partitionMaxBytes?: number;
  readonly maxWaitMs?: number;
  readonly partitions?: readonly number[];
  readonly version?: number;
}

/** A Fetch of `topic` from offset 0 of each partition; resolves with each partition's records. */
async function fetchFrom(
  topic: string,
  limits: Limits,
  via: RawKafkaClient = file.client,
): Promise<Buffer[]> {
  const answer = await via.request<FetchResponse>(fetch, limits.version ?? 12, {
    maxWaitMs: limits.maxWaitMs ?? 0,
    minBytes: limits.minBytes ?? 1,
    maxBytes: limits.maxBytes ?? 1 << 20,
    isolationLevel: 0,
    topics: [
      {
        topic,
        partitions: (limits.partitions ?? [0]).map((partition) => ({
          partition,
          fetchOffset: 0,
          partitionMaxBytes: limits.partitionMaxBytes ?? 1 << 20,
        })),
      },
    ],
  });
  return answer.responses![0]!.partitions!.map((p) => {
    expect(p.errorCode).toBe(0);
    return p.records as Buffer;
  });
}

/** The sizes of the whole batches in `bytes`; fails if anything is left after the last one. */
function batchSizes(bytes: Buffer): number[] {
  const sizes: number[] = [];
  for (let at = 0; at < bytes.length;) {
    const header = readBatchHeader(bytes, at);
    if (header instanceof SluiceError) throw header;
    expect(at + header.sizeBytes).toBeLessThanOrEqual(bytes.length);
    sizes.push(header.sizeBytes);
    at += header.sizeBytes;
  }
  return sizes;
}

/** A new topic named after `name` (a retried test gets a fresh one). */
let topicCount = 0;
async function createTopic(name: string, partitions = 1): Promise<string> {
  const topic = `${name}-${++topicCount}`;
  await file.topics.admin.createTopic({ name: topic, partitions });
  return topic;
}

const valuesIn = (bytes: Buffer): string[] => {
  const records = decodeBatches(bytes);
  if (records instanceof Error) throw records;
  return records.map((r) => r.value!.toString().replace(/-x+$/, ""));
};

describe("Fetch minBytes", () => {
  it("waits while less than minBytes is there, and answers once enough has arrived, before maxWaitMs", async () => {
    const topic = await createTopic("min-bytes");
    const [first, second, third] = [batchOf("a"), batchOf("b"), batchOf("c")];
    await produceTo(topic, first);
    const producer = await RawKafkaClient.connect(file.listener.port);
    const consumer = await RawKafkaClient.connect(file.listener.port);
    try {
      let answered = false;
      const waiting = fetchFrom(
        topic,
        { minBytes: first.length + second.length + 1, maxWaitMs: 4000 },
        consumer,
      ).finally(() => (answered = true));
      waiting.catch(() => undefined); // awaited below; a failed check before must not leave it unhandled
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false); // one batch is there, fewer bytes than minBytes
      await produceTo(topic, second, 0, producer);
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false); // two batches: still one byte short
      const thirdAt = Date.now();
      await produceTo(topic, third, 0, producer);
      const [records] = await waiting;
      expect(Date.now() - thirdAt).toBeLessThan(2000);
      expect(batchSizes(records!)).toEqual([first.length, second.length, third.length]);
      expect(valuesIn(records!).filter((v) => v.endsWith("-0"))).toEqual(["a-0", "b-0", "c-0"]);
    } finally {
      producer.close();
      consumer.close();
    }
  });

  it("answers with what there is once maxWaitMs has passed without minBytes arriving", async () => {
    const topic = await createTopic("min-bytes-timeout");
    const batch = batchOf("only");
    await produceTo(topic, batch);
    const started = Date.now();
    const [records] = await fetchFrom(topic, { minBytes: 1 << 20, maxWaitMs: 400 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(batchSizes(records!)).toEqual([batch.length]);
  });
});

describe("Fetch maxBytes and partitionMaxBytes", () => {
  /** Five batches of the same size in partition 0 (and partition 1 when `partitions` is 2). */
  async function fiveBatches(
    name: string,
    partitions = 1,
  ): Promise<{ topic: string; size: number }> {
    const topic = await createTopic(name, partitions);
    let size = 0;
    for (let partition = 0; partition < partitions; partition++)
      for (let i = 0; i < 5; i++) {
        const batch = batchOf(`p${partition}b${i}`);
        size = batch.length;
        await produceTo(topic, batch, partition);
      }
    return { topic, size };
  }

  it("partitionMaxBytes: whole batches up to the limit, and the first batch even when it alone is over", async () => {
    const { topic, size } = await fiveBatches("partition-max");
    for (const version of [4, 11, 12]) {
      const fetched = async (partitionMaxBytes: number) =>
        batchSizes((await fetchFrom(topic, { partitionMaxBytes, version }))[0]!).length;
      expect(await fetched(1), `v${version}`).toBe(1);
      expect(await fetched(size - 1), `v${version}`).toBe(1);
      expect(await fetched(size), `v${version}`).toBe(1);
      expect(await fetched(2 * size + size / 2), `v${version}`).toBe(2);
      expect(await fetched(3 * size), `v${version}`).toBe(3);
      expect(await fetched(1 << 20), `v${version}`).toBe(5);
    }
  });

  it("maxBytes: whole batches up to the limit, and the first batch even when it alone is over", async () => {
    const { topic, size } = await fiveBatches("max-bytes");
    const fetched = async (maxBytes: number) =>
      batchSizes((await fetchFrom(topic, { maxBytes }))[0]!).length;
    expect(await fetched(1)).toBe(1);
    expect(await fetched(size - 1)).toBe(1);
    expect(await fetched(2 * size + size / 2)).toBe(2);
    expect(await fetched(4 * size)).toBe(4);
    expect(await fetched(1 << 20)).toBe(5);
  });

  it("maxBytes across partitions: only the answer's first batch may go over; a later partition gets only what fits", async () => {
    const { topic, size } = await fiveBatches("max-bytes-partitions", 2);
    const fetched = async (maxBytes: number, partitionMaxBytes = 1 << 20) =>
      (await fetchFrom(topic, { maxBytes, partitionMaxBytes, partitions: [0, 1] })).map(
        (records) => batchSizes(records).length,
      );
    // The first partition's first batch, whole; nothing of the second partition is over the limit.
    expect(await fetched(1)).toEqual([1, 0]);
    expect(await fetched(size + size / 2)).toEqual([1, 0]);
    expect(await fetched(2 * size)).toEqual([2, 0]);
    // partitionMaxBytes keeps the first partition to two batches; what is left of maxBytes goes
    // to the second, in whole batches.
    expect(await fetched(3 * size + size / 2, 2 * size)).toEqual([2, 1]);
    expect(await fetched(4 * size, 2 * size)).toEqual([2, 2]);
    expect(await fetched(7 * size, 4 * size)).toEqual([4, 3]);
    expect(await fetched(1 << 20)).toEqual([5, 5]);
    // Never more than maxBytes beyond the answer's first batch.
    for (const maxBytes of [size, 2 * size + 7, 5 * size + 1, 9 * size - 1]) {
      const total = (await fetchFrom(topic, { maxBytes, partitions: [0, 1] })).reduce(
        (n, records) => n + records.length,
        0,
      );
      expect(total, `maxBytes ${maxBytes}`).toBeLessThanOrEqual(Math.max(maxBytes, size));
    }
  });
});
