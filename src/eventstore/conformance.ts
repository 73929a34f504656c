/**
 * The conformance suite every `EventStore` backend must pass: appends with expected versions,
 * idempotent retries, paginated reads both ways, `$all` with filters, stream metadata and
 * deletes, catch-up and live subscriptions under concurrent writers, time lookup, schema
 * evolution, inline projections and bad input. Time runs on a `VirtualClock`.
 *
 * Usage, in a backend's test file:
 *
 *     describeEventStoreConformance({ name: "embedded", open: (options) => ..., reopen: ... });
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ErrorCode, isSluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/virtual-clock.js";
import { ConcurrencyError } from "./event-store-error.js";
import type { EventData, EventStore, RecordedEvent } from "./event-store.js";
import { EventSchema } from "./event-schema.js";
import { BlueGreenProjection } from "./projections/blue-green.js";
import type { Projection, ReadModel } from "./projections/projection.js";
import { projectionStateAsOf, saveProjectionSnapshot } from "./projections/projection-snapshots.js";
import { ProjectionRunner } from "./projections/projection-runner.js";
import { describeAggregateConformance } from "./aggregates/aggregate-conformance.js";
import { describePersistentSubscriptions } from "./persistent/persistent-conformance.js";
import type { PersistentSubscriptionGroups } from "./persistent/persistent-subscription.js";

export interface ConformanceOpenOptions {
  readonly clock: VirtualClock;
  readonly schema?: EventSchema;
  /** Inline projections; the harness gives each a read model of its kind. */
  readonly inline?: readonly Projection[];
  readonly maxEventBytes?: number;
}

/** A store under test with the read models the harness made for its inline projections. */
export interface OpenedStore {
  readonly store: EventStore;
  /** The read model of an inline projection, or a new one of the backend's kind for any other name. */
  readModel(modelName: string): ReadModel;
  /**
   * The store's persistent subscription groups; a backend without them leaves this out and the
   * persistent tests are skipped for it, with the reason.
   */
  persistentSubscriptions?(): PersistentSubscriptionGroups;
}

export interface EventStoreHarness {
  readonly name: string;
  /** A fresh, empty store. */
  open(options: ConformanceOpenOptions): Promise<OpenedStore>;
  /** False for a backend without persistent subscriptions: their tests are skipped. */
  readonly persistentSubscriptions?: boolean;
  /** Closes `opened` and opens the same storage again, with new options. */
  reopen(opened: OpenedStore, options: ConformanceOpenOptions): Promise<OpenedStore>;
}

const ev = (
  type: string,
  data: EventData["data"] = {},
  extra: Partial<EventData> = {},
): EventData => ({
  type,
  data,
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

async function expectCode(
  promise: Promise<unknown>,
  code: ErrorCode,
  field?: string,
): Promise<void> {
  const error = await rejection(promise);
  expect(isSluiceError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  if (field !== undefined) expect((error as { field?: string }).field).toBe(field);
}

async function collect(
  iterable: AsyncIterable<RecordedEvent>,
  count: number,
  controller: AbortController,
): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const event of iterable) {
    out.push(event);
    if (out.length >= count) break;
  }
  controller.abort();
  return out;
}

/** Defines the suite for one backend. */
export function describeEventStoreConformance(harness: EventStoreHarness): void {
  describe(`EventStore conformance: ${harness.name}`, () => {
    let opened: OpenedStore | undefined;
    let clock: VirtualClock;
    const open = async (
      options: Omit<ConformanceOpenOptions, "clock"> = {},
    ): Promise<EventStore> => {
      clock = new VirtualClock();
      opened = await harness.open({ clock, ...options });
      return opened.store;
    };
    const reopen = async (
      options: Omit<ConformanceOpenOptions, "clock"> = {},
    ): Promise<EventStore> => {
      opened = await harness.reopen(opened!, { clock, ...options });
      return opened.store;
    };
    afterEach(async () => {
      await opened?.store.close();
      opened = undefined;
    });

    describe("append", () => {
      it("numbers events in a stream from 0 and in $all by commit order", async () => {
        const store = await open();
        const a = await store.appendToStream("order-1", [ev("Placed"), ev("Paid")]);
        const b = await store.appendToStream("order-2", [ev("Placed")]);
        const c = await store.appendToStream("order-1", [ev("Shipped")]);
        expect(a.nextExpectedVersion).toBe(1);
        expect(b.nextExpectedVersion).toBe(0);
        expect(c.nextExpectedVersion).toBe(2);
        expect(a.position).toBeLessThan(b.position);
        expect(b.position).toBeLessThan(c.position);
        const read = await store.readStream("order-1");
        expect(read.events.map((e) => [e.type, e.version])).toEqual([
          ["Placed", 0],
          ["Paid", 1],
          ["Shipped", 2],
        ]);
        expect(read.streamVersion).toBe(2);
        expect(read.events[2]!.position).toBe(c.position);
        expect(read.events[0]!.timestamp).toBe(clock.now());
      });

      it("keeps data, metadata, ids and schema versions as given", async () => {
        const store = await open();
        await store.appendToStream("s", [
          ev(
            "Made",
            { n: 1, list: [1, "two", null], nested: { ok: true } },
            {
              id: "evt-1",
              metadata: { user: "ada", correlationId: "c-1" },
              schemaVersion: 2,
            },
          ),
        ]);
        const [event] = (await store.readStream("s")).events;
        expect(event).toMatchObject({
          id: "evt-1",
          stream: "s",
          type: "Made",
          schemaVersion: 2,
          data: { n: 1, list: [1, "two", null], nested: { ok: true } },
          metadata: { user: "ada", correlationId: "c-1" },
          version: 0,
        });
      });

      it("checks expectedVersion: no_stream, stream_exists, exact, any", async () => {
        const store = await open();
        await expectCode(
          store.appendToStream("s", [ev("A")], { expectedVersion: "stream_exists" }),
          "SLUICE_CONCURRENCY",
        );
        await expectCode(
          store.appendToStream("s", [ev("A")], { expectedVersion: 0 }),
          "SLUICE_CONCURRENCY",
        );
        await store.appendToStream("s", [ev("A")], { expectedVersion: "no_stream" });
        const error = await rejection(
          store.appendToStream("s", [ev("B")], { expectedVersion: "no_stream" }),
        );
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect(error).toMatchObject({
          code: "SLUICE_CONCURRENCY",
          stream: "s",
          expected: "no_stream",
          actual: 0,
        });
        const wrong = await rejection(store.appendToStream("s", [ev("B")], { expectedVersion: 5 }));
        expect(wrong).toMatchObject({ stream: "s", expected: 5, actual: 0 });
        await store.appendToStream("s", [ev("B")], { expectedVersion: 0 });
        await store.appendToStream("s", [ev("C")], { expectedVersion: "stream_exists" });
        await store.appendToStream("s", [ev("D")], { expectedVersion: "any" });
        expect((await store.readStream("s")).events.map((e) => e.type)).toEqual([
          "A",
          "B",
          "C",
          "D",
        ]);
      });

      it("lets exactly one of several racing appends with the same expectedVersion win", async () => {
        const store = await open();
        await store.appendToStream("race", [ev("Start")]);
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            store.appendToStream("race", [ev("Step", { i }), ev("Step2", { i })], {
              expectedVersion: 0,
            }),
          ),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results)
          if (r.status === "rejected")
            expect(isSluiceError(r.reason, "SLUICE_CONCURRENCY")).toBe(true);
        const read = await store.readStream("race");
        expect(read.events.map((e) => e.version)).toEqual([0, 1, 2]);
      });

      it("appends all events of an append or none", async () => {
        const store = await open();
        await store.appendToStream("s", [ev("A")]);
        await expectCode(
          store.appendToStream("s", [ev("B"), ev("C"), { type: "", data: {} }]),
          "SLUICE_VALIDATION",
          "events[2].type",
        );
        await expectCode(
          store.appendToStream("s", [ev("B"), ev("C")], { expectedVersion: 7 }),
          "SLUICE_CONCURRENCY",
        );
        expect((await store.readStream("s")).events.map((e) => e.type)).toEqual(["A"]);
        expect((await store.readAll()).events).toHaveLength(1);
      });

      it("stores a retried append with the same event ids once", async () => {
        const store = await open();
        const events = [ev("A", {}, { id: "id-1" }), ev("B", {}, { id: "id-2" })];
        const first = await store.appendToStream("s", events, { expectedVersion: "no_stream" });
        const retry = await store.appendToStream("s", events, { expectedVersion: "no_stream" });
        expect(retry).toEqual(first);
        expect((await store.readStream("s")).events).toHaveLength(2);
        await expectCode(
          store.appendToStream("s", [ev("B", {}, { id: "id-2" }), ev("C", {}, { id: "id-3" })]),
          "SLUICE_VALIDATION",
        );
        expect((await store.readStream("s")).events).toHaveLength(2);
      });

      it("refuses bad input with the field named", async () => {
        const store = await open({ maxEventBytes: 1000 });
        await expectCode(store.appendToStream("", [ev("A")]), "SLUICE_VALIDATION", "stream");
        await expectCode(store.appendToStream("s", []), "SLUICE_VALIDATION", "events");
        await expectCode(
          store.appendToStream("s", [ev("A", "x".repeat(2000))]),
          "SLUICE_VALIDATION",
          "events[0].data",
        );
        await expectCode(
          store.appendToStream("s", [ev("A"), { type: "B", data: {}, metadata: [] as never }]),
          "SLUICE_VALIDATION",
          "events[1].metadata",
        );
        await expectCode(
          store.appendToStream("s", [ev("A", { n: 1n } as never)]),
          "SLUICE_VALIDATION",
          "events[0].data",
        );
        await expectCode(
          store.appendToStream("s", [ev("$system")]),
          "SLUICE_VALIDATION",
          "events[0].type",
        );
        await expectCode(
          store.appendToStream("s", [ev("A")], { expectedVersion: -1 as never }),
          "SLUICE_VALIDATION",
          "expectedVersion",
        );
        await expectCode(
          store.setStreamMetadata("s", { maxCount: 0 }),
          "SLUICE_VALIDATION",
          "metadata.maxCount",
        );
        await expectCode(store.readStream("s", { maxCount: 0 }), "SLUICE_VALIDATION", "maxCount");
        await expectCode(store.readStream("missing"), "SLUICE_NOT_FOUND", "stream");
        expect((await store.readAll()).events).toHaveLength(0);
      });
    });

    describe("read", () => {
      it("pages a stream forward and backward, resumably", async () => {
        const store = await open();
        for (let i = 0; i < 5; i++)
          await store.appendToStream(
            "s",
            Array.from({ length: 5 }, (_, j) => ev("E", { n: i * 5 + j })),
          );
        const forward: number[] = [];
        let from: number | undefined = 0;
        while (from !== undefined) {
          const page = await store.readStream("s", { fromVersion: from, maxCount: 7 });
          forward.push(...page.events.map((e) => e.version));
          from = page.nextVersion;
        }
        expect(forward).toEqual(Array.from({ length: 25 }, (_, i) => i));
        const backward: number[] = [];
        let back: number | undefined;
        do {
          const page = await store.readStream("s", {
            direction: "backward",
            maxCount: 10,
            ...(back === undefined ? {} : { fromVersion: back }),
          });
          backward.push(...page.events.map((e) => e.version));
          back = page.nextVersion;
        } while (back !== undefined);
        expect(backward).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
        const beyond = await store.readStream("s", { fromVersion: 30 });
        expect(beyond.events).toEqual([]);
        expect(beyond.nextVersion).toBeUndefined();
      });

      it("reads $all both ways from a position, with stream-prefix and type filters", async () => {
        const store = await open();
        await store.appendToStream("order-1", [ev("Placed"), ev("Paid")]);
        await store.appendToStream("user-1", [ev("Registered")]);
        await store.appendToStream("order-2", [ev("Placed")]);
        const all = await store.readAll();
        expect(all.events.map((e) => e.stream)).toEqual([
          "order-1",
          "order-1",
          "user-1",
          "order-2",
        ]);
        const positions = all.events.map((e) => e.position);
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
        const back = await store.readAll({ direction: "backward" });
        expect(back.events.map((e) => e.position)).toEqual([...positions].reverse());
        const fromThird = await store.readAll({ fromPosition: positions[2]! });
        expect(fromThird.events.map((e) => e.stream)).toEqual(["user-1", "order-2"]);
        const backFromSecond = await store.readAll({
          direction: "backward",
          fromPosition: positions[1]!,
        });
        expect(backFromSecond.events.map((e) => e.type)).toEqual(["Paid", "Placed"]);
        const orders = await store.readAll({ filter: { streamPrefixes: ["order-"] } });
        expect(orders.events.map((e) => e.stream)).toEqual(["order-1", "order-1", "order-2"]);
        const placed = await store.readAll({ filter: { types: ["Placed"] } });
        expect(placed.events.map((e) => e.stream)).toEqual(["order-1", "order-2"]);
        const paged: number[] = [];
        let next: number | undefined = 0;
        while (next !== undefined) {
          const page = await store.readAll({ fromPosition: next, maxCount: 3 });
          paged.push(...page.events.map((e) => e.position));
          next = page.nextPosition;
        }
        expect(paged).toEqual(positions);
        expect(await store.headPosition()).toBe(positions[3]);
      });

      it("finds the position for a time", async () => {
        const store = await open();
        expect(await store.positionAt(clock.now())).toBe(-1);
        const t0 = clock.now();
        const a = await store.appendToStream("s", [ev("A")]);
        await clock.advance(1000);
        const b = await store.appendToStream("s", [ev("B")]);
        await clock.advance(1000);
        expect(await store.positionAt(t0 - 1)).toBe(-1);
        expect(await store.positionAt(t0)).toBe(a.position);
        expect(await store.positionAt(t0 + 999)).toBe(a.position);
        expect(await store.positionAt(t0 + 1000)).toBe(b.position);
        expect(await store.positionAt(clock.now())).toBe(b.position);
      });

      it("lists streams", async () => {
        const store = await open();
        await store.appendToStream("a", [ev("A")]);
        await store.appendToStream("b", [ev("A"), ev("B")]);
        await store.deleteStream("a");
        expect(await store.listStreams()).toEqual([
          { stream: "a", version: 0, deleted: "soft" },
          { stream: "b", version: 1, deleted: "no" },
        ]);
      });
    });

    describe("stream lifecycle", () => {
      it("hides events by maxCount, truncateBefore and maxAge", async () => {
        const store = await open();
        await store.appendToStream(
          "s",
          Array.from({ length: 10 }, (_, i) => ev("E", { i })),
        );
        await store.setStreamMetadata("s", { maxCount: 3, custom: { owner: "billing" } });
        expect(await store.getStreamMetadata("s")).toEqual({
          maxCount: 3,
          custom: { owner: "billing" },
        });
        expect((await store.readStream("s")).events.map((e) => e.version)).toEqual([7, 8, 9]);
        await store.setStreamMetadata("s", { truncateBefore: 5 });
        expect((await store.readStream("s")).events.map((e) => e.version)).toEqual([5, 6, 7, 8, 9]);
        await clock.advance(60_000);
        await store.appendToStream("s", [ev("Late")]);
        await store.setStreamMetadata("s", { maxAgeMs: 30_000 });
        expect((await store.readStream("s")).events.map((e) => e.version)).toEqual([10]);
        expect((await store.readAll()).events.length).toBeGreaterThanOrEqual(11);
      });

      it("soft delete hides the stream; appending reopens it and versions continue", async () => {
        const store = await open();
        await store.appendToStream("s", [ev("A"), ev("B")]);
        await expectCode(store.deleteStream("s", { expectedVersion: 0 }), "SLUICE_CONCURRENCY");
        await store.deleteStream("s", { expectedVersion: 1 });
        await expectCode(store.readStream("s"), "SLUICE_NOT_FOUND", "stream");
        await expectCode(
          store.appendToStream("s", [ev("C")], { expectedVersion: "stream_exists" }),
          "SLUICE_CONCURRENCY",
        );
        const r = await store.appendToStream("s", [ev("C")], { expectedVersion: "no_stream" });
        expect(r.nextExpectedVersion).toBe(2);
        const read = await store.readStream("s");
        expect(read.events.map((e) => [e.type, e.version])).toEqual([["C", 2]]);
      });

      it("hard delete leaves a tombstone: no reads, no appends, ever", async () => {
        const store = await open();
        await store.appendToStream("s", [ev("A")]);
        await store.deleteStream("s", { hard: true });
        await expectCode(store.readStream("s"), "SLUICE_STREAM_DELETED", "stream");
        await expectCode(store.appendToStream("s", [ev("B")]), "SLUICE_STREAM_DELETED", "stream");
        await expectCode(store.deleteStream("s"), "SLUICE_STREAM_DELETED", "stream");
        await expectCode(store.deleteStream("never"), "SLUICE_NOT_FOUND", "stream");
        const store2 = await reopen();
        await expectCode(store2.appendToStream("s", [ev("B")]), "SLUICE_STREAM_DELETED", "stream");
      });
    });

    describe("subscriptions", () => {
      it("catches up, then follows live appends, on a stream and on $all with a filter", async () => {
        const store = await open();
        await store.appendToStream("order-1", [ev("Placed"), ev("Paid")]);
        await store.appendToStream("user-1", [ev("Registered")]);
        const c1 = new AbortController();
        const c2 = new AbortController();
        const onStream = collect(store.subscribe({ stream: "order-1", signal: c1.signal }), 4, c1);
        const onAll = collect(
          store.subscribe({ filter: { streamPrefixes: ["order-"] }, signal: c2.signal }),
          4,
          c2,
        );
        await new Promise((r) => setTimeout(r, 20));
        await store.appendToStream("user-2", [ev("Registered")]);
        await store.appendToStream("order-1", [ev("Shipped")]);
        await store.appendToStream("order-2", [ev("Placed")]);
        await store.appendToStream("order-1", [ev("Delivered")]);
        expect((await onStream).map((e) => e.type)).toEqual([
          "Placed",
          "Paid",
          "Shipped",
          "Delivered",
        ]);
        expect((await onAll).map((e) => `${e.stream}:${e.type}`)).toEqual([
          "order-1:Placed",
          "order-1:Paid",
          "order-1:Shipped",
          "order-2:Placed",
        ]);
      });

      it("starts after a position, or at the end", async () => {
        const store = await open();
        const a = await store.appendToStream("s", [ev("A"), ev("B")]);
        const c1 = new AbortController();
        const fromEnd = collect(store.subscribe({ after: "end", signal: c1.signal }), 1, c1);
        const c2 = new AbortController();
        const after = await collect(
          store.subscribe({ after: a.position - 1, signal: c2.signal }),
          1,
          c2,
        );
        expect(after.map((e) => e.type)).toEqual(["B"]);
        await new Promise((r) => setTimeout(r, 20));
        await store.appendToStream("s", [ev("C")]);
        expect((await fromEnd).map((e) => e.type)).toEqual(["C"]);
      });

      it("'end' is the end when subscribe() is called: an event appended before iterating is delivered", async () => {
        const store = await open();
        await store.appendToStream("s", [ev("Old")]);
        const c1 = new AbortController();
        const c2 = new AbortController();
        const all = store.subscribe({ after: "end", signal: c1.signal });
        const stream = store.subscribe({ stream: "s", after: "end", signal: c2.signal });
        // A backend on a server asks for the end when subscribe() is called; a read asked for
        // after it is answered after it (a pool serves them in order), so the end is known.
        await store.headPosition();
        await new Promise((r) => setTimeout(r, 20));
        await store.appendToStream("s", [ev("New")]);
        expect((await collect(all, 1, c1)).map((e) => e.type)).toEqual(["New"]);
        expect((await collect(stream, 1, c2)).map((e) => e.type)).toEqual(["New"]);
      });

      it("delivers every event once, in position order, with 8 concurrent writers", async () => {
        const store = await open();
        const writers = 8;
        const appends = 25;
        const total = writers * appends * 2;
        const controller = new AbortController();
        const seen = collect(store.subscribe({ signal: controller.signal }), total, controller);
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < appends; i++)
              await store.appendToStream(`w-${w}`, [ev("E", { w, i }), ev("F", { w, i })]);
          }),
        );
        const events = await seen;
        expect(events).toHaveLength(total);
        for (let i = 1; i < events.length; i++)
          expect(events[i]!.position).toBeGreaterThan(events[i - 1]!.position);
        const all = await store.readAll({ maxCount: 10_000 });
        expect(events.map((e) => e.position)).toEqual(all.events.map((e) => e.position));
      });
    });

    describe("schema evolution", () => {
      const schema = (): EventSchema =>
        new EventSchema()
          .define("Renamed", 3)
          .upcaster("Renamed", 1, (d) => ({ name: (d as { n: string }).n }))
          .upcaster("Renamed", 2, (d) => ({
            ...(d as object),
            title: (d as { name: string }).name.toUpperCase(),
          }));

      it("upcasts old versions on read and never rewrites them", async () => {
        await open();
        await opened!.store.appendToStream("s", [
          ev("Renamed", { n: "ada" }, { schemaVersion: 1 }),
          ev("Renamed", { name: "bob" }, { schemaVersion: 2 }),
          ev("Renamed", { name: "cy", title: "Dr" }, { schemaVersion: 3 }),
        ]);
        const store = await reopen({ schema: schema() });
        const read = await store.readStream("s");
        expect(read.events.map((e) => [e.schemaVersion, e.data])).toEqual([
          [3, { name: "ada", title: "ADA" }],
          [3, { name: "bob", title: "BOB" }],
          [3, { name: "cy", title: "Dr" }],
        ]);
        const raw = await reopen();
        expect((await raw.readStream("s")).events[0]).toMatchObject({
          schemaVersion: 1,
          data: { n: "ada" },
        });
      });

      it("refuses to read an event of an unknown type or a version without an upcaster", async () => {
        await open();
        await opened!.store.appendToStream("s", [ev("Mystery")]);
        await opened!.store.appendToStream("t", [ev("Renamed", {}, { schemaVersion: 4 })]);
        const store = await reopen({ schema: schema() });
        await expectCode(store.readStream("s"), "SLUICE_VALIDATION", "type");
        await expectCode(store.readStream("t"), "SLUICE_VALIDATION", "type");
        await store.appendToStream("u", [
          ev("Renamed", { name: "x", title: "y" }, { schemaVersion: 3 }),
        ]);
        expect((await store.readStream("u")).events).toHaveLength(1);
      });
    });

    describe("inline projections", () => {
      const counter: Projection = {
        name: "counts",
        filter: { streamPrefixes: ["order-"] },
        async apply(event, tx) {
          const current = ((await tx.get(event.stream)) as number | undefined) ?? 0;
          tx.put(event.stream, current + 1);
          if (event.type === "Cancelled") tx.delete(event.stream);
        },
      };
      const failing: Projection = {
        name: "picky",
        apply(event, tx) {
          if (event.type === "Poison") throw new Error("cannot handle poison");
          tx.put("last", event.type);
        },
      };

      it("commits the read model with each append, so it never misses an acknowledged event", async () => {
        const store = await open({ inline: [counter] });
        await Promise.all([
          store.appendToStream("order-1", [ev("Placed"), ev("Paid")]),
          store.appendToStream("order-2", [ev("Placed")]),
          store.appendToStream("user-1", [ev("Registered")]),
          store.appendToStream("order-1", [ev("Shipped")]),
        ]);
        const last = await store.appendToStream("order-3", [ev("Placed"), ev("Cancelled")]);
        const model = opened!.readModel("counts");
        expect(await model.entries()).toEqual([
          ["order-1", 3],
          ["order-2", 1],
        ]);
        expect(await model.checkpoint()).toBe(last.position);
        await reopen({ inline: [counter] });
        expect(await opened!.readModel("counts").entries()).toEqual([
          ["order-1", 3],
          ["order-2", 1],
        ]);
      });

      it("rejects an append whose inline handler throws; the store keeps working", async () => {
        const store = await open({ inline: [failing] });
        await store.appendToStream("s", [ev("Good")]);
        const error = await rejection(store.appendToStream("s", [ev("Fine"), ev("Poison")]));
        expect(isSluiceError(error, "SLUICE_PROJECTION")).toBe(true);
        expect(error).toMatchObject({ projection: "picky" });
        expect((await store.readStream("s")).events.map((e) => e.type)).toEqual(["Good"]);
        await store.appendToStream("s", [ev("Better")]);
        expect(await opened!.readModel("picky").get("last")).toBe("Better");
      });
    });

    describe("async projections", () => {
      const counts: Projection = {
        name: "counts",
        filter: { types: ["Placed", "Paid"] },
        async apply(event, tx) {
          const key = `${event.type}`;
          tx.put(key, (((await tx.get(key)) as number | undefined) ?? 0) + 1);
        },
      };

      it("applies events in batches with the checkpoint, and resumes without applying twice", async () => {
        const store = await open();
        for (let i = 0; i < 30; i++)
          await store.appendToStream(`o-${i % 3}`, [ev("Placed"), ev("Paid"), ev("Noise")]);
        const model = opened!.readModel("counts");
        const first = new ProjectionRunner(store, counts, model, { batchSize: 7, clock });
        first.start();
        await first.waitFor(await store.headPosition());
        await first.stop();
        expect(await model.entries()).toEqual([
          ["Paid", 30],
          ["Placed", 30],
        ]);
        expect(await model.checkpoint()).toBe(await store.headPosition());
        const last = await store.appendToStream("o-9", [ev("Placed")]);
        const second = new ProjectionRunner(store, counts, model, { clock });
        second.start();
        await second.waitFor(last.position);
        await second.stop();
        expect(await model.get("Placed")).toBe(31);
        expect(second.lag.summary().count).toBe(1);
      });

      it("stops at an event whose handler throws, recording error and position; the store keeps working", async () => {
        const store = await open();
        await store.appendToStream("s", [ev("Good"), ev("Good"), ev("Poison"), ev("Good")]);
        const poisoned = (await store.readAll()).events[2]!.position;
        const model = opened!.readModel("fragile");
        const runner = new ProjectionRunner(
          store,
          {
            name: "fragile",
            apply(event, tx) {
              if (event.type === "Poison") throw new Error("bad event");
              tx.put(String(event.position), event.type);
            },
          },
          model,
          { clock },
        );
        runner.start();
        await expect(runner.waitFor(poisoned + 1)).resolves.toBeUndefined();
        await runner.stop();
        const status = runner.status();
        expect(status.state).toBe("failed");
        expect(status.error).toMatchObject({
          code: "SLUICE_PROJECTION",
          position: poisoned,
          projection: "fragile",
        });
        expect(await model.checkpoint()).toBe(poisoned - 1);
        expect((await model.entries()).length).toBe(2);
        await store.appendToStream("s", [ev("More")]);
        expect((await store.readStream("s")).events).toHaveLength(5);
      });

      it("rebuilds from zero with progress", async () => {
        const store = await open();
        for (let i = 0; i < 20; i++) await store.appendToStream("s", [ev("Placed"), ev("Paid")]);
        const model = opened!.readModel("counts");
        await model.commit(new Map([["Placed", 999]]), await store.headPosition());
        const runner = new ProjectionRunner(store, counts, model, { batchSize: 10, clock });
        const progress: number[] = [];
        const result = await runner.rebuild((p) => progress.push(p.checkpoint));
        expect(await model.entries()).toEqual([
          ["Paid", 20],
          ["Placed", 20],
        ]);
        expect(progress.length).toBeGreaterThanOrEqual(4);
        expect(result.checkpoint).toBe(result.target);
        expect(result.events).toBe(40);
        // Replayed history is not lag: only live events count.
        expect(runner.lag.summary().count).toBe(0);
      });

      it("computes a projection as of a past time from the nearest snapshot", async () => {
        const store = await open();
        const times: number[] = [];
        for (let day = 0; day < 6; day++) {
          for (let i = 0; i < 5; i++) await store.appendToStream(`o-${i}`, [ev("Placed")]);
          times.push(clock.now());
          await clock.advance(86_400_000);
        }
        const runner = new ProjectionRunner(store, counts, opened!.readModel("counts"), {
          clock,
          batchSize: 5,
          snapshotEvery: 10,
        });
        runner.start();
        await runner.waitFor(await store.headPosition());
        await runner.stop();
        const asOf = await projectionStateAsOf(store, counts, { time: times[3]! });
        expect(await asOf.readModel.get("Placed")).toBe(20);
        expect(asOf.fromSnapshot).toBeGreaterThanOrEqual(0);
        expect(asOf.eventsReplayed).toBeLessThan(20);
        const before = await projectionStateAsOf(store, counts, { time: times[0]! - 1 });
        expect(await before.readModel.entries()).toEqual([]);
      });

      it("finds the nearest projection snapshot through the snapshot index, and older unlisted snapshots by their parts", async () => {
        const store = await open();
        const positions: number[] = [];
        for (let i = 0; i < 10; i++)
          positions.push((await store.appendToStream(`o-${i % 2}`, [ev("Placed")])).position);
        const model = opened!.readModel("counts");
        await model.commit(new Map([["Placed", 4]]), positions[3]!);
        await saveProjectionSnapshot(store, counts, model);
        await model.commit(new Map([["Placed", 8]]), positions[7]!);
        await saveProjectionSnapshot(store, counts, model);
        const middle = await projectionStateAsOf(store, counts, { position: positions[5]! });
        expect(middle.fromSnapshot).toBe(positions[3]);
        expect(await middle.readModel.get("Placed")).toBe(6);
        const late = await projectionStateAsOf(store, counts, { position: positions[9]! });
        expect(late.fromSnapshot).toBe(positions[7]);
        expect(await late.readModel.get("Placed")).toBe(10);
        const early = await projectionStateAsOf(store, counts, { position: positions[1]! });
        expect(early.fromSnapshot).toBe(-1);
        expect(await early.readModel.get("Placed")).toBe(2);
        // A snapshot saved before snapshots were indexed: its parts only.
        const legacy: Projection = { ...counts, name: "legacy" };
        await store.appendToStream("$projection-legacy", [
          {
            type: "ProjectionSnapshot",
            data: { position: positions[5]!, part: 0, parts: 1, entries: [["Placed", 6]] },
          },
        ]);
        const old = await projectionStateAsOf(store, legacy, { position: positions[8]! });
        expect(old.fromSnapshot).toBe(positions[5]);
        expect(await old.readModel.get("Placed")).toBe(9);
      });

      it("builds a new version beside the live one and promotes it when caught up", async () => {
        const store = await open();
        for (let i = 0; i < 10; i++) await store.appendToStream("s", [ev("Placed")]);
        const deployment = new BlueGreenProjection(
          store,
          (name) => Promise.resolve(opened!.readModel(name)),
          { clock },
        );
        await deployment.deploy(counts);
        const v2: Projection = {
          name: "counts",
          version: 2,
          apply(event, tx) {
            tx.put("last", event.position);
          },
        };
        await deployment.deploy(v2);
        expect(deployment.live().projection.version ?? 1).toBe(1);
        await deployment.promote(2);
        expect(deployment.live().projection.version).toBe(2);
        expect(await deployment.live().readModel.get("last")).toBe(await store.headPosition());
        expect(await opened!.readModel("counts").get("Placed")).toBe(10);
        await deployment.stop();
      });
    });

    const subscriptionsOf = (store: OpenedStore): PersistentSubscriptionGroups => {
      if (store.persistentSubscriptions === undefined)
        throw new Error("persistent subscriptions: not offered by this backend");
      return store.persistentSubscriptions();
    };
    describeAggregateConformance({
      open: async () => ({ store: await open(), clock }),
    });
    describePersistentSubscriptions({
      supported: harness.persistentSubscriptions !== false,
      open: async () => {
        const store = await open();
        return { store, subscriptions: subscriptionsOf(opened!) };
      },
      reopen: async () => {
        const store = await reopen();
        return { store, subscriptions: subscriptionsOf(opened!) };
      },
      clock: () => clock,
    });

    describe("durability", () => {
      it("keeps streams, metadata, deletes and ids across a reopen", async () => {
        const store = await open();
        await store.appendToStream("a", [ev("A", { x: 1 }, { id: "k1" }), ev("B")]);
        await store.appendToStream("b", [ev("C")]);
        await store.setStreamMetadata("a", { maxCount: 1 });
        await store.appendToStream("c", [ev("D")]);
        await store.deleteStream("c");
        const again = await reopen();
        expect((await again.readStream("a")).events.map((e) => e.type)).toEqual(["B"]);
        expect((await again.readStream("a")).streamVersion).toBe(1);
        await expectCode(again.readStream("c"), "SLUICE_NOT_FOUND");
        const retry = await again.appendToStream("a", [ev("A", { x: 1 }, { id: "k1" })]);
        expect(retry.nextExpectedVersion).toBe(0);
        const next = await again.appendToStream("b", [ev("E")], { expectedVersion: 0 });
        expect(next.nextExpectedVersion).toBe(1);
      });
    });
  });
}
