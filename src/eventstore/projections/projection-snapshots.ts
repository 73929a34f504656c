import { invalid, isSluiceError } from "../../errors/index.js";
import type { EventStore, JsonValue } from "../event-store.js";
import { type AsOf } from "../aggregates/aggregate.js";
import { resolveAsOf } from "../aggregates/aggregate-stream.js";
import { MemoryReadModel } from "./memory-read-model.js";
import {
  BufferedTransaction,
  type Projection,
  type ReadModel,
  readModelName,
} from "./projection.js";

/** Documents per snapshot event: keeps each part far below the event size limit. */
const PART_DOCUMENTS = 500;

function snapshotStream(projection: Pick<Projection, "name" | "version">): string {
  return `$projection-${readModelName(projection)}`;
}

/**
 * Where each snapshot's checkpoint and parts are listed, one small event per snapshot, so a
 * load finds its snapshot without parsing the parts of newer ones. (`$projections-` cannot be
 * mistaken for a snapshot stream, whose prefix is `$projection-`.)
 */
function snapshotIndexStream(projection: Pick<Projection, "name" | "version">): string {
  return `$projections-index-${readModelName(projection)}`;
}

/** An entry of the snapshot index: the snapshot at `position` is versions `firstVersion`.. of the parts stream. */
interface SnapshotIndexEntry {
  readonly position: number;
  readonly firstVersion: number;
  readonly parts: number;
}

interface SnapshotPart {
  readonly position: number;
  readonly part: number;
  readonly parts: number;
  readonly entries: [string, JsonValue][];
}

/**
 * Saves the whole read model with its checkpoint into `$projection-<name>`, in parts appended
 * atomically, so a query as of a past time can start from the nearest snapshot.
 */
export async function saveProjectionSnapshot(
  store: EventStore,
  projection: Pick<Projection, "name" | "version">,
  readModel: ReadModel,
): Promise<number> {
  const position = await readModel.checkpoint();
  const entries = await readModel.entries();
  const parts = Math.max(1, Math.ceil(entries.length / PART_DOCUMENTS));
  const events = Array.from({ length: parts }, (_, part) => ({
    type: "ProjectionSnapshot",
    data: {
      position,
      part,
      parts,
      entries: entries.slice(part * PART_DOCUMENTS, (part + 1) * PART_DOCUMENTS),
    },
  }));
  const { nextExpectedVersion } = await store.appendToStream(snapshotStream(projection), events);
  // After the parts: a crash in between leaves a snapshot that is not listed, never a listed one
  // that is missing.
  const entry: SnapshotIndexEntry = {
    position,
    firstVersion: nextExpectedVersion - parts + 1,
    parts,
  };
  await store.appendToStream(snapshotIndexStream(projection), [
    { type: "ProjectionSnapshotIndex", data: { ...entry } },
  ]);
  return position;
}

/**
 * The newest listed snapshot at or before `maxPosition`: null when none is listed, undefined
 * when there is no index (snapshots saved before it existed are found by `loadSnapshot`; once
 * an index exists, those are left out, which only means a longer replay).
 */
async function loadIndexedSnapshot(
  store: EventStore,
  projection: Pick<Projection, "name" | "version">,
  maxPosition: number,
): Promise<{ position: number; entries: [string, JsonValue][] } | null | undefined> {
  let from: number | undefined;
  for (;;) {
    let page;
    try {
      page = await store.readStream(snapshotIndexStream(projection), {
        direction: "backward",
        maxCount: 1000,
        ...(from === undefined ? {} : { fromVersion: from }),
      });
    } catch (error) {
      if (isSluiceError(error, "SLUICE_NOT_FOUND") && from === undefined) return undefined;
      throw error;
    }
    for (const event of page.events) {
      const entry = event.data as unknown as SnapshotIndexEntry;
      if (entry.position > maxPosition) continue;
      const parts = await store.readStream(snapshotStream(projection), {
        fromVersion: entry.firstVersion,
        maxCount: entry.parts,
      });
      const found = parts.events.map((e) => e.data as unknown as SnapshotPart);
      const complete =
        found.length === entry.parts &&
        found.every((p, i) => p.position === entry.position && p.part === i);
      if (complete) return { position: entry.position, entries: found.flatMap((p) => p.entries) };
    }
    if (page.nextVersion === undefined) return null;
    from = page.nextVersion;
  }
}

/**
 * The newest complete snapshot at or before `maxPosition`, by reading the parts themselves
 * newest first (for snapshots saved before the index existed).
 */
async function loadSnapshot(
  store: EventStore,
  projection: Pick<Projection, "name" | "version">,
  maxPosition: number,
): Promise<{ position: number; entries: [string, JsonValue][] } | undefined> {
  let from: number | undefined;
  let collecting: SnapshotPart[] = [];
  for (;;) {
    let page;
    try {
      page = await store.readStream(snapshotStream(projection), {
        direction: "backward",
        maxCount: 200,
        ...(from === undefined ? {} : { fromVersion: from }),
      });
    } catch (error) {
      if (isSluiceError(error, "SLUICE_NOT_FOUND")) return undefined;
      throw error;
    }
    for (const event of page.events) {
      const part = event.data as unknown as SnapshotPart;
      if (part.position > maxPosition) continue;
      if (collecting.length > 0 && collecting[0]!.position !== part.position) collecting = [];
      collecting.unshift(part);
      if (part.part === 0 && collecting.length === part.parts)
        return { position: part.position, entries: collecting.flatMap((p) => p.entries) };
    }
    if (page.nextVersion === undefined) return undefined;
    from = page.nextVersion;
  }
}

export interface ProjectionAsOf {
  readonly readModel: MemoryReadModel;
  /** The position the state reflects. */
  readonly position: number;
  /** Where replay started from (the snapshot's position, or -1 from zero). */
  readonly fromSnapshot: number;
  readonly eventsReplayed: number;
}

/**
 * The state of a whole projection as of a past time or position: the nearest projection
 * snapshot at or before it, then the events after that snapshot up to the point.
 */
export async function projectionStateAsOf(
  store: EventStore,
  projection: Projection,
  asOf: Exclude<AsOf, { version: number }>,
): Promise<ProjectionAsOf> {
  if ("version" in (asOf as object)) throw invalid("asOf", "a time or a global position");
  const { maxPosition } = await resolveAsOf(store, asOf);
  const target = maxPosition!;
  const indexed = await loadIndexedSnapshot(store, projection, target);
  const snapshot =
    indexed === undefined ? await loadSnapshot(store, projection, target) : (indexed ?? undefined);
  const readModel = new MemoryReadModel();
  if (snapshot !== undefined) await readModel.commit(new Map(snapshot.entries), snapshot.position);
  let next = (snapshot?.position ?? -1) + 1;
  let replayed = 0;
  while (next <= target) {
    const page = await store.readAll({
      fromPosition: next,
      maxCount: 10_000,
      ...(projection.filter === undefined ? {} : { filter: projection.filter }),
    });
    const tx = new BufferedTransaction((key) => readModel.get(key));
    let done = false;
    for (const event of page.events) {
      if (event.position > target) {
        done = true;
        break;
      }
      await projection.apply(event, tx);
      replayed++;
    }
    await readModel.commit(tx.writes, target);
    if (done || page.nextPosition === undefined) break;
    next = page.nextPosition;
  }
  return {
    readModel,
    position: target,
    fromSnapshot: snapshot?.position ?? -1,
    eventsReplayed: replayed,
  };
}
