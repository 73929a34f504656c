import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeBatches, encodeBatch } from "../../engine/index.js";
import { KafkaServer } from "./kafka-server.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import {
  apiVersions,
  fetch,
  metadata,
  produce,
  API_SCHEMAS,
  type FetchResponse,
  type MetadataResponse,
  type ProduceResponse,
} from "./protocol/schemas/index.js";
import { MemoryBackend } from "./test-support/memory-backend.js";
import { RawKafkaClient } from "./test-support/raw-client.js";

let backend: MemoryBackend;
let server: KafkaServer;
let client: RawKafkaClient;
const errors: Error[] = [];

beforeEach(async () => {
  backend = new MemoryBackend();
  errors.length = 0;
  server = await KafkaServer.listen({
    backend,
    port: 0,
    maxFrameBytes: 1 << 20,
    onConnectionError: (e) => errors.push(e),
  });
  client = await RawKafkaClient.connect(server.port);
});

afterEach(async () => {
  client.close();
  await server.close();
});

const batchOf = (values: string[], timestamp = 1_700_000_000_000): Buffer =>
  encodeBatch(
    values.map((v) => ({ value: Buffer.from(v) })),
    { baseOffset: 0, defaultTimestamp: timestamp },
  );

const produceBody = (topic: string, batch: Buffer, acks = -1) => ({
  transactionalId: null,
  acks,
  timeoutMs: 1000,
  topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
});

const fetchBody = (topic: string, offset: number, maxWaitMs = 0) => ({
  maxWaitMs,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  topics: [
    { topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] },
  ],
});

describe("ApiVersions", () => {
  it("answers v3 (flexible body, v0 response header) with the served table", async () => {
    const answer = await client.request(apiVersions, 3, {
      clientSoftwareName: "raw",
      clientSoftwareVersion: "1",
    });
    expect(answer.errorCode).toBe(0);
    const keys = answer.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[];
    expect(keys.find((k) => k.apiKey === 0)).toEqual({ apiKey: 0, minVersion: 0, maxVersion: 9 });
    expect(keys.find((k) => k.apiKey === 1)).toEqual({ apiKey: 1, minVersion: 4, maxVersion: 13 });
    expect(keys.find((k) => k.apiKey === 18)).toEqual({ apiKey: 18, minVersion: 0, maxVersion: 3 });
  });

  it("answers a version it does not serve in the v0 body with UNSUPPORTED_VERSION and the full list (KIP-511)", async () => {
    const frame = RawKafkaClient.frame(apiVersions, 3, {}, 77);
    frame.writeInt16BE(9, 6); // a future ApiVersions version
    client.write(frame);
    const response = await client.nextFrame();
    expect(response.readInt32BE(0)).toBe(77);
    expect(response.readInt16BE(4)).toBe(KafkaErrorCode.UNSUPPORTED_VERSION);
    const count = response.readInt32BE(6);
    expect(count).toBeGreaterThan(5);
    expect(response.length).toBe(4 + 2 + 4 + count * 6);
  });
});

describe("every advertised (API, version)", () => {
  it("takes a request at that version and sends a response that decodes exactly", async () => {
    const advertised = (await client.request(apiVersions, 0, {})).apiKeys as {
      apiKey: number;
      minVersion: number;
      maxVersion: number;
    }[];
    await backend.createTopic({ name: "t", partitions: 1 });
    let checked = 0;
    for (const { apiKey, minVersion, maxVersion } of advertised) {
      const api = API_SCHEMAS.find((a) => a.apiKey === apiKey)!;
      for (
        let version = Math.max(minVersion, apiKey === 0 ? 3 : 0);
        version <= maxVersion;
        version++
      ) {
        const body =
          apiKey === 0 ? produceBody("t", batchOf(["x"])) : apiKey === 1 ? fetchBody("t", 0) : {};
        const response = await client.request(api, version, body);
        expect(response, `${api.name} v${version}`).toBeTypeOf("object");
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(errors).toEqual([]);
  });
});

describe("bad requests close the connection, and only that one", () => {
  it.each([
    ["an unknown API key", (f: Buffer) => f.writeInt16BE(999, 4)],
    ["an unserved version of Fetch", (f: Buffer) => f.writeInt16BE(13, 6)],
    ["Produce v0 (advertised, not served)", (f: Buffer) => f.writeInt16BE(0, 6)],
  ])("%s", async (_name, corrupt) => {
    const frame = RawKafkaClient.frame(metadata, 1, { topics: [] }, 1);
    if (_name.startsWith("an unserved")) frame.writeInt16BE(fetch.apiKey, 4);
    if (_name.startsWith("Produce")) frame.writeInt16BE(produce.apiKey, 4);
    corrupt(frame);
    client.write(frame);
    expect(await client.closedByServer()).toBe(true);
    const other = await RawKafkaClient.connect(server.port);
    expect((await other.request(apiVersions, 0, {})).errorCode).toBe(0);
    other.close();
  });

  it("a frame over the size limit, before its body arrives", async () => {
    client.write(Buffer.from("7fffffff", "hex"));
    expect(await client.closedByServer()).toBe(true);
    expect(errors[0]?.message).toMatch(/frame.size/);
  });

  it("a truncated body", async () => {
    const frame = RawKafkaClient.frame(metadata, 1, { topics: [{ name: "abc" }] }, 1);
    const cut = frame.subarray(0, frame.length - 2);
    cut.writeInt32BE(cut.length - 4, 0);
    client.write(cut);
    expect(await client.closedByServer()).toBe(true);
    expect(errors[0]?.message).toMatch(/^topics\[0\]\.name: expected/);
  });
});

describe("Produce and Fetch", () => {
  beforeEach(() => backend.createTopic({ name: "orders", partitions: 1 }));

  it("appends the client's batch as it is and fetch serves those same bytes", async () => {
    const batch = batchOf(["a", "b", "c"]);
    const produced = await client.request<ProduceResponse>(
      produce,
      9,
      produceBody("orders", batch),
    );
    const partition = produced.responses![0]!.partitionResponses![0]!;
    expect(partition).toMatchObject({ errorCode: 0, baseOffset: 0 });
    const second = batchOf(["d"]);
    await client.request<ProduceResponse>(produce, 3, produceBody("orders", second));
    const fetched = await client.request<FetchResponse>(fetch, 12, fetchBody("orders", 1));
    const answer = fetched.responses![0]!.partitions![0]!;
    expect(answer.highWatermark).toBe(4);
    const records = answer.records as Buffer;
    // Bytes after the base offset are the client's own (the CRC does not cover the base offset).
    expect(records.subarray(8, batch.length).equals(batch.subarray(8))).toBe(true);
    expect(records.subarray(batch.length + 8).equals(second.subarray(8))).toBe(true);
    expect((decodeBatches(records) as { value: Buffer }[]).map((r) => r.value.toString())).toEqual([
      "a",
      "b",
      "c",
      "d",
    ]);
  });

  it("refuses a batch whose CRC is wrong and stores nothing", async () => {
    const batch = batchOf(["a"]);
    batch[batch.length - 1] = batch[batch.length - 1]! ^ 0xff;
    const produced = await client.request<ProduceResponse>(
      produce,
      7,
      produceBody("orders", batch),
    );
    expect(produced.responses![0]!.partitionResponses![0]!.errorCode).toBe(
      KafkaErrorCode.CORRUPT_MESSAGE,
    );
    expect(backend.topics.get("orders")!.partitions[0]!.nextOffset).toBe(0);
  });

  it("with acks=0 sends no response, and the next request's answer is the next frame", async () => {
    client.write(RawKafkaClient.frame(produce, 7, produceBody("orders", batchOf(["a"]), 0), 41));
    const answer = await client.request<MetadataResponse>(metadata, 1, {
      topics: [{ name: "orders" }],
    });
    expect(answer.topics![0]!.partitions).toHaveLength(1);
    expect(backend.topics.get("orders")!.partitions[0]!.nextOffset).toBe(1);
  });

  it("a fetch waits up to maxWaitMs for records and returns as soon as some arrive", async () => {
    const waiting = client.request<FetchResponse>(fetch, 11, fetchBody("orders", 0, 5000));
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const producer = await RawKafkaClient.connect(server.port);
    await producer.request(produce, 8, produceBody("orders", batchOf(["late"])));
    producer.close();
    const answer = (await waiting).responses![0]!.partitions![0]! as { records: Buffer };
    expect(Date.now() - started).toBeLessThan(2000);
    expect((decodeBatches(answer.records) as { value: Buffer }[])[0]!.value.toString()).toBe(
      "late",
    );
  });

  it("an empty fetch returns after maxWaitMs with no records", async () => {
    const started = Date.now();
    const answer = await client.request<FetchResponse>(fetch, 4, fetchBody("orders", 0, 300));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect((answer.responses![0]!.partitions![0]!.records as Buffer).length).toBe(0);
  });

  it("a fetch past the end is OFFSET_OUT_OF_RANGE", async () => {
    const answer = await client.request<FetchResponse>(fetch, 12, fetchBody("orders", 5));
    expect(answer.responses![0]!.partitions![0]!.errorCode).toBe(
      KafkaErrorCode.OFFSET_OUT_OF_RANGE,
    );
  });
});

describe("Metadata", () => {
  it("advertises a reachable host, the real port and itself as controller; auto-creates asked-for topics", async () => {
    const answer = await client.request<MetadataResponse>(metadata, 11, {
      topics: [{ name: "fresh", topicId: Buffer.alloc(16) }],
      allowAutoTopicCreation: true,
    });
    expect(answer.brokers).toEqual([
      { nodeId: 0, host: "127.0.0.1", port: server.port, rack: null },
    ]);
    expect(answer.controllerId).toBe(0);
    expect(answer.topics![0]!).toMatchObject({ errorCode: 0, name: "fresh" });
    expect(await backend.listTopics()).toEqual(["fresh"]);
  });

  it("does not create a topic when the client says not to", async () => {
    const answer = await client.request<MetadataResponse>(metadata, 9, {
      topics: [{ name: "nope" }],
      allowAutoTopicCreation: false,
    });
    expect(answer.topics![0]!.errorCode).toBe(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe("garbage frames", () => {
  it("are answered or close their connection; the server keeps serving others", async () => {
    const served = [...new Set(API_SCHEMAS.map((a) => a.apiKey))];
    const frameArb = fc
      .tuple(
        fc.constantFrom(...served, 999),
        fc.integer({ min: -1, max: 20 }),
        fc.uint8Array({ maxLength: 120 }),
      )
      .map(([apiKey, version, body]) => {
        const frame = Buffer.alloc(4 + 8 + body.length);
        frame.writeInt32BE(8 + body.length, 0);
        frame.writeInt16BE(apiKey, 4);
        frame.writeInt16BE(version, 6);
        frame.writeInt32BE(1, 8);
        Buffer.from(body).copy(frame, 12);
        return frame;
      });
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 3 }), async (frames) => {
        const fuzz = await RawKafkaClient.connect(server.port);
        for (const frame of frames) fuzz.write(frame);
        await new Promise((r) => setTimeout(r, 20));
        fuzz.close();
        const probe = await RawKafkaClient.connect(server.port);
        expect((await probe.request(apiVersions, 0, {})).errorCode).toBe(0);
        probe.close();
      }),
      { numRuns: 60 },
    );
    // Every connection the server closed, it closed for a protocol reason it could name.
    expect(errors.length).toBeGreaterThan(10);
    for (const error of errors) expect(error.name, error.message).toBe("KafkaProtocolError");
  });
});
