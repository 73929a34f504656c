import { crc32c } from "@node-rs/crc32";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { Log } from "../engine/index.js";
import { isSluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { EmbeddedEventStore } from "./embedded-event-store.js";
import type { AppendResult, EventData, EventStore } from "./event-store.js";

const INDEX_FILE = "stream-index.json";

/** The JSON of a saved index file (after its checksum line). */
const jsonOf = (saved: Buffer): string => saved.toString().slice(saved.indexOf("\n") + 1);

/** An index file of `json` with a checksum line that matches it. */
const withChecksum = (json: string): Buffer =>
  Buffer.from(`${crc32c(Buffer.from(json)).toString(16).padStart(8, "0")}\n${json}`);
const START = Date.UTC(2026, 0, 1);

const dirs: string[] = [];
const stores: EmbeddedEventStore[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const store of stores.splice(0)) await store.close();
});
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-es-index-"));
  dirs.push(dir);
  return dir;
}

/**
 * Opens the store in `dir` and counts the log records visited while opening. The clock is back
 * at the start unless given: timestamps must still not go backwards.
 */
async function openStore(
  dir: string,
  clock = new VirtualClock(START),
): Promise<{ store: EmbeddedEventStore; scanned: number }> {
  const scan = vi.spyOn(Log.prototype, "scan");
  let store: EmbeddedEventStore;
  let scanned = 0;
  try {
    store = await EmbeddedEventStore.open(dir, { clock, fsync: "never" });
    for (const r of scan.mock.results) if (r.type === "return") scanned += r.value;
  } finally {
    scan.mockRestore();
  }
  stores.push(store);
  return { store, scanned };
}

async function closeStore(store: EmbeddedEventStore): Promise<void> {
  stores.splice(stores.indexOf(store), 1);
  await store.close();
}

/** The appends made, to retry them: a retry must return the same result and store nothing. */
interface Append {
  readonly stream: string;
  readonly events: EventData[];
  readonly result: AppendResult;
}

/** Writes a history with ids, metadata, soft and hard deletes; `phase` picks which part. */
class History {
  readonly appends: Append[] = [];
  /** The clock of the stores that write it: a minute passes before each append. */
  readonly clock = new VirtualClock(START);

  async write(store: EmbeddedEventStore, phase: 1 | 2): Promise<void> {
    if (phase === 1) {
      await this.append(store, "account-1", ["a1-0", "a1-1", "a1-2"]);
      await this.append(store, "account-2", [undefined, undefined, undefined, undefined]);
      await store.setStreamMetadata("account-2", { maxCount: 2 });
      await this.append(store, "cart-1", ["c1-0", "c1-1"]);
      await store.deleteStream("cart-1");
      await this.append(store, "cart-2", ["c2-0"]);
      await store.deleteStream("cart-2", { hard: true });
      await this.append(store, "account-1", ["a1-3", "a1-4"]);
    } else {
      await this.append(store, "account-1", ["a1-5"]);
      await this.append(store, "cart-1", ["c1-2"]); // revives the soft-deleted stream
      await store.setStreamMetadata("account-2", { maxCount: 3, custom: { owner: "ada" } });
      await this.append(store, "account-2", [undefined]);
      await this.append(store, "cart-3", ["c3-0", "c3-1"]);
      await store.deleteStream("cart-3");
      await this.append(store, "account-3", ["a3-0"]);
      await store.deleteStream("account-3", { hard: true });
      await this.append(store, "account-4", ["a4-0", "a4-1"]);
    }
  }

  private async append(
    store: EventStore,
    stream: string,
    ids: readonly (string | undefined)[],
  ): Promise<void> {
    await this.clock.advance(60_000);
    const events = ids.map((id, n): EventData => ({
      ...(id === undefined ? {} : { id }),
      type: "Happened",
      data: { stream, n, append: this.appends.length },
    }));
    this.appends.push({ stream, events, result: await store.appendToStream(stream, events) });
  }
}

/** Everything a reader can see: streams, their versions and events, metadata and `$all`. */
async function view(store: EventStore): Promise<unknown> {
  const streams = await store.listStreams({ includeSystem: true });
  streams.sort((a, b) => (a.stream < b.stream ? -1 : 1));
  const reads: Record<string, unknown> = {};
  for (const { stream } of streams) {
    try {
      const read = await store.readStream(stream);
      reads[stream] = {
        streamVersion: read.streamVersion,
        events: read.events.map((e) => [e.version, e.position, e.id, e.data, e.timestamp]),
      };
    } catch (error) {
      reads[stream] = isSluiceError(error) ? error.code : String(error);
    }
  }
  const metadata: Record<string, unknown> = {};
  for (const { stream } of streams) metadata[stream] = await store.getStreamMetadata(stream);
  const all = await store.readAll({ maxCount: 10_000, includeSystem: true });
  return {
    head: await store.headPosition(),
    streams,
    reads,
    metadata,
    all: all.events.map((e) => [e.position, e.stream, e.version, e.id, e.type, e.timestamp]),
  };
}

/**
 * The store after a reopen behaves as before it: retried appends return their first result
 * and store nothing, an id cannot move to another stream, and new appends continue every
 * stream at the right version with a timestamp not before the last one.
 */
async function expectSameBehaviour(store: EventStore, history: History): Promise<void> {
  const head = await store.headPosition();
  const hardDeleted = new Set(
    (await store.listStreams()).filter((s) => s.deleted === "hard").map((s) => s.stream),
  );
  for (const { stream, events, result } of history.appends) {
    if (hardDeleted.has(stream) || events.every((e) => e.id === undefined)) continue;
    await expect(store.appendToStream(stream, events), `retry on ${stream}`).resolves.toEqual(
      result,
    );
  }
  expect(await store.headPosition()).toBe(head);
  await expect(
    store.appendToStream("elsewhere", [{ id: "a1-0", type: "Happened", data: null }]),
  ).rejects.toMatchObject({ code: "SLUICE_VALIDATION" });

  const { events: all } = await store.readAll({ maxCount: 10_000, includeSystem: true });
  const lastTimestamp = Math.max(...all.map((e) => e.timestamp));
  for (const { stream, version, deleted } of await store.listStreams()) {
    const append = store.appendToStream(stream, [{ type: "Next", data: null }], {
      expectedVersion: deleted === "no" ? version : "any",
    });
    if (deleted === "hard") {
      await expect(append, stream).rejects.toMatchObject({ code: "SLUICE_STREAM_DELETED" });
      continue;
    }
    expect((await append).nextExpectedVersion, stream).toBe(version + 1);
    const [next] = (await store.readStream(stream, { direction: "backward", maxCount: 1 })).events;
    expect(next).toMatchObject({ type: "Next", version: version + 1 });
    expect(next!.timestamp).toBeGreaterThanOrEqual(lastTimestamp);
  }
}

describe("the persisted stream index (stream-index.json)", () => {
  it("is saved on a clean close, and a reopen loads it instead of scanning the log, with the same reads", async () => {
    const dir = tempDir();
    const history = new History();
    const { store } = await openStore(dir, history.clock);
    await history.write(store, 1);
    await history.write(store, 2);
    const before = await view(store);
    const head = await store.headPosition();
    await closeStore(store);

    const file = join(dir, INDEX_FILE);
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(jsonOf(readFileSync(file)))).toMatchObject({ position: head });

    const reopened = await openStore(dir);
    expect(reopened.scanned).toBe(0);
    expect(await view(reopened.store)).toEqual(before);
    await expectSameBehaviour(reopened.store, history);
  });

  it.each([
    ["garbage bytes", (saved: Buffer) => Buffer.from(saved.map((_, i) => (i * 151 + 7) % 256))],
    ["truncated JSON", (saved: Buffer) => saved.subarray(0, Math.floor(saved.length / 2))],
    ["an empty file", () => Buffer.alloc(0)],
    ["JSON null", () => Buffer.from("null")],
    [
      "JSON of the wrong shape",
      () =>
        Buffer.from(
          JSON.stringify({
            format: 1,
            position: 2,
            lastTimestamp: START,
            // A stream that loads, then ids that do not: nothing of it may stay.
            streams: [
              {
                name: "ghost",
                positions: [0],
                metadata: {},
                deletedBefore: 0,
                softDeleted: false,
                hardDeleted: false,
              },
            ],
            ids: 1,
          }),
        ),
    ],
    [
      "JSON without its lastTimestamp",
      (saved: Buffer) => {
        const checkpoint = JSON.parse(jsonOf(saved)) as Record<string, unknown>;
        delete checkpoint.lastTimestamp;
        return withChecksum(JSON.stringify(checkpoint));
      },
    ],
    [
      "a position past the end of the log",
      (saved: Buffer) => {
        const checkpoint = JSON.parse(jsonOf(saved)) as { position: number };
        return withChecksum(JSON.stringify({ ...checkpoint, position: checkpoint.position + 10 }));
      },
    ],
    [
      "a digit changed under its checksum (still JSON, still the right shape)",
      (saved: Buffer) => {
        const text = saved.toString();
        const at = text.indexOf('"positions":[') + '"positions":['.length;
        const digit = text[at]!;
        return Buffer.from(text.slice(0, at) + (digit === "9" ? "8" : "9") + text.slice(at + 1));
      },
    ],
  ])(
    "when it holds %s, falls back to a full scan with every stream, version and id right",
    async (_, corrupt) => {
      const dir = tempDir();
      const history = new History();
      const { store } = await openStore(dir, history.clock);
      await history.write(store, 1);
      await history.write(store, 2);
      const before = await view(store);
      const records = (await store.headPosition()) + 1;
      await closeStore(store);

      const file = join(dir, INDEX_FILE);
      writeFileSync(file, corrupt(readFileSync(file)));
      const reopened = await openStore(dir);
      expect(await view(reopened.store)).toEqual(before);
      await expectSameBehaviour(reopened.store, history);
      expect(reopened.scanned).toBe(records);
    },
  );

  it("when it is older than the log (a crash after more appends), scans only the tail and gets everything right", async () => {
    const dir = tempDir();
    const history = new History();
    const first = await openStore(dir, history.clock);
    await history.write(first.store, 1);
    const savedAt = await first.store.headPosition();
    const firstView = await view(first.store);
    await closeStore(first.store);
    const file = join(dir, INDEX_FILE);
    copyFileSync(file, join(dir, "old-index.json"));

    const second = await openStore(dir, history.clock);
    expect(await view(second.store)).toEqual(firstView);
    await history.write(second.store, 2);
    const before = await view(second.store);
    const head = await second.store.headPosition();
    await closeStore(second.store);
    // The log is the truth: a full scan, without an index file, sees the same.
    rmSync(file);
    const scanned = await openStore(dir);
    expect(scanned.scanned).toBe(head + 1);
    expect(await view(scanned.store)).toEqual(before);
    await closeStore(scanned.store);
    // The process "crashed" after the appends: the index file is the one saved before them.
    copyFileSync(join(dir, "old-index.json"), file);

    const reopened = await openStore(dir);
    expect(reopened.scanned).toBe(head - savedAt);
    expect(await view(reopened.store)).toEqual(before);
    await expectSameBehaviour(reopened.store, history);
  });
});
