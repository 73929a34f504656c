import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { SluiceError, isSluiceError } from "../errors/index.js";
import { type SweptMethod, untypedFailures } from "../test-support/type-sweep.js";
import { VirtualClock } from "../time/index.js";
import { EmbeddedEventStore } from "./embedded-event-store.js";

type Case = SweptMethod;

let counter = 0;
const fresh = (): string => `s-${counter++}`;
const event = { type: "Added", data: { n: 1 }, metadata: { by: "me" } };

const CASES: readonly Case[] = [
  {
    method: "appendToStream",
    args: () => [fresh(), [event], { expectedVersion: "any" }],
    parts: [
      [0],
      [1],
      [1, 0],
      [1, 0, "type"],
      [1, 0, "data"],
      [1, 0, "metadata"],
      [1, 0, "metadata", "by"],
      [1, 0, "id"],
      [1, 0, "schemaVersion"],
      [2],
      [2, "expectedVersion"],
    ],
  },
  {
    method: "readStream",
    args: () => ["kept", { direction: "forward", fromVersion: 0, maxCount: 10 }],
    parts: [[0], [1], [1, "direction"], [1, "fromVersion"], [1, "maxCount"]],
  },
  {
    method: "readAll",
    args: () => [
      { direction: "forward", fromPosition: 0, maxCount: 10, filter: { types: ["Added"] } },
    ],
    parts: [
      [0],
      [0, "direction"],
      [0, "fromPosition"],
      [0, "maxCount"],
      [0, "filter"],
      [0, "filter", "types"],
      [0, "filter", "types", 0],
      [0, "filter", "streamPrefixes"],
      [0, "includeSystem"],
    ],
  },
  { method: "getStreamMetadata", args: () => ["kept"], parts: [[0]] },
  {
    method: "setStreamMetadata",
    args: () => [fresh(), { maxAgeMs: 60_000, maxCount: 5, custom: { a: 1 } }],
    parts: [
      [0],
      [1],
      [1, "maxAgeMs"],
      [1, "maxCount"],
      [1, "truncateBefore"],
      [1, "custom"],
      [1, "custom", "a"],
    ],
  },
  {
    method: "deleteStream",
    args: () => ["gone", { expectedVersion: "any", hard: false }],
    parts: [[0], [1], [1, "expectedVersion"], [1, "hard"]],
  },
  {
    method: "listStreams",
    args: () => [{ includeSystem: false }],
    parts: [[0], [0, "includeSystem"]],
  },
  { method: "positionAt", args: () => [Date.now()], parts: [[0]] },
  {
    method: "subscribe",
    // Stopped before it starts (and "kept" has events at once): no sweep waits for appends.
    args: () => [
      { stream: "kept", after: -1, filter: { types: ["Added"] }, signal: AbortSignal.abort() },
    ],
    parts: [[0], [0, "stream"], [0, "after"], [0, "filter"], [0, "filter", "types"], [0, "signal"]],
  },
];

/** Calls `method` as a user would; a subscription is iterated to its first event. */
async function call(store: EmbeddedEventStore, method: string, args: unknown[]): Promise<void> {
  const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!;
  const result = fn.apply(store, args);
  if (method !== "subscribe") {
    await result;
    return;
  }
  const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  try {
    await iterator.next();
  } finally {
    await iterator.return?.();
  }
}

/**
 * Every method of the event store, each argument and field swept with values of every type:
 * a call either works or is refused with a SluiceError naming what it expected; never a
 * TypeError from deep inside, and the events appended before are all still there after.
 */
describe("the event store answers wrong-typed input with typed errors", () => {
  let store: EmbeddedEventStore;
  beforeAll(async () => {
    store = await EmbeddedEventStore.open("/es", {
      fs: new SimulatedFileSystem(5),
      clock: new VirtualClock(),
    });
    await store.appendToStream("kept", [event, event]);
  });
  afterAll(async () => {
    await store.close();
  });

  for (const c of CASES)
    it(c.method, async () => {
      const untyped = await untypedFailures(
        c.args,
        c.parts,
        (args) => call(store, c.method, args),
        (error) => error instanceof SluiceError,
      );
      expect(untyped).toEqual([]);
      const { events } = await store.readStream("kept");
      expect(events.map((e) => e.version)).toEqual([0, 1]);
    });

  it("refuses values that used to be read as something else", async () => {
    const refused = async (work: () => Promise<unknown>, field: string): Promise<void> => {
      await expect(work()).rejects.toSatisfy(
        (e) => isSluiceError(e, "SLUICE_VALIDATION") && e.field === field,
      );
    };
    // `hard: "false"` was truthy: a tombstone, and the stream could never be written again.
    await refused(() => store.deleteStream("kept", { hard: "false" as never }), "hard");
    await store.appendToStream("kept", [event], { expectedVersion: 1 });
    // A string for a list matched by substring; null options read as none; after: null as 0.
    await refused(() => store.readAll({ filter: { types: "Added" as never } }), "filter.types");
    await refused(() => store.readStream("kept", null as never), "options");
    await refused(() => call(store, "subscribe", [{ after: null }]), "after");
    await refused(() => store.appendToStream("kept", new Array(1) as never), "events[0]");
  });
});
