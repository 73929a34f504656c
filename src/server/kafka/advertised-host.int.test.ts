// The listener's advertisedHost option: what Metadata and FindCoordinator tell clients to connect
// to, with the listener's own port, at every version; and clients do connect there.
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { Kafka, logLevel } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { KafkaServer, type KafkaServerOptions } from "./kafka-server.js";
import { FrameDecoder } from "./protocol/frame-decoder.js";
import {
  findCoordinator,
  type FindCoordinatorResponse,
  metadata,
  type MetadataResponse,
} from "./protocol/schemas/index.js";
import { MemoryBackend } from "./test-support/memory-backend.js";
import { RawKafkaClient } from "./test-support/raw-client.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(options: Omit<KafkaServerOptions, "backend">): Promise<KafkaServer> {
  const server = await KafkaServer.listen({ backend: new MemoryBackend(), port: 0, ...options });
  cleanups.push(() => server.close());
  return server;
}

async function rawClient(port: number): Promise<RawKafkaClient> {
  const client = await RawKafkaClient.connect(port);
  cleanups.push(() => client.close());
  return client;
}

type Address = { nodeId: number | undefined; host: string | undefined; port: number | undefined };

/** The brokers Metadata names at `version`, and its controller. */
async function metadataBrokers(
  client: RawKafkaClient,
  version: number,
): Promise<{ brokers: Address[]; controllerId: number | undefined }> {
  const answer = await client.request<MetadataResponse>(metadata, version, {
    topics: version === 0 ? [] : null,
    allowAutoTopicCreation: false,
  });
  return {
    brokers: (answer.brokers ?? []).map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
    controllerId: answer.controllerId,
  };
}

/** The coordinator FindCoordinator names at `version` for a group. */
async function coordinator(client: RawKafkaClient, version: number): Promise<Address> {
  const answer = await client.request<FindCoordinatorResponse>(findCoordinator, version, {
    key: "a-group",
    keyType: 0,
    coordinatorKeys: ["a-group"],
  });
  const found = version >= 4 ? answer.coordinators![0]! : answer;
  expect(found.errorCode ?? 0, `FindCoordinator v${version}`).toBe(0);
  return { nodeId: found.nodeId, host: found.host, port: found.port };
}

describe("advertisedHost", () => {
  it("is the host Metadata (every version) and FindCoordinator (every version) give, with the listener's port", async () => {
    const server = await listen({ advertisedHost: "kafka.internal" });
    const client = await rawClient(server.port);
    const expected = { nodeId: 0, host: "kafka.internal", port: server.port };
    for (let version = 0; version <= 12; version++) {
      const answer = await metadataBrokers(client, version);
      expect(answer.brokers, `Metadata v${version}`).toEqual([expected]);
      if (version >= 1) expect(answer.controllerId, `Metadata v${version}`).toBe(0);
    }
    for (let version = 0; version <= 4; version++)
      expect(await coordinator(client, version), `FindCoordinator v${version}`).toEqual(expected);
    expect(server.broker).toMatchObject({ host: "kafka.internal", port: server.port });
  });

  it("is where kafkajs sends its requests after the bootstrap address, and what its describeCluster reports", async () => {
    // The listener binds 127.0.0.1 and advertises 127.0.0.2, where a relay on the same port
    // (another address of the loopback interface) forwards to it and notes the APIs it carries.
    const server = await listen({ host: "127.0.0.1", advertisedHost: "127.0.0.2" });
    const relayed = new Set<number>();
    const relay: Server = createServer((client: Socket) => {
      const upstream = connect(server.port, "127.0.0.1");
      const frames = new FrameDecoder();
      client.on("data", (chunk: Buffer) => {
        for (const frame of frames.push(chunk)) relayed.add(frame.readInt16BE(0));
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => client.write(chunk));
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(server.port, "127.0.0.2", resolve));
    cleanups.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
    expect((relay.address() as AddressInfo).port).toBe(server.port);

    const kafka = new Kafka({
      brokers: [`127.0.0.1:${server.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const [answer] = await producer.send({ topic: "relayed", messages: [{ value: "v" }] });
    expect(answer).toMatchObject({ errorCode: 0, baseOffset: "0" });
    expect(relayed.has(0)).toBe(true); // the Produce request went to the advertised address

    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    expect(await admin.describeCluster()).toMatchObject({
      brokers: [{ nodeId: 0, host: "127.0.0.2", port: server.port }],
      controller: 0,
    });
  });

  it("defaults to the bound host, and to 127.0.0.1 for a wildcard bind (never 0.0.0.0)", async () => {
    const bound = await listen({ host: "127.0.0.1" });
    expect((await metadataBrokers(await rawClient(bound.port), 9)).brokers).toEqual([
      { nodeId: 0, host: "127.0.0.1", port: bound.port },
    ]);
    const wildcard = await listen({ host: "0.0.0.0" });
    const client = await rawClient(wildcard.port);
    expect((await metadataBrokers(client, 1)).brokers).toEqual([
      { nodeId: 0, host: "127.0.0.1", port: wildcard.port },
    ]);
    expect(await coordinator(client, 2)).toEqual({
      nodeId: 0,
      host: "127.0.0.1",
      port: wildcard.port,
    });
  });
});
