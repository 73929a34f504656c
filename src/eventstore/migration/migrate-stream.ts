import { SluiceError, invalid, isSluiceError } from "../../errors/index.js";
import type { EventData, EventStore, JsonValue, RecordedEvent } from "../event-store.js";
import { checkStreamName } from "../event-validation.js";

/** What a copied event came from, kept in its metadata as `$migratedFrom`. */
export interface MigratedFrom {
  readonly stream: string;
  readonly version: number;
  readonly id: string;
}

export interface MigrateStreamOptions {
  /** The stream to copy (read through the store, so upcasters have already run). */
  readonly from: string;
  /** The new stream; it must not exist, or hold only what an earlier run of this copy wrote. */
  readonly to: string;
  /**
   * Rewrites one event: return the events to store instead (none drops it). Default: the event
   * as read, with its current type, schema version, data and metadata.
   */
  readonly transform?: (event: RecordedEvent) => EventData | readonly EventData[] | null;
  /** Source events per target append (default 500). */
  readonly pageSize?: number;
  /**
   * Soft-delete the source once the copy reached its end, if nothing was appended to it since
   * (checked with its version); readers then move to `to`. Default false.
   */
  readonly deleteSource?: boolean;
  readonly onProgress?: (progress: MigrationProgress) => void;
  readonly signal?: AbortSignal;
}

export interface MigrationProgress {
  readonly from: string;
  readonly to: string;
  /** Last source version copied (or dropped by the transform); -1 before any. */
  readonly sourceVersion: number;
  /** Version of the target's last event; -1 while empty. */
  readonly targetVersion: number;
  /** Source events handled in this run. */
  readonly copied: number;
  readonly done: boolean;
}

/** How far a copy into a stream got, kept in that stream's metadata (`custom.$migration`). */
export interface MigrationCheckpoint {
  readonly from: string;
  readonly sourceVersion: number;
  readonly targetVersion: number;
  readonly done: boolean;
}

/** The checkpoint of the copy into `to`, or undefined before its first page. */
export async function migrationCheckpoint(
  store: EventStore,
  to: string,
): Promise<MigrationCheckpoint | undefined> {
  const metadata = await store.getStreamMetadata(to);
  return metadata.custom?.$migration as MigrationCheckpoint | undefined;
}

async function lastEvent(store: EventStore, stream: string): Promise<RecordedEvent | undefined> {
  try {
    const page = await store.readStream(stream, { direction: "backward", maxCount: 1 });
    return page.events[0];
  } catch (error) {
    if (isSluiceError(error, "SLUICE_NOT_FOUND")) return undefined;
    throw error;
  }
}

function migratedFrom(event: RecordedEvent): MigratedFrom | undefined {
  const value = event.metadata.$migratedFrom as unknown;
  if (typeof value !== "object" || value === null) return undefined;
  const { stream, version, id } = value as Partial<MigratedFrom>;
  if (typeof stream !== "string" || typeof version !== "number" || typeof id !== "string")
    return undefined;
  return { stream, version, id };
}

function checkOptions(options: MigrateStreamOptions): { pageSize: number } {
  checkStreamName(options.from, "from");
  checkStreamName(options.to, "to");
  if (options.to.startsWith("$"))
    throw invalid("to", "a stream name not starting with $", options.to);
  if (options.from === options.to) throw invalid("to", "a stream other than from", options.to);
  const pageSize = options.pageSize ?? 500;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 10_000)
    throw invalid("pageSize", "an integer from 1 to 10,000", options.pageSize);
  if (options.transform !== undefined && typeof options.transform !== "function")
    throw invalid("transform", "a function", options.transform);
  return { pageSize };
}

/**
 * Copy-and-replace: rewrites the events of `from` on purpose into the new stream `to`, page by
 * page, each page one atomic append with the target's exact expected version, each copied event
 * carrying `$migratedFrom` (source stream, version, id) in its metadata. After every page a
 * checkpoint in the target's metadata (`custom.$migration`) records how far the copy got. A run that crashed is resumed by
 * running it again: it starts after the later of the checkpoint and the target's last copied
 * event, so nothing is copied twice and nothing is left out. The source is never changed, unless
 * `deleteSource` soft-deletes it at the end.
 */
export async function migrateStream(
  store: EventStore,
  options: MigrateStreamOptions,
): Promise<MigrationProgress> {
  const { pageSize } = checkOptions(options);
  const { from, to } = options;
  const checkpoint = await migrationCheckpoint(store, to);
  const tail = await lastEvent(store, to);
  const tailOrigin = tail === undefined ? undefined : migratedFrom(tail);
  if (tail !== undefined && tailOrigin?.stream !== from)
    throw new SluiceError(
      "SLUICE_VALIDATION",
      `to: stream ${JSON.stringify(to)} already holds events that are not a copy of ${JSON.stringify(from)}`,
      { field: "to", details: { from, to } },
    );
  if (checkpoint !== undefined && checkpoint.from !== from)
    throw invalid(
      "from",
      `${JSON.stringify(checkpoint.from)}, the source of the copy into ${to}`,
      from,
    );
  const saved = checkpoint?.sourceVersion ?? -1;
  let sourceVersion = Math.max(saved, tailOrigin?.version ?? -1);
  let targetVersion = tail?.version ?? -1;
  let copied = 0;
  const progress = (done: boolean): MigrationProgress => ({
    from,
    to,
    sourceVersion,
    targetVersion,
    copied,
    done,
  });
  for (;;) {
    if (options.signal?.aborted === true)
      throw new SluiceError("SLUICE_ABORTED", "migration aborted", {
        cause: options.signal.reason,
      });
    let page;
    try {
      page = await store.readStream(from, {
        fromVersion: sourceVersion + 1,
        maxCount: pageSize,
      });
    } catch (error) {
      // A finished copy whose source was deleted: nothing left to do.
      const finished = checkpoint?.done === true;
      if (finished && copied === 0 && isSluiceError(error, "SLUICE_NOT_FOUND"))
        return progress(true);
      throw error;
    }
    const events = page.events.filter((e) => e.version > sourceVersion);
    if (events.length === 0) break;
    const out: EventData[] = [];
    for (const event of events) {
      const produced = options.transform === undefined ? asData(event) : options.transform(event);
      const list = produced === null ? [] : Array.isArray(produced) ? produced : [produced];
      for (const data of list as EventData[])
        out.push({
          ...data,
          metadata: {
            ...(data.metadata ?? {}),
            $migratedFrom: { stream: from, version: event.version, id: event.id },
          },
        });
    }
    if (out.length > 0) {
      const result = await store.appendToStream(to, out, {
        expectedVersion: targetVersion < 0 ? "no_stream" : targetVersion,
      });
      targetVersion = result.nextExpectedVersion;
    }
    sourceVersion = events[events.length - 1]!.version;
    copied += events.length;
    await writeCheckpoint(store, to, {
      from,
      sourceVersion,
      targetVersion,
      done: false,
    });
    options.onProgress?.(progress(false));
    if (page.nextVersion === undefined) break;
  }
  if (options.deleteSource === true) {
    // Refused (SLUICE_CONCURRENCY) when the source grew since: run again to copy the tail.
    await store.deleteStream(from, { expectedVersion: sourceVersion });
  }
  await writeCheckpoint(store, to, {
    from,
    sourceVersion,
    targetVersion,
    done: true,
  });
  const result = progress(true);
  options.onProgress?.(result);
  return result;
}

function asData(event: RecordedEvent): EventData {
  return {
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    schemaVersion: event.schemaVersion,
  };
}

async function writeCheckpoint(
  store: EventStore,
  to: string,
  checkpoint: MigrationCheckpoint,
): Promise<void> {
  const metadata = await store.getStreamMetadata(to);
  await store.setStreamMetadata(to, {
    ...metadata,
    custom: { ...(metadata.custom ?? {}), $migration: checkpoint as unknown as JsonValue },
  });
}
