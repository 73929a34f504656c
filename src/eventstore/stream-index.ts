import type { StreamMetadata } from "./event-store.js";

/** What the store knows about one stream without reading its events. */
export interface StreamState {
  readonly name: string;
  /** Global position of each version: `positions[v]` holds version v. */
  readonly positions: number[];
  metadata: StreamMetadata;
  /** Versions below this were soft-deleted and stay unreadable when the stream is reopened. */
  deletedBefore: number;
  softDeleted: boolean;
  hardDeleted: boolean;
}

/** The newest version of a stream, -1 when it has none. */
export function lastVersion(state: StreamState | undefined): number {
  return state === undefined ? -1 : state.positions.length - 1;
}

/** Whether the stream counts as existing for expected-version checks. */
export function streamExists(state: StreamState | undefined): boolean {
  return state !== undefined && state.positions.length > 0 && !state.softDeleted;
}

/** The metadata stream of `stream` (where its metadata and deletes are recorded). */
export function metadataStreamOf(stream: string): string {
  return `$$${stream}`;
}

/** A persisted copy of the index up to `position`, so open only scans what came after. */
export interface StreamIndexCheckpoint {
  readonly format: 1;
  /** Last global position the checkpoint covers. */
  readonly position: number;
  readonly lastTimestamp: number;
  readonly streams: readonly {
    readonly name: string;
    readonly positions: readonly number[];
    readonly metadata: StreamMetadata;
    readonly deletedBefore: number;
    readonly softDeleted: boolean;
    readonly hardDeleted: boolean;
  }[];
  /** Caller-chosen event ids and their global positions (idempotent retries). */
  readonly ids: readonly (readonly [string, number])[];
}

/** The in-memory per-stream index of the embedded store, rebuilt from the log on open. */
export class StreamIndex {
  readonly streams = new Map<string, StreamState>();
  /** Caller-chosen event id -> global position. */
  readonly ids = new Map<string, number>();

  /** The state of `stream`, created empty when missing. */
  ensure(stream: string): StreamState {
    let state = this.streams.get(stream);
    if (state === undefined) {
      state = {
        name: stream,
        positions: [],
        metadata: {},
        deletedBefore: 0,
        softDeleted: false,
        hardDeleted: false,
      };
      this.streams.set(stream, state);
    }
    return state;
  }

  toCheckpoint(position: number, lastTimestamp: number): StreamIndexCheckpoint {
    return {
      format: 1,
      position,
      lastTimestamp,
      streams: [...this.streams.values()].map((s) => ({
        name: s.name,
        positions: s.positions,
        metadata: s.metadata,
        deletedBefore: s.deletedBefore,
        softDeleted: s.softDeleted,
        hardDeleted: s.hardDeleted,
      })),
      ids: [...this.ids],
    };
  }

  /** Loads a checkpoint; returns false (leaving the index empty) when it is not usable. */
  load(checkpoint: unknown): checkpoint is StreamIndexCheckpoint {
    if (typeof checkpoint !== "object" || checkpoint === null) return false;
    const c = checkpoint as Partial<StreamIndexCheckpoint>;
    if (
      c.format !== 1 ||
      c.streams === undefined ||
      c.ids === undefined ||
      typeof c.lastTimestamp !== "number"
    )
      return false;
    for (const s of c.streams)
      this.streams.set(s.name, {
        name: s.name,
        positions: [...s.positions],
        metadata: s.metadata,
        deletedBefore: s.deletedBefore,
        softDeleted: s.softDeleted,
        hardDeleted: s.hardDeleted,
      });
    for (const [id, position] of c.ids) this.ids.set(id, position);
    return true;
  }
}

/** The first version a reader may see: after truncation, soft delete and `maxCount`. */
export function firstReadableVersion(
  last: number,
  deletedBefore: number,
  metadata: StreamMetadata,
): number {
  let first = Math.max(0, deletedBefore, metadata.truncateBefore ?? 0);
  if (metadata.maxCount !== undefined) first = Math.max(first, last + 1 - metadata.maxCount);
  return first;
}

/** Whether `maxAgeMs` hides an event appended at `timestamp`. */
export function expired(timestamp: number, metadata: StreamMetadata, now: number): boolean {
  return metadata.maxAgeMs !== undefined && timestamp < now - metadata.maxAgeMs;
}
