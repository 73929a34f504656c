// `sluice start --kafka-advertised-host`: the host Kafka clients are told to connect to, with the
// Kafka listener's own port, in Metadata and FindCoordinator.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  findCoordinator,
  type FindCoordinatorResponse,
  metadata,
  type MetadataResponse,
} from "../server/kafka/protocol/schemas/index.js";
import { RawKafkaClient } from "../server/kafka/test-support/raw-client.js";
import { cliMain } from "./test-support/cli-build.js";
import { startServer } from "./test-support/started-server.js";

const root = mkdtempSync(join(tmpdir(), "sluice-start-kafka-advertised-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("sluice start --kafka-advertised-host", () => {
  it("is the host Metadata and FindCoordinator give Kafka clients, with the Kafka port", async () => {
    const started = await startServer(
      [process.execPath, cliMain(), "start"],
      [
        "--data-dir",
        join(root, "data"),
        "--fsync",
        "never",
        "--kafka-port",
        "0",
        "--kafka-advertised-host",
        "kafka.internal",
      ],
    );
    let client: RawKafkaClient | undefined;
    try {
      const deadline = Date.now() + 10_000;
      let banner: RegExpExecArray | null;
      while (
        (banner = /Kafka protocol on 127\.0\.0\.1:(\d+) \(advertised (\S+)\)/.exec(
          started.output(),
        )) === null
      ) {
        if (Date.now() > deadline) throw new Error(`no Kafka banner:\n${started.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const kafkaPort = Number(banner[1]);
      expect(banner[2]).toBe(`kafka.internal:${kafkaPort}`);

      client = await RawKafkaClient.connect(kafkaPort);
      const expected = { nodeId: 0, host: "kafka.internal", port: kafkaPort, rack: null };
      for (const version of [0, 1, 9, 12]) {
        const answer = await client.request<MetadataResponse>(metadata, version, {
          topics: version === 0 ? [] : null,
          allowAutoTopicCreation: false,
        });
        expect(
          answer.brokers!.map((b) => ({ ...b, rack: b.rack ?? null })),
          `Metadata v${version}`,
        ).toEqual([expected]);
      }
      const v2 = await client.request<FindCoordinatorResponse>(findCoordinator, 2, {
        key: "g",
        keyType: 0,
      });
      expect(v2).toMatchObject({
        errorCode: 0,
        nodeId: 0,
        host: "kafka.internal",
        port: kafkaPort,
      });
      const v4 = await client.request<FindCoordinatorResponse>(findCoordinator, 4, {
        keyType: 0,
        coordinatorKeys: ["g"],
      });
      expect(v4.coordinators).toEqual([
        expect.objectContaining({
          key: "g",
          errorCode: 0,
          nodeId: 0,
          host: "kafka.internal",
          port: kafkaPort,
        }),
      ]);
    } finally {
      client?.close();
      started.child.kill("SIGTERM");
      expect(await started.exit, started.output()).toBe(0);
    }
  }, 120_000);
});
