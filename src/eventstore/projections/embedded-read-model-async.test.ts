import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedEventStore } from "../embedded-event-store.js";
import type { JsonValue } from "../event-store.js";
import { EmbeddedReadModel } from "./embedded-read-model.js";
import type { Projection } from "./projection.js";
import { ProjectionRunner } from "./projection-runner.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A store and an embedded read model, each in its own directory, opened (again) together. */
class Storage {
  readonly dir = mkdtempSync(join(tmpdir(), "sluice-embedded-model-"));
  readonly clock = new VirtualClock();
  store!: EmbeddedEventStore;
  model!: EmbeddedReadModel;

  constructor() {
    dirs.push(this.dir);
  }

  async open(): Promise<this> {
    this.store = await EmbeddedEventStore.open(join(this.dir, "store"), {
      clock: this.clock,
      fsync: "never",
    });
    this.model = await EmbeddedReadModel.open(join(this.dir, "model"), {
      clock: this.clock,
      fsync: "never",
    });
    return this;
  }

  async reopen(): Promise<this> {
    await this.close();
    return this.open();
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.model.close();
  }
}

/**
 * Counts orders per stream and type, and how many times each event was applied: an event
 * applied twice shows as a 2 under its position.
 */
const orders: Projection = {
  name: "orders",
  filter: { types: ["Placed", "Paid"] },
  async apply(event, tx) {
    const key = `${event.stream}:${event.type}`;
    tx.put(key, (((await tx.get(key)) as number | undefined) ?? 0) + 1);
    const applied = `applied:${String(event.position).padStart(4, "0")}`;
    tx.put(applied, (((await tx.get(applied)) as number | undefined) ?? 0) + 1);
  },
};

/** Appends `rounds` x (Placed, Paid, Noise) spread over three streams. */
async function appendOrders(store: EmbeddedEventStore, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++)
    await store.appendToStream(`o-${i % 3}`, [
      { type: "Placed", data: { i } },
      { type: "Paid", data: { i } },
      { type: "Noise", data: { i } },
    ]);
}

/** What `orders` should hold after every event of `store` was applied exactly once. */
async function expectedOrders(store: EmbeddedEventStore): Promise<[string, JsonValue][]> {
  const { events } = await store.readAll({
    maxCount: 10_000,
    filter: { types: ["Placed", "Paid"] },
  });
  const expected = new Map<string, number>();
  for (const e of events) {
    const key = `${e.stream}:${e.type}`;
    expected.set(key, (expected.get(key) ?? 0) + 1);
    expected.set(`applied:${String(e.position).padStart(4, "0")}`, 1);
  }
  return [...expected].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

async function runToHead(storage: Storage, projection: Projection = orders): Promise<void> {
  const runner = new ProjectionRunner(storage.store, projection, storage.model, {
    clock: storage.clock,
    batchSize: 7,
  });
  runner.start();
  try {
    await runner.waitFor(await storage.store.headPosition());
  } finally {
    await runner.stop();
  }
  expect(runner.status().error).toBeUndefined();
}

describe("EmbeddedReadModel as the read model of an async projection", () => {
  it("commits the checkpoint with the documents and resumes after a reopen without applying any event twice", async () => {
    const storage = await new Storage().open();
    try {
      await appendOrders(storage.store, 20);
      const head = await storage.store.headPosition();
      // Stop part-way: the first batch is in progress when the runner is told to stop.
      let entered!: () => void;
      const inFirstBatch = new Promise<void>((resolve) => (entered = resolve));
      let letGo!: () => void;
      const gate = new Promise<void>((resolve) => (letGo = resolve));
      const slow: Projection = {
        ...orders,
        async apply(event, tx) {
          entered();
          await gate;
          await orders.apply(event, tx);
        },
      };
      const first = new ProjectionRunner(storage.store, slow, storage.model, {
        clock: storage.clock,
        batchSize: 7,
      });
      first.start();
      await inFirstBatch;
      const stopped = first.stop();
      letGo();
      await stopped;
      const partial = await storage.model.checkpoint();
      expect(partial).toBeGreaterThanOrEqual(0);
      expect(partial).toBeLessThan(head);
      const documents = await storage.model.entries();
      expect(documents.length).toBeGreaterThan(0);

      await storage.reopen();
      // What was committed, and only that, is there after the reopen.
      expect(await storage.model.checkpoint()).toBe(partial);
      expect(await storage.model.entries()).toEqual(documents);

      await appendOrders(storage.store, 5);
      await runToHead(storage);
      expect(await storage.model.checkpoint()).toBe(await storage.store.headPosition());
      expect(await storage.model.entries()).toEqual(await expectedOrders(storage.store));

      // Caught up, reopened, run again: nothing is applied a second time.
      const caughtUp = await storage.model.entries();
      await storage.reopen();
      expect(await storage.model.entries()).toEqual(caughtUp);
      await appendOrders(storage.store, 1);
      await runToHead(storage);
      expect(await storage.model.entries()).toEqual(await expectedOrders(storage.store));
    } finally {
      await storage.close();
    }
  });

  it("rebuild() leaves exactly the rebuilt documents, also after a reopen", async () => {
    const storage = await new Storage().open();
    try {
      await appendOrders(storage.store, 12);
      // The documents of an earlier version of the projection, one of them deleted since.
      await runToHead(storage);
      await storage.model.commit(
        new Map<string, JsonValue | null>([
          ["retired", "from an older projection"],
          ["o-0:Placed", null],
        ]),
        await storage.model.checkpoint(),
      );
      const older = await storage.model.entries();
      expect(older).toContainEqual(["retired", "from an older projection"]);
      expect(await storage.model.get("o-0:Placed")).toBeUndefined();
      await storage.reopen();
      expect(await storage.model.entries()).toEqual(older);

      const byType: Projection = {
        name: "orders",
        filter: { types: ["Placed", "Paid"] },
        async apply(event, tx) {
          tx.put(event.type, (((await tx.get(event.type)) as number | undefined) ?? 0) + 1);
        },
      };
      const runner = new ProjectionRunner(storage.store, byType, storage.model, {
        clock: storage.clock,
        batchSize: 5,
      });
      const result = await runner.rebuild();
      const head = await storage.store.headPosition();
      expect(result).toMatchObject({ checkpoint: head, target: head, events: 24 });
      const rebuilt: [string, JsonValue][] = [
        ["Paid", 12],
        ["Placed", 12],
      ];
      expect(await storage.model.entries()).toEqual(rebuilt);
      expect(await storage.model.checkpoint()).toBe(head);

      await storage.reopen();
      expect(await storage.model.entries()).toEqual(rebuilt);
      expect(await storage.model.checkpoint()).toBe(head);

      // Resumes from the rebuilt checkpoint, not from the start.
      await appendOrders(storage.store, 2);
      await runToHead(storage, byType);
      expect(await storage.model.entries()).toEqual([
        ["Paid", 14],
        ["Placed", 14],
      ]);
      await storage.reopen();
      expect(await storage.model.entries()).toEqual([
        ["Paid", 14],
        ["Placed", 14],
      ]);
    } finally {
      await storage.close();
    }
  });
});
