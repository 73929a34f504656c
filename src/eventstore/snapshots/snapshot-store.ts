import { invalid, isSluiceError } from "../../errors/index.js";
import type { EventStore, JsonValue } from "../event-store.js";

/** A saved aggregate state: what the stream looked like at `version`. */
export interface Snapshot {
  readonly stream: string;
  readonly version: number;
  readonly position: number;
  /** Timestamp of the event at `version`. */
  readonly timestamp: number;
  /** The shape version of `state` (the aggregate's `stateVersion`). */
  readonly stateVersion: number;
  readonly state: JsonValue;
}

/** Bounds for loading: the newest snapshot at or before all of them, of this state version. */
export interface SnapshotQuery {
  readonly stateVersion: number;
  readonly maxVersion?: number;
  readonly maxPosition?: number;
}

/** Where snapshots are kept. */
export interface SnapshotStore {
  save(snapshot: Snapshot): Promise<void>;
  /** The newest usable snapshot; snapshots of another state version are skipped. */
  load(stream: string, query: SnapshotQuery): Promise<Snapshot | undefined>;
}

/** When to take a snapshot after an append. */
export interface SnapshotPolicy {
  /** After this many events since the last snapshot. */
  readonly everyEvents?: number;
  /** When the last snapshot is older than this (by event timestamps). */
  readonly everyMs?: number;
}

/** Whether `policy` asks for a snapshot at `version`/`timestamp` given the last one. */
export function snapshotDue(
  policy: SnapshotPolicy,
  last: { readonly version: number; readonly timestamp: number } | undefined,
  version: number,
  timestamp: number,
): boolean {
  const lastVersion = last?.version ?? -1;
  if (version <= lastVersion) return false;
  if (policy.everyEvents !== undefined && version - lastVersion >= policy.everyEvents) return true;
  if (
    policy.everyMs !== undefined &&
    last !== undefined &&
    timestamp - last.timestamp >= policy.everyMs
  )
    return true;
  if (policy.everyMs !== undefined && last === undefined) return true;
  return false;
}

function usable(snapshot: Snapshot, query: SnapshotQuery): boolean {
  return (
    snapshot.stateVersion === query.stateVersion &&
    snapshot.version <= (query.maxVersion ?? Infinity) &&
    snapshot.position <= (query.maxPosition ?? Infinity)
  );
}

/** Snapshots in memory (tests, caches). */
export class MemorySnapshotStore implements SnapshotStore {
  private readonly byStream = new Map<string, Snapshot[]>();

  save(snapshot: Snapshot): Promise<void> {
    const list = this.byStream.get(snapshot.stream) ?? [];
    list.push(snapshot);
    list.sort((a, b) => a.version - b.version);
    this.byStream.set(snapshot.stream, list);
    return Promise.resolve();
  }

  load(stream: string, query: SnapshotQuery): Promise<Snapshot | undefined> {
    const list = this.byStream.get(stream) ?? [];
    for (let i = list.length - 1; i >= 0; i--)
      if (usable(list[i]!, query)) return Promise.resolve(list[i]);
    return Promise.resolve(undefined);
  }
}

/**
 * Snapshots kept in the event store itself, in the system stream `$snapshot-<stream>`, so they
 * live (and are backed up) with the events on either backend. Older snapshots stay, which is
 * what lets a load as of a past time start from the nearest one.
 */
export class EventStoreSnapshotStore implements SnapshotStore {
  constructor(private readonly store: EventStore) {}

  private static streamOf(stream: string): string {
    return `$snapshot-${stream}`;
  }

  async save(snapshot: Snapshot): Promise<void> {
    if (!Number.isSafeInteger(snapshot.version) || snapshot.version < 0)
      throw invalid("snapshot.version", "an integer >= 0", snapshot.version);
    await this.store.appendToStream(EventStoreSnapshotStore.streamOf(snapshot.stream), [
      {
        type: "Snapshot",
        data: {
          version: snapshot.version,
          position: snapshot.position,
          timestamp: snapshot.timestamp,
          stateVersion: snapshot.stateVersion,
          state: snapshot.state,
        },
      },
    ]);
  }

  async load(stream: string, query: SnapshotQuery): Promise<Snapshot | undefined> {
    let from: number | undefined;
    for (;;) {
      let page;
      try {
        page = await this.store.readStream(EventStoreSnapshotStore.streamOf(stream), {
          direction: "backward",
          maxCount: 100,
          ...(from === undefined ? {} : { fromVersion: from }),
        });
      } catch (error) {
        if (isSluiceError(error, "SLUICE_NOT_FOUND")) return undefined;
        throw error;
      }
      for (const event of page.events) {
        const data = event.data as Omit<Snapshot, "stream">;
        const snapshot: Snapshot = { stream, ...data };
        if (usable(snapshot, query)) return snapshot;
      }
      if (page.nextVersion === undefined) return undefined;
      from = page.nextVersion;
    }
  }
}
