import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openLog } from "../engine/index.js";
import { MetricsRegistry } from "../observability/index.js";
import { EmbeddedEventStore } from "./embedded-event-store.js";
import type { EventData } from "./event-store.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-es-fast-"));
  dirs.push(dir);
  return dir;
}

describe("embedded event store: group commit", () => {
  it("writes appends made in one turn as one engine batch, each with its own versions", async () => {
    const metrics = new MetricsRegistry();
    const store = await EmbeddedEventStore.open(tempDir(), { fsync: "never", metrics });
    const batches = metrics.counter("sluice_log_appends_total", "Batches appended", {
      log: "eventstore",
    });
    try {
      const before = batches.value;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, w) =>
          store.appendToStream(`s-${w % 3}`, [
            { type: "A", data: { w } },
            { type: "B", data: { w } },
          ]),
        ),
      );
      expect(batches.value - before).toBe(1);
      expect(results.map((r) => r.position)).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
      expect(results.map((r) => r.nextExpectedVersion)).toEqual([1, 1, 1, 3, 3, 3, 5, 5]);
      const { events } = await store.readStream("s-1");
      expect(events.map((e) => [e.version, e.data])).toEqual([
        [0, { w: 1 }],
        [1, { w: 1 }],
        [2, { w: 4 }],
        [3, { w: 4 }],
        [4, { w: 7 }],
        [5, { w: 7 }],
      ]);
    } finally {
      await store.close();
    }
  });

  it("checks expected versions within a group in order, and keeps the group across a reopen", async () => {
    const dir = tempDir();
    let store = await EmbeddedEventStore.open(dir, { fsync: "never" });
    const [first, second, stale] = await Promise.allSettled([
      store.appendToStream("s", [{ type: "A", data: 1 }], { expectedVersion: "no_stream" }),
      store.appendToStream("s", [{ type: "B", data: 2 }], { expectedVersion: 0 }),
      store.appendToStream("s", [{ type: "C", data: 3 }], { expectedVersion: 0 }),
    ]);
    expect(first.status).toBe("fulfilled");
    expect(second.status).toBe("fulfilled");
    expect(stale).toMatchObject({ status: "rejected", reason: { code: "SLUICE_CONCURRENCY" } });
    await store.close();
    store = await EmbeddedEventStore.open(dir, { fsync: "never" });
    try {
      expect((await store.readStream("s")).events.map((e) => e.type)).toEqual(["A", "B"]);
    } finally {
      await store.close();
    }
  });
});

describe("embedded event store: reading a page with one parse", () => {
  const awkward: EventData[] = [
    { id: 'quote"and\\backslash', type: "T", data: { text: 'say "hi" \\ bye' } },
    { id: "café-☕", type: "T", data: { text: "naïve 😀", list: [1, "two", null] } },
    { id: "plain", type: "T", data: "just a string", metadata: { user: "ann", n: 1 } },
    { id: "nulls", type: "T", data: null },
    { id: "number", type: "T", data: 42.5, metadata: { tags: ["a", "b"] } },
  ];

  it("returns ids, data and metadata exactly as given, forward and backward, stream and $all", async () => {
    const store = await EmbeddedEventStore.open(tempDir(), { fsync: "never" });
    try {
      await store.appendToStream("s", awkward);
      const expected = awkward.map((e) => ({
        id: e.id,
        data: e.data,
        metadata: e.metadata ?? {},
      }));
      const pick = (events: readonly { id: string; data: unknown; metadata: unknown }[]) =>
        events.map(({ id, data, metadata }) => ({ id, data, metadata }));
      expect(pick((await store.readStream("s")).events)).toEqual(expected);
      expect(pick((await store.readStream("s", { direction: "backward" })).events)).toEqual(
        [...expected].reverse(),
      );
      expect(pick((await store.readAll()).events)).toEqual(expected);
      expect(pick((await store.readAll({ direction: "backward" })).events)).toEqual(
        [...expected].reverse(),
      );
      const [a, b] = (await store.readStream("s")).events;
      expect(a!.metadata).not.toBe(b!.metadata); // each event its own objects
    } finally {
      await store.close();
    }
  });

  it("reads pages larger than one parse chunk", async () => {
    const store = await EmbeddedEventStore.open(tempDir(), { fsync: "never" });
    try {
      for (let i = 0; i < 30; i++)
        await store.appendToStream(
          "long",
          Array.from({ length: 100 }, (_, j) => ({
            type: "T",
            data: { i, j, pad: "x".repeat(40) },
          })),
        );
      const { events } = await store.readStream("long", { maxCount: 10_000 });
      expect(events).toHaveLength(3000);
      expect(events.every((e, n) => e.version === n)).toBe(true);
      expect(events[2999]!.data).toEqual({ i: 29, j: 99, pad: "x".repeat(40) });
      expect((await store.readAll({ maxCount: 10_000 })).events[1234]!.data).toMatchObject({
        i: 12,
        j: 34,
      });
    } finally {
      await store.close();
    }
  });

  it("refuses a record not written by the event store, naming its position", async () => {
    const dir = tempDir();
    const store = await EmbeddedEventStore.open(dir, { fsync: "never" });
    await store.appendToStream("s", [{ type: "T", data: 1 }]);
    await store.close();
    // Two JSON values where one is expected: parsed with its neighbours, it would shift them.
    const log = await openLog(join(dir, "log"), { fsync: "never" });
    await log.append([
      { key: Buffer.from("s\n1\nT\n1\nforeign\n0"), value: Buffer.from('{"d":1,2,"m":{}}') },
    ]);
    await log.close();
    const reopened = await EmbeddedEventStore.open(dir, { fsync: "never" });
    try {
      await expect(reopened.readStream("s")).rejects.toMatchObject({
        code: "SLUICE_CORRUPT",
        message: expect.stringContaining("position 1") as unknown,
      });
      await expect(reopened.readAll()).rejects.toMatchObject({ code: "SLUICE_CORRUPT" });
    } finally {
      await reopened.close();
    }
  });
});
