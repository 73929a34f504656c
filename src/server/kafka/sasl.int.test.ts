import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import {
  type ApiVersionsResponse,
  type SaslAuthenticateResponse,
  apiVersions,
  metadata,
  saslAuthenticate,
  saslHandshake,
} from "./protocol/schemas/index.js";
import { KCAT, SluiceKafkaProcess, hasKcat, run } from "./test-support/client-processes.js";
import { RawKafkaClient } from "./test-support/raw-client.js";

// SASL/PLAIN on `sluice kafka start --sasl-users`, with kafkajs, kcat and a bare client.
const root = mkdtempSync(join(tmpdir(), "sluice-kafka-sasl-"));
let server: SluiceKafkaProcess;

beforeAll(async () => {
  server = await SluiceKafkaProcess.start(join(root, "data"), [
    "--sasl-users",
    "alice:s3cret:with:colons,bob:hunter2",
  ]);
});
afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

const kafkajs = (sasl?: SASLOptions) =>
  new Kafka({
    clientId: "sasl-test",
    brokers: [server.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    ...(sasl === undefined ? {} : { sasl }),
  });

const plain = (message: string) => Buffer.from(message, "utf8");

describe("SASL/PLAIN", () => {
  it("kafkajs with a user's password creates, produces and reads back", async () => {
    const kafka = kafkajs({
      mechanism: "plain",
      username: "alice",
      password: "s3cret:with:colons",
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "secured", numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: "secured", messages: [{ value: "hello" }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: "sasl-group", maxWaitTimeInMs: 100 });
    const seen: string[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: "secured", fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => Promise.resolve(void seen.push(message.value!.toString())),
      });
      await expect.poll(() => seen, { timeout: 15_000 }).toEqual(["hello"]);
    } finally {
      await consumer.disconnect();
    }
  });

  it("kafkajs with a wrong password, or without SASL, is refused", async () => {
    const wrong = kafkajs({ mechanism: "plain", username: "alice", password: "guess" }).admin();
    await expect(wrong.connect()).rejects.toThrow(
      /SASL PLAIN authentication failed|Authentication failed/,
    );
    const anonymous = kafkajs().admin();
    await expect(anonymous.connect().then(() => anonymous.listTopics())).rejects.toThrow();
    await anonymous.disconnect();
  });

  it("a connection may send only ApiVersions and the SASL APIs before it authenticates", async () => {
    const client = await RawKafkaClient.connect(server.port);
    const versions = await client.request<ApiVersionsResponse>(apiVersions, 3, {
      clientSoftwareName: "raw",
      clientSoftwareVersion: "1",
    });
    expect(versions.apiKeys!.map((k) => k.apiKey)).toEqual(expect.arrayContaining([17, 36]));
    client.write(RawKafkaClient.frame(metadata, 1, { topics: null }, 9));
    expect(await client.closedByServer()).toBe(true);
  });

  it("answers a failed authentication, then closes the connection", async () => {
    const client = await RawKafkaClient.connect(server.port);
    expect(await client.request(saslHandshake, 1, { mechanism: "PLAIN" })).toMatchObject({
      errorCode: 0,
      mechanisms: ["PLAIN"],
    });
    const answer = await client.request<SaslAuthenticateResponse>(saslAuthenticate, 2, {
      authBytes: plain("\u0000bob\u0000wrong"),
    });
    expect(answer.errorCode).toBe(KafkaErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(await client.closedByServer()).toBe(true);

    const other = await RawKafkaClient.connect(server.port);
    expect(await other.request(saslHandshake, 1, { mechanism: "SCRAM-SHA-256" })).toMatchObject({
      errorCode: KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM,
    });
    other.close();

    const good = await RawKafkaClient.connect(server.port);
    await good.request(saslHandshake, 1, { mechanism: "PLAIN" });
    expect(
      await good.request<SaslAuthenticateResponse>(saslAuthenticate, 1, {
        authBytes: plain("\u0000bob\u0000hunter2"),
      }),
    ).toMatchObject({ errorCode: 0 });
    expect(await good.request(metadata, 1, { topics: null })).toHaveProperty("brokers");
    good.close();
  });

  it.skipIf(!hasKcat)(
    "kcat with the right password lists and produces; with a wrong one it fails",
    async () => {
      const sasl = (password: string) => [
        "-b",
        server.bootstrap,
        "-X",
        "security.protocol=SASL_PLAINTEXT",
        "-X",
        "sasl.mechanisms=PLAIN",
        "-X",
        "sasl.username=bob",
        "-X",
        `sasl.password=${password}`,
      ];
      await run(KCAT, [...sasl("hunter2"), "-P", "-t", "kcat-secured"], "one\ntwo\n");
      const read = await run(KCAT, [
        ...sasl("hunter2"),
        "-C",
        "-t",
        "kcat-secured",
        "-o",
        "beginning",
        "-e",
      ]);
      expect(read.stdout.trim().split("\n")).toEqual(["one", "two"]);
      await expect(
        run(KCAT, [...sasl("wrong"), "-L", "-m", "3"], undefined, 20_000),
      ).rejects.toThrow();
    },
  );
});
