import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { isSluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { EmbeddedEventStore, type EmbeddedEventStoreOptions } from "./embedded-event-store.js";
import { MemoryReadModel } from "./projections/memory-read-model.js";
import type { Projection } from "./projections/projection.js";

const DIR = "/data/eventstore";

/** Counts the events of each stream: what an inline read model holds at every moment. */
const counts: Projection = {
  name: "counts",
  async apply(event, tx) {
    const seen = ((await tx.get(event.stream)) as number | undefined) ?? 0;
    tx.put(event.stream, seen + 1);
  },
};

const isIo = (error: unknown): boolean => isSluiceError(error, "SLUICE_IO");

/** The store in DIR on `fs`, with a clock of its own. */
function openOn(
  fs: SimulatedFileSystem,
  options: Omit<EmbeddedEventStoreOptions, "fs"> = {},
): Promise<EmbeddedEventStore> {
  return EmbeddedEventStore.open(DIR, {
    clock: new VirtualClock(),
    fsync: "never",
    ...options,
    fs,
  });
}

/**
 * Appends made in one turn are indexed as they are made and written as one batch. When the disk
 * refuses that write (it is undone: a full disk, an I/O error), the store forgets those appends
 * and goes on: nothing refused is ever read, and the streams take the versions they had.
 */
describe("an event store whose log refuses a write", () => {
  it("forgets the refused appends and takes appends again once the disk allows", async () => {
    const fs = new SimulatedFileSystem(11);
    const clock = new VirtualClock();
    const open = (): Promise<EmbeddedEventStore> => openOn(fs, { clock });
    let store = await open();
    await store.appendToStream("cart-1", [{ type: "Opened", data: {} }], {
      expectedVersion: "no_stream",
    });
    fs.capacityBytes = fs.usedBytes() + 300;
    // One turn: an append, one checked against it, another stream's, and a new stream.
    const refused = await Promise.allSettled([
      store.appendToStream(
        "cart-1",
        [
          {
            id: "00000000-0000-4000-8000-000000000001",
            type: "Added",
            data: { x: "x".repeat(2000) },
          },
        ],
        { expectedVersion: 0 },
      ),
      store.appendToStream("cart-1", [{ type: "Paid", data: {} }], { expectedVersion: 1 }),
      store.appendToStream("cart-2", [{ type: "Opened", data: {} }], {
        expectedVersion: "no_stream",
      }),
    ]);
    expect(refused.map((r) => r.status === "rejected" && isIo(r.reason))).toEqual([
      true,
      true,
      true,
    ]);
    fs.capacityBytes = Number.POSITIVE_INFINITY;

    // The versions are those of before: expected version 0 again, cart-2 still new.
    await store.appendToStream(
      "cart-1",
      [{ id: "00000000-0000-4000-8000-000000000001", type: "Added", data: { x: "y" } }],
      { expectedVersion: 0 },
    );
    await store.appendToStream("cart-2", [{ type: "Opened", data: {} }], {
      expectedVersion: "no_stream",
    });
    const check = async (s: EmbeddedEventStore): Promise<void> => {
      const cart1 = await s.readStream("cart-1");
      expect(cart1.events.map((e) => [e.version, e.type, e.position])).toEqual([
        [0, "Opened", 0],
        [1, "Added", 1],
      ]);
      expect(cart1.events[1]!.data).toEqual({ x: "y" });
      const all = await s.readAll();
      expect(all.events.map((e) => `${e.stream}:${e.type}`)).toEqual([
        "cart-1:Opened",
        "cart-1:Added",
        "cart-2:Opened",
      ]);
    };
    await check(store);
    // The id of the refused append was free to use; a retry with it is now a duplicate.
    const retry = await store.appendToStream(
      "cart-1",
      [{ id: "00000000-0000-4000-8000-000000000001", type: "Added", data: { x: "y" } }],
      { expectedVersion: 0 },
    );
    expect(retry).toEqual({ nextExpectedVersion: 1, position: 1 });
    await store.close();
    store = await open();
    await check(store);
    await store.close();
  });

  it("keeps a soft-deleted stream deleted when the append that would reopen it is refused", async () => {
    const fs = new SimulatedFileSystem(15);
    const store = await openOn(fs);
    await store.appendToStream("gone", [{ type: "A", data: {} }]);
    await store.deleteStream("gone");
    fs.tearNextWrite(10);
    await expect(store.appendToStream("gone", [{ type: "B", data: {} }])).rejects.toSatisfy(isIo);
    await expect(store.readStream("gone")).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_NOT_FOUND"),
    );
    await store.appendToStream("gone", [{ type: "C", data: {} }]);
    expect((await store.readStream("gone")).events.map((e) => [e.version, e.type])).toEqual([
      [1, "C"],
    ]);
    await store.close();
  });

  it("keeps inline read models to what was written", async () => {
    const fs = new SimulatedFileSystem(14);
    const readModel = new MemoryReadModel();
    const store = await openOn(fs, { inline: [{ projection: counts, readModel }] });
    await store.appendToStream("cart-1", [{ type: "Opened", data: {} }]);
    fs.capacityBytes = fs.usedBytes() + 300;
    // Inline projections take appends one at a time: the second is checked after the first
    // was refused, against the stream as it is.
    const [refused, next] = await Promise.allSettled([
      store.appendToStream("cart-1", [{ type: "Added", data: { x: "x".repeat(2000) } }]),
      store.appendToStream("cart-1", [{ type: "Paid", data: {} }], { expectedVersion: 1 }),
    ]);
    expect(refused.status === "rejected" && isIo(refused.reason)).toBe(true);
    expect(next.status === "rejected" && isSluiceError(next.reason, "SLUICE_CONCURRENCY")).toBe(
      true,
    );
    fs.capacityBytes = Number.POSITIVE_INFINITY;
    await store.appendToStream("cart-1", [{ type: "Paid", data: {} }], { expectedVersion: 0 });
    await store.appendToStream("cart-2", [{ type: "Opened", data: {} }]);
    expect(await readModel.entries()).toEqual([
      ["cart-1", 2],
      ["cart-2", 1],
    ]);
    await store.close();
  });

  it("refuses an append checked against a refused batch when the next batch is cut before it", async () => {
    const fs = new SimulatedFileSystem(12);
    const store = await openOn(fs);
    await store.appendToStream("s", [{ type: "A", data: {} }]);
    // Two appends of 700 KiB in one turn: the second, checked against the first, does not fit
    // the first's batch, which is written as the second is made, and that write fails.
    const big = { x: "x".repeat(700 * 1024) };
    fs.tearNextWrite(100);
    const first = store.appendToStream("s", [{ type: "B", data: big }], { expectedVersion: 0 });
    const second = store.appendToStream("s", [{ type: "C", data: big }], { expectedVersion: 1 });
    await expect(first).rejects.toSatisfy(isIo);
    await expect(second).rejects.toSatisfy(isIo);
    await store.appendToStream("s", [{ type: "D", data: {} }], { expectedVersion: 0 });
    expect((await store.readStream("s")).events.map((e) => [e.version, e.type])).toEqual([
      [0, "A"],
      [1, "D"],
    ]);
    await store.close();
  });

  it("still stops after a failed fsync, whose cut takes back what the index lists", async () => {
    const fs = new SimulatedFileSystem(13);
    const store = await openOn(fs, { fsync: "always" });
    await store.appendToStream("s", [{ type: "A", data: {} }]);
    fs.failNextSyncs(1);
    await expect(store.appendToStream("s", [{ type: "B", data: {} }])).rejects.toSatisfy(isIo);
    await expect(store.appendToStream("s", [{ type: "C", data: {} }])).rejects.toThrow(
      /must be reopened/,
    );
    store.kill();
    const reopened = await openOn(fs, { fsync: "always" });
    expect((await reopened.readStream("s")).events.map((e) => e.type)).toEqual(["A"]);
    await reopened.close();
  });
});
