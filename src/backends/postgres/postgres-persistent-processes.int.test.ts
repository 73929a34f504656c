import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresEventStore } from "./postgres-event-store.js";
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  postgresUnavailable,
  uniqueSchema,
} from "./test-support.js";

/**
 * Persistent subscription groups shared by consumers in separate processes on one database:
 * each event goes to one consumer at a time, and what a killed process held goes to the others
 * once its claims run out.
 */
const unavailable = await postgresUnavailable();
const consumerScript = fileURLToPath(
  new URL("./test-support/persistent-consumer.ts", import.meta.url),
);
const schemas: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await dropSchemas(schemas.splice(0));
});

interface Delivery {
  readonly n: number;
  readonly retryCount: number;
}

interface Consumer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly deliveries: Delivery[];
  readonly ready: Promise<void>;
}

function spawnConsumer(schema: string, group: string, mode: "ack" | "hold"): Consumer {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", consumerScript, TEST_POSTGRES_URL, schema, group, mode],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  children.push(child);
  const deliveries: Delivery[] = [];
  let errors = "";
  let rest = "";
  let onReady!: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once("exit", (code) => reject(new Error(`consumer exited with ${code}: ${errors}`)));
  });
  child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines)
      if (line === "ready") onReady();
      else if (line.length > 0) deliveries.push(JSON.parse(line) as Delivery);
  });
  return { child, deliveries, ready };
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function storeWithGroup(
  group: string,
  messageTimeoutMs: number,
): Promise<{ store: PostgresEventStore; schema: string }> {
  const schema = uniqueSchema();
  schemas.push(schema);
  const store = await PostgresEventStore.open({ connection: TEST_POSTGRES_URL, schema });
  await store.persistentSubscriptions().create({ group, stream: "jobs", messageTimeoutMs });
  return { store, schema };
}

const append = async (store: PostgresEventStore, from: number, count: number): Promise<void> => {
  for (let n = from; n < from + count; n += 10)
    await store.appendToStream(
      "jobs",
      Array.from({ length: Math.min(10, from + count - n) }, (_, i) => ({
        type: "Job",
        data: { n: n + i },
      })),
    );
};

describe.skipIf(unavailable !== undefined)(
  `persistent subscriptions across processes (PostgreSQL)${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`,
  () => {
    it("two processes consuming one group share its events, each delivered once", async () => {
      const { store, schema } = await storeWithGroup("workers", 30_000);
      const a = spawnConsumer(schema, "workers", "ack");
      const b = spawnConsumer(schema, "workers", "ack");
      await Promise.all([a.ready, b.ready]);
      await append(store, 0, 300);
      const all = (): Delivery[] => [...a.deliveries, ...b.deliveries];
      await until(() => new Set(all().map((d) => d.n)).size === 300, "300 events");
      // Nothing more comes: every event was acknowledged once.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const numbers = all().map((d) => d.n);
      expect(numbers).toHaveLength(300);
      expect(new Set(numbers).size).toBe(300);
      expect(a.deliveries.length).toBeGreaterThan(0);
      expect(b.deliveries.length).toBeGreaterThan(0);
      expect(all().every((d) => d.retryCount === 0)).toBe(true);
      const [info] = await store.persistentSubscriptions().list();
      expect(info?.checkpoint).toBe(299);
      a.child.kill("SIGTERM");
      b.child.kill("SIGTERM");
      await store.close();
    });

    it("what a killed process held goes to the other once its claims run out", async () => {
      const { store, schema } = await storeWithGroup("workers", 1_000);
      const holder = spawnConsumer(schema, "workers", "hold");
      await holder.ready;
      await append(store, 0, 5);
      await until(() => holder.deliveries.length === 5, "the holder's 5 deliveries");
      holder.child.kill("SIGKILL");
      const worker = spawnConsumer(schema, "workers", "ack");
      await worker.ready;
      await until(() => worker.deliveries.length === 5, "5 redeliveries");
      expect(worker.deliveries.map((d) => d.n).sort()).toEqual([0, 1, 2, 3, 4]);
      expect(worker.deliveries.every((d) => d.retryCount === 1)).toBe(true);
      worker.child.kill("SIGTERM");
      await store.close();
    });
  },
);
