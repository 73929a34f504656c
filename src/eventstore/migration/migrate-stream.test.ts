import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isSluiceError } from "../../errors/index.js";
import { EmbeddedEventStore } from "../embedded-event-store.js";
import type { EventStore, RecordedEvent } from "../event-store.js";
import { EventSchema } from "../event-schema.js";
import { migrateStream, migrationCheckpoint } from "./migrate-stream.js";

const dirs: string[] = [];
const stores: EmbeddedEventStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// v1 { cents }, v2 { amount }: the copy should hold only v2.
const schema = new EventSchema()
  .define("Deposited", 2)
  .define("Credited")
  .define("X")
  .upcaster("Deposited", 1, (data) => ({ amount: (data as { cents: number }).cents / 100 }));

async function open(dir?: string, withSchema = true): Promise<EmbeddedEventStore> {
  const at = dir ?? mkdtempSync(join(tmpdir(), "sluice-migrate-"));
  if (dir === undefined) dirs.push(at);
  const store = await EmbeddedEventStore.open(at, {
    fsync: "never",
    ...(withSchema ? { eventSchema: schema } : {}),
  });
  stores.push(store);
  return store;
}

async function seed(store: EventStore, count: number, from = 0): Promise<void> {
  for (let i = from; i < from + count; i++)
    await store.appendToStream("acc-1", [
      {
        type: "Deposited",
        schemaVersion: 1,
        data: { cents: (i + 1) * 100 },
        metadata: { user: "ada" },
      },
    ]);
}

async function readAllOf(store: EventStore, stream: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for (let from: number | undefined = 0; from !== undefined;) {
    const page = await store.readStream(stream, { fromVersion: from, maxCount: 1000 });
    out.push(...page.events);
    from = page.nextVersion;
  }
  return out;
}

/** A store that fails the n-th append to a stream matching `which`, as a crash would stop the run. */
function failingOn(
  store: EventStore,
  which: (stream: string) => boolean,
  n: number,
  method: "appendToStream" | "setStreamMetadata",
): EventStore {
  let seen = 0;
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === method)
        return (stream: string, ...rest: unknown[]) => {
          if (which(stream) && ++seen === n) return Promise.reject(new Error("crash"));
          return (target[method] as (...a: unknown[]) => unknown).call(target, stream, ...rest);
        };
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === "function" ? (value as () => unknown).bind(target) : value;
    },
  });
}

describe("migrateStream (copy-and-replace)", () => {
  it("copies a stream page by page into a new one, upcast, with a checkpoint after each page", async () => {
    const store = await open();
    await seed(store, 25);
    const pages: number[] = [];
    const result = await migrateStream(store, {
      from: "acc-1",
      to: "acc-1.v2",
      pageSize: 10,
      onProgress: (p) => pages.push(p.sourceVersion),
    });
    expect(result).toMatchObject({ sourceVersion: 24, targetVersion: 24, copied: 25, done: true });
    expect(pages).toEqual([9, 19, 24, 24]);
    const copy = await readAllOf(store, "acc-1.v2");
    expect(copy.map((e) => [e.version, e.schemaVersion, e.data])).toEqual(
      Array.from({ length: 25 }, (_, i) => [i, 2, { amount: i + 1 }]),
    );
    expect(copy[3]!.metadata).toMatchObject({
      user: "ada",
      $migratedFrom: { stream: "acc-1", version: 3 },
    });
    expect(await migrationCheckpoint(store, "acc-1.v2")).toMatchObject({
      from: "acc-1",
      sourceVersion: 24,
      done: true,
    });
    // The source on disk is untouched: read without the schema it is still v1.
    const dir = dirs[0]!;
    await store.close();
    const raw = await open(dir, false);
    expect((await readAllOf(raw, "acc-1")).every((e) => e.schemaVersion === 1)).toBe(true);
  });

  it("resumes after a crash between a page and its checkpoint, or before a page: nothing twice, nothing left out", async () => {
    const store = await open();
    await seed(store, 37);
    // Crash 1: the third checkpoint write fails, after its page was appended.
    await expect(
      migrateStream(
        failingOn(store, (s) => s === "copy", 3, "setStreamMetadata"),
        {
          from: "acc-1",
          to: "copy",
          pageSize: 5,
        },
      ),
    ).rejects.toThrow("crash");
    // Crash 2: the second page of the resumed run fails before it is written.
    await expect(
      migrateStream(
        failingOn(store, (s) => s === "copy", 2, "appendToStream"),
        { from: "acc-1", to: "copy", pageSize: 5 },
      ),
    ).rejects.toThrow("crash");
    // And a reopen in between, as after a real crash.
    const dir = dirs[0]!;
    await store.close();
    const again = await open(dir);
    const result = await migrateStream(again, { from: "acc-1", to: "copy", pageSize: 5 });
    expect(result.done).toBe(true);
    const copy = await readAllOf(again, "copy");
    expect(copy.map((e) => (e.metadata.$migratedFrom as { version: number }).version)).toEqual(
      Array.from({ length: 37 }, (_, i) => i),
    );
    expect(copy.map((e) => e.version)).toEqual(Array.from({ length: 37 }, (_, i) => i));
  });

  it("transforms, splits and drops events; deletes the source only if nothing was appended since", async () => {
    const store = await open();
    await seed(store, 4);
    const transform = (e: RecordedEvent) => {
      const amount = (e.data as { amount: number }).amount;
      if (amount === 2) return null;
      if (amount === 3)
        return [
          { type: "Credited", data: { amount: 1 } },
          { type: "Credited", data: { amount: 2 } },
        ];
      return { type: "Credited", data: { amount } };
    };
    // A writer appends to the source while the copy runs: the delete is refused.
    const racing = new Proxy(store, {
      get(target, key, receiver) {
        if (key === "deleteStream")
          return async (...args: unknown[]) => {
            await seed(target, 1, 4);
            return (target.deleteStream as (...a: unknown[]) => unknown).apply(target, args);
          };
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === "function" ? (value as () => unknown).bind(target) : value;
      },
    });
    const refused = await migrateStream(racing, {
      from: "acc-1",
      to: "credits",
      transform,
      deleteSource: true,
    }).catch((error: unknown) => error);
    expect(isSluiceError(refused, "SLUICE_CONCURRENCY")).toBe(true);
    const done = await migrateStream(store, {
      from: "acc-1",
      to: "credits",
      transform,
      deleteSource: true,
    });
    expect(done).toMatchObject({ sourceVersion: 4, done: true });
    expect(
      (await readAllOf(store, "credits")).map((e) => (e.data as { amount: number }).amount),
    ).toEqual([1, 1, 2, 4, 5]);
    await expect(store.readStream("acc-1")).rejects.toMatchObject({ code: "SLUICE_NOT_FOUND" });
    // Running it again after the end changes nothing.
    expect((await migrateStream(store, { from: "acc-1", to: "credits", transform })).done).toBe(
      true,
    );
  });

  it("refuses bad input with the field named", async () => {
    const store = await open();
    await seed(store, 1);
    await store.appendToStream("other", [{ type: "X", data: {} }]);
    const cases: [Parameters<typeof migrateStream>[1], string][] = [
      [{ from: "acc-1", to: "acc-1" }, "to"],
      [{ from: "", to: "x" }, "from"],
      [{ from: "acc-1", to: "$x" }, "to"],
      [{ from: "acc-1", to: "x", pageSize: 0 }, "pageSize"],
      [{ from: "acc-1", to: "other" }, "to"],
    ];
    for (const [options, field] of cases)
      await expect(migrateStream(store, options)).rejects.toMatchObject({
        code: "SLUICE_VALIDATION",
        field,
      });
    await expect(migrateStream(store, { from: "missing", to: "x" })).rejects.toMatchObject({
      code: "SLUICE_NOT_FOUND",
    });
  });
});
