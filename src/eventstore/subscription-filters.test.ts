import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { EmbeddedEventStore } from "./embedded-event-store.js";
import type { RecordedEvent, SubscribeOptions } from "./event-store.js";

const dirs: string[] = [];
const stores: EmbeddedEventStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openStore(): Promise<EmbeddedEventStore> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-es-subscribe-"));
  dirs.push(dir);
  const store = await EmbeddedEventStore.open(dir, { fsync: "never" });
  stores.push(store);
  return store;
}

interface Taking {
  /** All `count` events, once they arrived. */
  readonly events: Promise<RecordedEvent[]>;
  /** The events so far. */
  readonly received: readonly RecordedEvent[];
  readonly started: Promise<void>;
}

/**
 * Subscribes and collects `count` events, then stops. The iteration starts at once, so the
 * subscription resolves where it starts (`"end"`) before `started` resolves.
 */
function take(
  store: EmbeddedEventStore,
  options: Omit<SubscribeOptions, "signal">,
  count: number,
): Taking {
  const controller = new AbortController();
  const subscription = store.subscribe({ ...options, signal: controller.signal });
  const iterator = subscription[Symbol.asyncIterator]();
  const first = iterator.next();
  const out: RecordedEvent[] = [];
  const events = (async () => {
    for (let next = await first; next.done !== true; next = await iterator.next()) {
      out.push(next.value);
      if (out.length === count) break;
    }
    controller.abort();
    await iterator.return?.();
    return out;
  })();
  return { events, received: out, started: turns(5) };
}

/** Lets the event loop go round `n` times (reads and waits of the embedded store settle). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const label = (e: RecordedEvent): string => `${e.stream}@${e.version}:${e.type}`;

describe("subscribe with filter.types", () => {
  it("catches up across pages, then follows live appends: every event of those types once, in order", async () => {
    const store = await openStore();
    // 3,000 events, 2,000 of the wanted types: the catch-up takes several pages, and the event
    // after the last of a full page is one of the wanted types.
    const types = ["Placed", "Noise", "Paid"];
    for (let i = 0; i < 100; i++)
      await store.appendToStream(
        `order-${i % 7}`,
        Array.from({ length: 30 }, (_, j) => ({ type: types[j % 3]!, data: { i, j } })),
      );
    await store.setStreamMetadata("order-1", { custom: { note: "system events are left out" } });
    const writers = (round: number): Promise<unknown> =>
      Promise.all(
        Array.from({ length: 4 }, async (_, w) => {
          for (let i = 0; i < 25; i++)
            await store.appendToStream(`live-${w}`, [
              { type: "Paid", data: { round, w, i } },
              { type: "Noise", data: { round, w, i } },
              { type: "Placed", data: { round, w, i } },
            ]);
        }),
      );
    const perRound = 4 * 25 * 2;
    const subscription = take(
      store,
      { filter: { types: ["Placed", "Paid"] } },
      2000 + 2 * perRound,
    );
    // Appends from 4 writers while the subscriber is catching up, then again once it is live.
    await writers(1);
    await vi.waitFor(() => expect(subscription.received).toHaveLength(2000 + perRound), {
      timeout: 10_000,
    });
    await writers(2);
    const events = await subscription.events;
    const expected = await store.readAll({
      maxCount: 10_000,
      filter: { types: ["Placed", "Paid"] },
    });
    expect(expected.events).toHaveLength(2000 + 2 * perRound);
    expect(events.map((e) => e.position)).toEqual(expected.events.map((e) => e.position));
    expect(events.every((e) => e.type === "Placed" || e.type === "Paid")).toBe(true);
  });

  it("combines types with stream prefixes (both must match)", async () => {
    const store = await openStore();
    await store.appendToStream("order-1", [
      { type: "Placed", data: 1 },
      { type: "Noise", data: 2 },
    ]);
    await store.appendToStream("user-1", [{ type: "Placed", data: 3 }]);
    const subscription = take(
      store,
      { filter: { types: ["Placed", "Shipped"], streamPrefixes: ["order-"] } },
      3,
    );
    await subscription.started;
    await store.appendToStream("user-2", [{ type: "Shipped", data: 4 }]);
    await store.appendToStream("order-2", [
      { type: "Noise", data: 5 },
      { type: "Shipped", data: 6 },
    ]);
    await store.appendToStream("order-1", [{ type: "Placed", data: 7 }]);
    expect((await subscription.events).map(label)).toEqual([
      "order-1@0:Placed",
      "order-2@1:Shipped",
      "order-1@2:Placed",
    ]);
  });

  it("from the end of $all delivers only later events of those types", async () => {
    const store = await openStore();
    await store.appendToStream("s", [{ type: "Placed", data: 1 }]);
    const subscription = take(store, { after: "end", filter: { types: ["Placed"] } }, 2);
    await subscription.started;
    await store.appendToStream("s", [
      { type: "Noise", data: 2 },
      { type: "Placed", data: 3 },
    ]);
    await store.appendToStream("t", [{ type: "Placed", data: 4 }]);
    expect((await subscription.events).map((e) => e.data)).toEqual([3, 4]);
  });
});

describe("subscribe to a stream after a version", () => {
  it("with filter.types delivers only those types of the stream, catch-up then live", async () => {
    const store = await openStore();
    await store.appendToStream("s", [
      { type: "Placed", data: 0 },
      { type: "Noise", data: 1 },
      { type: "Placed", data: 2 },
    ]);
    await store.appendToStream("t", [{ type: "Placed", data: -1 }]);
    const subscription = take(store, { stream: "s", after: 0, filter: { types: ["Placed"] } }, 3);
    await subscription.started;
    await store.appendToStream("s", [
      { type: "Noise", data: 3 },
      { type: "Placed", data: 4 },
    ]);
    await store.appendToStream("t", [{ type: "Placed", data: -1 }]);
    await store.appendToStream("s", [{ type: "Placed", data: 5 }]);
    expect((await subscription.events).map(label)).toEqual([
      "s@2:Placed",
      "s@4:Placed",
      "s@5:Placed",
    ]);
  });

  it("catches up from the version after it across pages, then follows live appends, skipping other streams", async () => {
    const store = await openStore();
    // 1,500 events in "s" (more than a page) interleaved with another stream.
    for (let i = 0; i < 15; i++) {
      await store.appendToStream(
        "s",
        Array.from({ length: 100 }, (_, j) => ({ type: "E", data: i * 100 + j })),
      );
      await store.appendToStream("other", [{ type: "E", data: -1 }]);
    }
    const appendRound = (first: number): Promise<unknown> =>
      Promise.all([
        (async () => {
          for (let i = first; i < first + 20; i++)
            await store.appendToStream("s", [{ type: "E", data: i }]);
        })(),
        (async () => {
          for (let i = 0; i < 20; i++)
            await store.appendToStream("other", [{ type: "E", data: -1 }]);
        })(),
      ]);
    const total = 1540 - 11;
    const subscription = take(store, { stream: "s", after: 10 }, total);
    // Appends while the subscriber is catching up, then again once it is live.
    await appendRound(1500);
    await vi.waitFor(() => expect(subscription.received).toHaveLength(1520 - 11), {
      timeout: 10_000,
    });
    await appendRound(1520);
    const events = await subscription.events;
    const versions = Array.from({ length: total }, (_, n) => n + 11);
    expect(events.map((e) => e.version)).toEqual(versions);
    expect(events.map((e) => e.data)).toEqual(versions);
    expect(events.every((e) => e.stream === "s")).toBe(true);
  });

  it("after a version the stream does not have yet, starts when the stream gets past it", async () => {
    const store = await openStore();
    await store.appendToStream("s", [
      { type: "E", data: 0 },
      { type: "E", data: 1 },
    ]);
    const subscription = take(store, { stream: "s", after: 3 }, 2);
    await subscription.started;
    await store.appendToStream("s", [
      { type: "E", data: 2 },
      { type: "E", data: 3 },
    ]);
    await store.appendToStream("s", [
      { type: "E", data: 4 },
      { type: "E", data: 5 },
    ]);
    expect((await subscription.events).map((e) => [e.version, e.data])).toEqual([
      [4, 4],
      [5, 5],
    ]);
  });

  it('from "end" delivers only events appended after it started, in order', async () => {
    const store = await openStore();
    await store.appendToStream("s", [
      { type: "Old", data: 0 },
      { type: "Old", data: 1 },
    ]);
    const subscription = take(store, { stream: "s", after: "end" }, 3);
    await subscription.started;
    await store.appendToStream("other", [{ type: "New", data: -1 }]);
    await store.appendToStream("s", [{ type: "New", data: 2 }]);
    await store.appendToStream("s", [
      { type: "New", data: 3 },
      { type: "New", data: 4 },
    ]);
    expect((await subscription.events).map(label)).toEqual(["s@2:New", "s@3:New", "s@4:New"]);
  });

  it('from "end" of a stream that does not exist yet delivers it from version 0', async () => {
    const store = await openStore();
    await store.appendToStream("other", [{ type: "E", data: 0 }]);
    const subscription = take(store, { stream: "fresh", after: "end" }, 2);
    await subscription.started;
    await store.appendToStream("fresh", [{ type: "E", data: 1 }]);
    await store.appendToStream("fresh", [{ type: "E", data: 2 }]);
    expect((await subscription.events).map(label)).toEqual(["fresh@0:E", "fresh@1:E"]);
  });
});
