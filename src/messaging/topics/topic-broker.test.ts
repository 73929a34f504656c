import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CompressionCodec, encodeBatch } from "../../engine/index.js";
import { codecByName } from "../../engine/compression.js";
import { VirtualClock } from "../../time/virtual-clock.js";
import { registerKafkaCodecs } from "./kafka-codecs.js";
import { TopicBroker } from "./topic-broker.js";
import { errorCodeOf } from "../../server/kafka/handlers/kafka-errors.js";
import { type TopicError, type TopicErrorName, isTopicError } from "./topic-error.js";

registerKafkaCodecs();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openBroker(dir?: string): Promise<{ broker: TopicBroker; dir: string }> {
  const at = dir ?? mkdtempSync(join(tmpdir(), "sluice-broker-"));
  if (dir === undefined) dirs.push(at);
  const broker = await TopicBroker.open(at, { clock: new VirtualClock(), fsync: "never" });
  return { broker, dir: at };
}

const batch = (values: string[], producerId = -1, epoch = -1, sequence = -1): Buffer =>
  encodeBatch(
    values.map((v) => ({ value: Buffer.from(v) })),
    {
      baseOffset: 0,
      defaultTimestamp: Date.UTC(2026, 0, 1),
      ...(producerId < 0
        ? {}
        : { producer: { producerId, producerEpoch: epoch, baseSequence: sequence } }),
    },
  );

async function refusedWith(
  promise: Promise<unknown>,
  name: TopicErrorName,
  field?: string,
): Promise<TopicError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isTopicError(error, name))
    throw error instanceof Error ? error : new Error(`expected ${name}`);
  if (field !== undefined) expect(error.field).toBe(field);
  return error;
}

// Kafka's producer.id.expiration.ms: a producer that writes nothing to a partition for that
// long is forgotten there (looked for every 10 minutes, and when the partition opens), so the
// table does not grow with every producer that ever wrote.
describe("TopicBroker: idempotent producers expire", () => {
  const MINUTE = 60_000;

  it("a producer idle for the expiration is forgotten at the next check, one that wrote since is kept, and the forgotten one's next batch is a new producer's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-broker-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    const broker = await TopicBroker.open(dir, {
      clock,
      fsync: "never",
      producerIdExpirationMs: MINUTE,
    });
    await broker.createTopic({ name: "t" });
    await broker.appendBatch("t", 0, batch(["a"], 1, 0, 0));
    await clock.advance(5 * MINUTE);
    await broker.appendBatch("t", 0, batch(["b"], 2, 0, 0));
    // Idle for 5 minutes, but not looked for before 10 minutes have passed since the open.
    expect(broker.partitionLog("t", 0).producerCount).toBe(2);
    await refusedWith(
      broker.appendBatch("t", 0, batch(["x"], 1, 0, 7)),
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    await clock.advance(5 * MINUTE);
    await broker.appendBatch("t", 0, batch(["c"], 2, 0, 1));
    expect(broker.partitionLog("t", 0).producerCount).toBe(1);
    // Forgotten: any sequence starts it again, as Kafka takes an unknown producer's batch.
    await broker.appendBatch("t", 0, batch(["d"], 1, 0, 7));
    expect(broker.partitionLog("t", 0).highWatermark).toBe(4);
    await broker.close();
  });

  it("at open, the producers whose last batch is older than the expiration are forgotten", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-broker-"));
    dirs.push(dir);
    const reopen = (startMs: number) =>
      TopicBroker.open(dir, {
        clock: new VirtualClock(startMs),
        fsync: "never",
        producerIdExpirationMs: MINUTE,
      });
    const written = Date.UTC(2026, 0, 1); // the batches' timestamp
    const broker = await reopen(written);
    await broker.createTopic({ name: "t" });
    await broker.appendBatch("t", 0, batch(["a"], 3, 0, 0));
    await broker.close();
    const soon = await reopen(written + MINUTE / 2);
    expect(soon.partitionLog("t", 0).producerCount).toBe(1);
    await soon.close();
    const later = await reopen(written + 2 * MINUTE);
    expect(later.partitionLog("t", 0).producerCount).toBe(0);
    await later.close();
  });

  it("defaults to one day, as Kafka's producer.id.expiration.ms", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-broker-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    const broker = await TopicBroker.open(dir, { clock, fsync: "never" });
    await broker.createTopic({ name: "t" });
    await broker.appendBatch("t", 0, batch(["a"], 1, 0, 0));
    await clock.advance(23 * 60 * MINUTE);
    await broker.appendBatch("t", 0, batch(["b"], 2, 0, 0));
    expect(broker.partitionLog("t", 0).producerCount).toBe(2);
    await clock.advance(60 * MINUTE);
    await broker.appendBatch("t", 0, batch(["c"], 2, 0, 1));
    expect(broker.partitionLog("t", 0).producerCount).toBe(1);
    await broker.close();
  });
});

describe("TopicBroker: batches from outside (the Kafka listener's path)", () => {
  it("writes a retried idempotent batch once and answers with its first offsets", async () => {
    const { broker } = await openBroker();
    await broker.createTopic({ name: "t" });
    const first = await broker.appendBatch("t", 0, batch(["a", "b"], 7, 0, 0));
    const retry = await broker.appendBatch("t", 0, batch(["a", "b"], 7, 0, 0));
    expect(retry).toEqual(first);
    const next = await broker.appendBatch("t", 0, batch(["c"], 7, 0, 2));
    expect(next.baseOffset).toBe(2);
    expect(
      broker
        .partitionLog("t", 0)
        .read(0, 100, 1 << 20)
        .records.map((r) => r.value?.toString()),
    ).toEqual(["a", "b", "c"]);
    await broker.close();
  });

  it("refuses a gap in the sequence and an older epoch with Kafka's errors; nothing is written", async () => {
    const { broker } = await openBroker();
    await broker.createTopic({ name: "t" });
    await broker.appendBatch("t", 0, batch(["a"], 9, 1, 0));
    await refusedWith(
      broker.appendBatch("t", 0, batch(["x"], 9, 1, 5)),
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    await refusedWith(
      broker.appendBatch("t", 0, batch(["x"], 9, 0, 1)),
      "INVALID_PRODUCER_EPOCH",
      "producerEpoch",
    );
    await refusedWith(
      broker.appendBatch("t", 0, batch(["x"], 9, 2, 3)),
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    expect(broker.partitionLog("t", 0).highWatermark).toBe(1);
    // a new epoch starting at 0 is accepted
    await broker.appendBatch("t", 0, batch(["b"], 9, 2, 0));
    expect(broker.partitionLog("t", 0).highWatermark).toBe(2);
    await broker.close();
  });

  it("remembers producer sequences across a reopen", async () => {
    const { broker, dir } = await openBroker();
    await broker.createTopic({ name: "t" });
    await broker.appendBatch("t", 0, batch(["a"], 3, 0, 0));
    await broker.close();
    const { broker: again } = await openBroker(dir);
    const retry = await again.appendBatch("t", 0, batch(["a"], 3, 0, 0));
    expect(retry.baseOffset).toBe(0);
    expect(again.partitionLog("t", 0).highWatermark).toBe(1);
    await again.close();
  });

  it("refuses a decompression bomb at append: a typed error, nothing on disk", async () => {
    const { broker } = await openBroker();
    await broker.createTopic({ name: "t", maxMessageBytes: 8 * 1024 * 1024 });
    for (const name of ["gzip", "zstd", "lz4", "snappy"] as const) {
      // A small compressed batch whose records section inflates past the 64 MiB limit.
      const inflated = codecByName(name)!.compress(Buffer.alloc(80 * 1024 * 1024));
      const honest = encodeBatch([{ value: Buffer.from("x") }], {
        baseOffset: 0,
        defaultTimestamp: Date.UTC(2026, 0, 1),
        compression: CompressionCodec[name],
      });
      const bomb = spliceRecords(honest, inflated);
      expect(bomb.length).toBeLessThan(8 * 1024 * 1024); // within maxMessageBytes: only decompression tells
      await refusedWith(broker.appendBatch("t", 0, bomb), "CORRUPT_MESSAGE");
    }
    expect(broker.partitionLog("t", 0).logEndOffset).toBe(0);
    expect(broker.partitionLog("t", 0).sizeBytes).toBe(0);
    await broker.close();
  });

  it("refuses a batch whose codec bits name no codec (5, 6, 7) with Kafka's UNSUPPORTED_COMPRESSION_TYPE; nothing is stored", async () => {
    const { broker } = await openBroker();
    await broker.createTopic({ name: "t" });
    for (const codec of [5, 6, 7]) {
      const refused = await refusedWith(
        broker.appendBatch("t", 0, withCodecBits(batch(["a", "b"]), codec)),
        "UNSUPPORTED_COMPRESSION_TYPE",
        "batch.attributes",
      );
      // What the Kafka listener answers a client with: error 76, not INVALID_REQUEST.
      expect(errorCodeOf(refused)).toBe(76);
    }
    // A producer's batch (idempotent) is refused the same way and leaves its sequence unused.
    await refusedWith(
      broker.appendBatch("t", 0, withCodecBits(batch(["x"], 11, 0, 0), 6)),
      "UNSUPPORTED_COMPRESSION_TYPE",
      "batch.attributes",
    );
    const log = broker.partitionLog("t", 0);
    expect(log.logEndOffset).toBe(0);
    expect(log.highWatermark).toBe(0);
    expect(log.sizeBytes).toBe(0);
    // The partition goes on: the same producer's batch with sequence 0 is the first record.
    expect((await broker.appendBatch("t", 0, batch(["ok"], 11, 0, 0))).baseOffset).toBe(0);
    expect(firstPartition(broker)).toEqual(["ok"]);
    await broker.close();
  });

  it("refuses corrupt bytes and batches over maxMessageBytes", async () => {
    const { broker } = await openBroker();
    await broker.createTopic({ name: "t", maxMessageBytes: 100 });
    const good = batch(["ok"]);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1]! ^= 0xff;
    await refusedWith(broker.appendBatch("t", 0, flipped), "CORRUPT_MESSAGE");
    await refusedWith(broker.appendBatch("t", 0, batch(["x".repeat(200)])), "MESSAGE_TOO_LARGE");
    await refusedWith(broker.appendBatch("t", 3, good), "UNKNOWN_TOPIC_OR_PARTITION");
    expect((await broker.appendBatch("t", 0, good)).baseOffset).toBe(0);
    await broker.close();
  });
});

/** Replaces a batch's records section and fixes its length and CRC, as a malicious client would. */
function spliceRecords(batch: Buffer, records: Buffer): Buffer {
  const out = Buffer.concat([batch.subarray(0, 61), records]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

/** The batch with its attributes' codec bits set to `codec` and its CRC fixed, as a client could send it. */
function withCodecBits(batch: Buffer, codec: number): Buffer {
  const out = Buffer.from(batch);
  out.writeInt16BE((out.readInt16BE(21) & ~0x07) | codec, 21);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

function crc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const firstPartition = (broker: TopicBroker): (string | undefined)[] =>
  broker
    .partitionLog("t", 0)
    .read(0, 100, 1 << 20)
    .records.map((r) => r.value?.toString());

describe("TopicBroker: deleting topics", () => {
  it("a topic created again under its name while the delete runs starts empty", async () => {
    const { broker, dir } = await openBroker();
    await broker.createTopic({ name: "t", partitions: 2 });
    await broker.appendBatch("t", 0, batch(["old"]));
    const deleting = broker.deleteTopic("t");
    await broker.createTopic({ name: "t", partitions: 2 });
    await deleting;
    await broker.appendBatch("t", 0, batch(["new"]));
    expect(firstPartition(broker)).toEqual(["new"]);
    await broker.close();
    const reopened = (await openBroker(dir)).broker;
    expect(firstPartition(reopened)).toEqual(["new"]);
    await reopened.close();
  });
});

describe("TopicBroker: altered configs", () => {
  it("a partition's log cleans up by the altered retention, without a reopen", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-broker-"));
    dirs.push(dir);
    const clock = new VirtualClock(Date.UTC(2026, 0, 1));
    const broker = await TopicBroker.open(dir, { clock, fsync: "never" });
    await broker.createTopic({ name: "t", segmentBytes: 1024 });
    for (let i = 0; i < 40; i++)
      await broker.appendBatch("t", 0, batch([`record ${i} `.padEnd(100, "x")]));
    await clock.advance(10 * 60_000); // maintenance runs: no retention yet
    expect(broker.partitionLog("t", 0).logStartOffset).toBe(0);
    await broker.alterConfig("t", { retentionBytes: 2048 });
    await clock.advance(10 * 60_000);
    const log = broker.partitionLog("t", 0);
    // Whole segments of about 1 KiB go, oldest first, until 2 KiB or so are left.
    expect(log.logStartOffset).toBeGreaterThanOrEqual(20);
    expect(log.read(0, 100, 1 << 20).records[0]!.offset).toBe(log.logStartOffset);
    await broker.close();
  });
});
