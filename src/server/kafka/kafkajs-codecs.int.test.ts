// kafkajs produces with every compression codec Kafka has, through codecs registered the way its
// documentation says (CompressionCodecs[CompressionTypes.X] = ...), here built on the npm codecs
// the repository already depends on: each batch is stored with its codec, as the client's bytes,
// and a kafkajs consumer reads every record back from the beginning.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBatches, readBatchHeader, SluiceError } from "../../index.js";
import { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import { embeddedKafkaBackend } from "./embedded-kafka-backend.js";
import type { KafkaBackend } from "./kafka-backend.js";
import { KafkaServer } from "./kafka-server.js";

// The codec packages are CommonJS native bindings: load them with require, typed by their own
// declarations (as the server's kafka-codecs.ts does).
const require = createRequire(import.meta.url);
const snappy = require("@napi-rs/snappy") as typeof import("@napi-rs/snappy");
const lz4 = require("lz4-napi") as typeof import("lz4-napi");
const zstd = require("zstd-napi") as typeof import("zstd-napi");

/** kafkajs hands a codec its encoder, whose `buffer` holds the records to compress. */
interface KafkajsEncoder {
  readonly buffer: Buffer;
}
interface KafkajsCodec {
  compress(encoder: KafkajsEncoder): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** xerial's snappy stream framing (Java's and kafka-python's snappy): magic, version 1, compatible 1. */
const XERIAL_HEADER = Buffer.from([
  0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1,
]);
const XERIAL_BLOCK_BYTES = 32 * 1024;

function xerialCompress(data: Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_HEADER];
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_BYTES) {
    const block = snappy.compressSync(data.subarray(at, at + XERIAL_BLOCK_BYTES));
    const size = Buffer.alloc(4);
    size.writeInt32BE(block.length);
    parts.push(size, block);
  }
  return Buffer.concat(parts);
}

function snappyDecompress(data: Buffer): Buffer {
  if (!data.subarray(0, 8).equals(XERIAL_HEADER.subarray(0, 8))) return snappy.uncompressSync(data);
  const blocks: Buffer[] = [];
  for (let at = XERIAL_HEADER.length; at < data.length;) {
    const size = data.readInt32BE(at);
    blocks.push(snappy.uncompressSync(data.subarray(at + 4, at + 4 + size)));
    at += 4 + size;
  }
  return Buffer.concat(blocks);
}

/** How the snappy codec frames what it sends: plain blocks (kafkajs-snappy) or xerial (Java). */
let snappyFraming: "plain" | "xerial" = "plain";
/** The bytes each codec compressed last: what the client put in its batch. */
const sent = new Map<number, Buffer>();

const codec = (
  type: CompressionTypes,
  compress: (data: Buffer) => Buffer,
  decompress: (data: Buffer) => Buffer,
): (() => KafkajsCodec) => {
  const instance: KafkajsCodec = {
    compress: (encoder) => {
      const compressed = compress(encoder.buffer);
      sent.set(type, compressed);
      return Promise.resolve(compressed);
    },
    decompress: (buffer) => Promise.resolve(decompress(buffer)),
  };
  return () => instance;
};

CompressionCodecs[CompressionTypes.Snappy] = codec(
  CompressionTypes.Snappy,
  (data) => (snappyFraming === "xerial" ? xerialCompress(data) : snappy.compressSync(data)),
  snappyDecompress,
);
// Kafka's lz4 is the LZ4 frame format (what kafkajs-lz4 and Java's KafkaLZ4BlockOutputStream write).
CompressionCodecs[CompressionTypes.LZ4] = codec(
  CompressionTypes.LZ4,
  (data) => lz4.compressFrameSync(data),
  (data) => lz4.decompressFrameSync(data),
);
// zstd: plain zstd frames.
CompressionCodecs[CompressionTypes.ZSTD] = codec(
  CompressionTypes.ZSTD,
  (data) => zstd.compress(data),
  (data) => zstd.decompress(data),
);

let dir: string;
let topics: EmbeddedTopicService;
let backend: KafkaBackend;
let server: KafkaServer;
let kafka: Kafka;
const connectionErrors: Error[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-kafkajs-codecs-"));
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
  backend = embeddedKafkaBackend(topics);
  server = await KafkaServer.listen({
    backend,
    port: 0,
    onConnectionError: (e) => connectionErrors.push(e),
  });
  kafka = new Kafka({
    clientId: "kafkajs-codecs",
    brokers: [`127.0.0.1:${server.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
});

afterAll(async () => {
  await server.close();
  await topics.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Offset of the records in a RecordBatch v2 (after its 61-byte header). */
const RECORDS_AT = 61;
const COMPRESSION_MASK = 0x07;

const cases = [
  { name: "none", type: CompressionTypes.None, framing: "plain" },
  { name: "gzip", type: CompressionTypes.GZIP, framing: "plain" },
  { name: "snappy", type: CompressionTypes.Snappy, framing: "plain" },
  { name: "snappy-xerial", type: CompressionTypes.Snappy, framing: "xerial" },
  { name: "lz4", type: CompressionTypes.LZ4, framing: "plain" },
  { name: "zstd", type: CompressionTypes.ZSTD, framing: "plain" },
] as const;

/** 60 records of about 1 KiB each: 60 KiB, two xerial blocks, compressible but each distinct. */
const valuesOf = (name: string): string[] =>
  Array.from({ length: 60 }, (_, i) => `${name} ${i} ${"abcdefghij".repeat(100)}`);

let attempts = 0;

describe("kafkajs with each compression codec", () => {
  it("stores every batch with the codec the client chose, as its bytes, and a kafkajs consumer reads them all back", async () => {
    // Topics and group of this attempt (a retried test starts afresh).
    const attempt = ++attempts;
    const topicOf = (name: string) => `codec-${name}-${attempt}`;
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    const consumer = kafka.consumer({
      groupId: `codecs-${attempt}`,
      sessionTimeout: 6000,
      rebalanceTimeout: 4000,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 200,
    });
    const consumed = new Map<string, string[]>(cases.map((c) => [topicOf(c.name), []]));
    try {
      await producer.connect();
      for (const { name, type, framing } of cases) {
        const topic = topicOf(name);
        snappyFraming = framing;
        sent.delete(type);
        const [answer] = await producer.send({
          topic,
          compression: type,
          messages: valuesOf(name).map((value, i) => ({ key: `k${i}`, value })),
        });
        expect(answer, name).toMatchObject({ errorCode: 0, baseOffset: "0" });

        const read = await backend.partitions.read(topic, 0, 0, 1 << 30, "read_uncommitted");
        const header = readBatchHeader(read.bytes, 0);
        if (header instanceof SluiceError) throw header;
        // One batch, with the client's codec in its attributes and the client's compressed bytes.
        expect(header.sizeBytes, name).toBe(read.bytes.length);
        expect(header.attributes & COMPRESSION_MASK, name).toBe(type);
        if (type !== CompressionTypes.None && type !== CompressionTypes.GZIP)
          expect(read.bytes.subarray(RECORDS_AT).equals(sent.get(type)!), name).toBe(true);
        if (type !== CompressionTypes.None)
          expect(read.bytes.length, name).toBeLessThan(valuesOf(name).join("").length / 2);
        const stored = decodeBatches(read.bytes);
        if (stored instanceof Error) throw stored;
        expect(
          stored.map((r) => r.value!.toString()),
          name,
        ).toEqual(valuesOf(name));
      }

      await consumer.connect();
      await consumer.subscribe({ topics: [...consumed.keys()], fromBeginning: true });
      await consumer.run({
        eachMessage: ({ topic, message }) =>
          Promise.resolve(void consumed.get(topic)!.push(message.value!.toString())),
      });
      await expect
        .poll(() => [...consumed.values()].reduce((n, values) => n + values.length, 0), {
          timeout: 20_000,
        })
        .toBe(cases.length * 60);
      for (const { name } of cases)
        expect(consumed.get(topicOf(name)), name).toEqual(valuesOf(name));
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  }, 60_000);

  it("closed no connection for a protocol error", () => {
    expect(connectionErrors).toEqual([]);
  });
});
