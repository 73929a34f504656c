import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { WarmWorker } from "../engine/test-support/warm-worker.js";
import { EmbeddedEventStore } from "./embedded-event-store.js";
import { EmbeddedReadModel } from "./projections/embedded-read-model.js";
import { perStream } from "./test-support/per-stream-projection.js";

const writerScript = fileURLToPath(new URL("./test-support/crash-writer.ts", import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Ack {
  readonly stream: string;
  readonly firstVersion: number;
  readonly count: number;
  readonly position: number;
  readonly idPrefix: string;
}

/**
 * With an inline projection (appends one at a time), without (appends grouped per turn), or
 * without but with an async projection following the appends.
 */
type Mode = "inline" | "grouped" | "async";

/** Spawns a writer that loads its modules and then waits to be told to start. */
function spawnWriter(dir: string, round: number, mode: Mode): WarmWorker {
  return new WarmWorker(writerScript, [dir, String(round), mode]);
}

/** Starts a warmed writer, lets it acknowledge something, SIGKILLs it after `killAfterMs`. */
async function writeUntilKilled(writer: WarmWorker, killAfterMs: number): Promise<Ack[]> {
  await writer.start();
  await writer.waitFor(() => writer.output.includes("ack "), "early");
  await Promise.race([sleep(killAfterMs), writer.closed]);
  if (writer.hasEnded) throw new Error(`writer exited before it was killed: ${writer.errors}`);
  await writer.kill();
  // Only complete lines count: a line cut by the kill was never fully reported.
  return writer.output
    .split("\n")
    .slice(0, -1)
    .filter((line) => line.startsWith("ack "))
    .map((line) => {
      const [, stream, first, count, position, idPrefix] = line.split(" ");
      return {
        stream: stream!,
        firstVersion: Number(first),
        count: Number(count),
        position: Number(position),
        idPrefix: idPrefix!,
      };
    });
}

/**
 * `rounds` writers, each SIGKILLed with appends in flight; after each, every acknowledged append
 * is read back whole, every stream has versions 0..n without gaps or duplicates, and with
 * `inline` the projection counts exactly the events in the log.
 */
async function crashRounds(mode: Mode, rounds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-es-crash-"));
  dirs.push(dir);
  const acked: Ack[] = [];
  const warm: WarmWorker[] = [0, 1, 2].map((round) => spawnWriter(dir, round, mode));
  try {
    for (let round = 0; round < rounds; round++) {
      const writer = warm.shift()!;
      if (round + warm.length + 1 < rounds)
        warm.push(spawnWriter(dir, round + warm.length + 1, mode));
      const acks = await writeUntilKilled(writer, 20 + ((round * 37) % 120));
      acked.push(...acks);
      const readModel =
        mode === "inline" ? await EmbeddedReadModel.open(join(dir, "read-model")) : undefined;
      const store = await EmbeddedEventStore.open(join(dir, "store"), {
        inline: readModel === undefined ? [] : [{ projection: perStream, readModel }],
      });
      try {
        for (const ack of round === rounds - 1 ? acked : acks) {
          const page = await store.readStream(ack.stream, {
            fromVersion: ack.firstVersion,
            maxCount: ack.count,
          });
          expect(page.events.map((e) => e.id)).toEqual(
            Array.from({ length: ack.count }, (_, i) => `${ack.idPrefix}-${i}`),
          );
          expect(page.events[ack.count - 1]!.position).toBe(ack.position);
        }
        const streams = await store.listStreams();
        let total = 0;
        const ids = new Set<string>();
        for (const { stream, version } of streams) {
          const events = (await store.readStream(stream, { maxCount: 10_000 })).events;
          expect(events.map((e) => e.version)).toEqual(
            Array.from({ length: version + 1 }, (_, i) => i),
          );
          for (const e of events) ids.add(e.id);
          total += events.length;
          if (readModel !== undefined) expect(await readModel.get(stream)).toBe(events.length);
        }
        expect(ids.size).toBe(total);
        let inAll = 0;
        for (let from: number | undefined = 0; from !== undefined;) {
          const page = await store.readAll({ fromPosition: from, maxCount: 10_000 });
          inAll += page.events.length;
          from = page.nextPosition;
        }
        expect(inAll).toBe(total);
        if (mode === "async") await checkAsyncModel(dir, store);
        if (readModel !== undefined)
          expect(await readModel.checkpoint()).toBe(await store.headPosition());
      } finally {
        await store.close();
      }
    }
  } finally {
    for (const writer of warm) writer.child.kill("SIGKILL");
  }
  expect(acked.length).toBeGreaterThan(rounds);
}

/**
 * The async projection's read model holds, for each stream, exactly the number of its events
 * at or before the model's checkpoint: each committed batch's effects once, none of a batch
 * the kill cut before its commit.
 */
async function checkAsyncModel(dir: string, store: EmbeddedEventStore): Promise<void> {
  const model = await EmbeddedReadModel.open(join(dir, "async-model"));
  try {
    const checkpoint = await model.checkpoint();
    expect(checkpoint).toBeLessThanOrEqual(await store.headPosition());
    const expected = new Map<string, number>();
    for (let from: number | undefined = 0; from !== undefined && from <= checkpoint;) {
      const page = await store.readAll({ fromPosition: from, maxCount: 10_000 });
      for (const e of page.events)
        if (e.position <= checkpoint) expected.set(e.stream, (expected.get(e.stream) ?? 0) + 1);
      from = page.nextPosition;
    }
    const documents = new Map(await model.entries());
    expect(documents).toEqual(expected);
  } finally {
    await model.close();
  }
}

describe("embedded event store under SIGKILL", () => {
  it("loses no acknowledged event, has no gaps or duplicates, and keeps inline projections consistent (20 rounds)", async () => {
    await crashRounds("inline", 20);
  });

  it("with appends grouped into shared engine batches: no acknowledged event lost, no gaps or duplicates (12 rounds)", async () => {
    await crashRounds("grouped", 12);
  });

  it("keeps an async projection's read model at its checkpoint, each batch's effects once (12 rounds)", async () => {
    await crashRounds("async", 12);
  });
});
