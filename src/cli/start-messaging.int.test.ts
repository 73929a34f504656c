import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NatsQueueService } from "../backends/nats/nats-queue-service.js";
import { NatsTopicService } from "../backends/nats/nats-topic-service.js";
import type { LoopbackNatsCluster } from "../backends/nats/loopback-nats-cluster.js";
import { startTestCluster } from "../backends/nats/test-support/nats-cluster.js";
import { startServer } from "./test-support/started-server.js";
import { describeWithNats } from "../backends/nats/test-support/describe-with-nats.js";
import { cliMain } from "./test-support/cli-build.js";

// `sluice start --messaging nats://…` in a child process: a queue message and a topic record go
// through the REST API, land on NATS JetStream (a service of the test's own sees them there) and
// come back through the API.
const main = cliMain();
const root = mkdtempSync(join(tmpdir(), "sluice-start-nats-"));
let cluster: LoopbackNatsCluster | undefined;

async function start(dataDir: string, messaging: string) {
  const started = await startServer(
    [process.execPath, main, "start"],
    ["--data-dir", dataDir, "--messaging", messaging],
  );
  return {
    url: started.url,
    async stop(): Promise<number | null> {
      started.child.kill("SIGTERM");
      return started.exit;
    },
  };
}

async function call(url: string, method = "GET", body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

describeWithNats("sluice start --messaging", () => {
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("serves queues and topics from NATS JetStream through the REST API", async () => {
    // New names on each try: a retry finds the first try's queue and topic on the cluster.
    const smoke = `smoke${randomBytes(3).toString("hex")}`;
    const server = await start(join(root, `data-${smoke}`), cluster!.servers);
    try {
      const url = server.url;
      await call(`${url}/queues`, "POST", { QueueName: smoke });
      await call(`${url}/queues/${smoke}/messages`, "POST", { MessageBody: "hello" });
      await call(`${url}/topics`, "POST", { name: smoke, partitions: 1 });
      const produced = (await call(`${url}/topics/${smoke}/records`, "POST", {
        records: [{ value: "record-1" }],
      })) as { offsets: Array<{ partition: number; offset: number }> };
      expect(produced.offsets).toEqual([{ partition: 0, offset: 0 }]);

      // Both are on NATS: a service of our own on the same servers sees them.
      const topics = await NatsTopicService.open({ servers: cluster!.servers });
      const queues = await NatsQueueService.open({ servers: cluster!.servers });
      try {
        expect((await topics.admin.describePartition(smoke, 0)).highWatermark).toBe(1);
        const { Attributes } = await queues.getQueueAttributes({
          QueueUrl: (await queues.getQueueUrl({ QueueName: smoke })).QueueUrl,
          AttributeNames: ["ApproximateNumberOfMessages"],
        });
        expect(Attributes?.ApproximateNumberOfMessages).toBe("1");
      } finally {
        await topics.close();
        await queues.close();
      }

      const received = (await call(`${url}/queues/${smoke}/receive`, "POST", {
        WaitTimeSeconds: 5,
      })) as { Messages?: Array<{ Body: string }> };
      expect(received.Messages?.map((m) => m.Body)).toEqual(["hello"]);
      const fetched = (await call(
        `${url}/topics/${smoke}/partitions/0/records?offset=0&waitMs=5000`,
      )) as { records: Array<{ offset: number; value: string }>; nextOffset: number };
      expect(fetched.records.map((r) => [r.offset, r.value])).toEqual([[0, "record-1"]]);
      expect(fetched.nextOffset).toBe(1);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
