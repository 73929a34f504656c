import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { removeNamespace } from "../backends/nats/test-support/nats-cluster.js";
import { LOCAL_NATS_URL } from "../backends/nats/test-support/nats-cluster.js";
import { open } from "./open.js";

// `open(dir, { messaging })` against the single `nats-server -js` these machines run on
// 127.0.0.1:4222 (started by `.ci/run` when it is not running), as a user points Sluice at the
// server they have: queues and topics, replicas 1, two data directories sharing them.

/** Why the single server cannot be used, or undefined when it answers. */
async function serverMissing(): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: LOCAL_NATS_URL, timeout: 2000, reconnect: false });
    await nc.close();
    return undefined;
  } catch (error) {
    return `no NATS server answers at ${LOCAL_NATS_URL}: ${(error as Error).message}`;
  }
}

const missing = await serverMissing();
const root = mkdtempSync(join(tmpdir(), "sluice-single-nats-"));
const namespace = `SINGLE${randomBytes(3).toString("hex").toUpperCase()}`;

afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  if (missing === undefined) await removeNamespace(LOCAL_NATS_URL, namespace);
});

if (missing !== undefined && process.env.CI === "true")
  it("the single NATS server: needed under CI", () => {
    throw new Error(missing);
  });

describe.skipIf(missing !== undefined)(
  `open(dir, { messaging }) on the single server${missing === undefined ? "" : ` (skipped: ${missing})`}`,
  () => {
    it("sends, receives and deletes queue messages, and a consumer group reads a topic, across two directories", async () => {
      const options = { messaging: LOCAL_NATS_URL, nats: { namespace, replicas: 1 } };
      const a = await open(join(root, "a"), options);
      const b = await open(join(root, "b"), options);
      try {
        const { QueueUrl } = await a.queues.createQueue({ QueueName: "work" });
        await a.queues.sendMessageBatch({
          QueueUrl,
          Entries: ["one", "two", "three"].map((body, i) => ({ Id: `m${i}`, MessageBody: body })),
        });
        const bodies: string[] = [];
        for (let i = 0; i < 50 && bodies.length < 3; i++) {
          const url = await b.queues
            .getQueueUrl({ QueueName: "work" })
            .then((r) => r.QueueUrl)
            .catch(() => undefined);
          if (url === undefined) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          const got = await b.queues.receiveMessage({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          });
          for (const m of got.Messages ?? []) {
            bodies.push(m.Body);
            await b.queues.deleteMessage({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle });
          }
        }
        expect(bodies.sort()).toEqual(["one", "three", "two"]);
        // Approximate counts, as in SQS: a's view follows b's deletes a moment later.
        const counts = async () =>
          (
            await a.queues.getQueueAttributes({
              QueueUrl,
              AttributeNames: [
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
              ],
            })
          ).Attributes;
        let seen = await counts();
        for (let i = 0; i < 100 && seen.ApproximateNumberOfMessagesNotVisible !== "0"; i++) {
          await new Promise((r) => setTimeout(r, 50));
          seen = await counts();
        }
        expect(seen).toMatchObject({
          ApproximateNumberOfMessages: "0",
          ApproximateNumberOfMessagesNotVisible: "0",
        });

        await a.topics.admin.createTopic({ name: "events", partitions: 2 });
        const producer = a.topics.producer();
        for (let i = 0; i < 10; i++)
          await producer.send({ topic: "events", key: `k${i}`, value: `v${i}` });
        await producer.close();
        const consumer = b.topics.consumer({ groupId: "readers", autoOffsetReset: "earliest" });
        await consumer.subscribe(["events"]);
        const values: string[] = [];
        for (let i = 0; i < 50 && values.length < 10; i++)
          for (const r of await consumer.poll({ timeoutMs: 500 })) values.push(r.value!.toString());
        expect(values.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`).sort());
        await consumer.commitSync();
        const group = await a.topics.admin.describeGroup("readers");
        expect(group.offsets.reduce((lag, o) => lag + o.lag, 0)).toBe(0);
        await consumer.close();
      } finally {
        await a.close();
        await b.close();
      }
    });
  },
);
