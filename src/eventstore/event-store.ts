import type { PersistentSubscriptionGroups } from "./persistent/persistent-subscription.js";

/** A JSON value, as events, metadata and read models hold them. */
export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Metadata of an event: who did it, why, correlation ids. Free-form JSON object. */
export type EventMetadata = Readonly<Record<string, JsonValue>>;

/** An event as a caller hands it to `appendToStream`. */
export interface EventData {
  /** Unique id; a retried append with the same ids is stored once. Defaults to a random UUID. */
  readonly id?: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata?: EventMetadata;
  /** Schema version of `data` (default 1); upcasters lift old versions on read. */
  readonly schemaVersion?: number;
}

/** An event as stored, with the place and time the store gave it. */
export interface RecordedEvent {
  readonly id: string;
  readonly stream: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: JsonValue;
  readonly metadata: EventMetadata;
  /** Position in its stream, from 0. */
  readonly version: number;
  /** Position in `$all`; increases in commit order. */
  readonly position: number;
  /** When the store appended it, ms since the epoch. */
  readonly timestamp: number;
}

/**
 * What the caller expects of the stream before an append: any state, no stream yet, an existing
 * stream, or an exact version (the version of its last event).
 */
export type ExpectedVersion = "any" | "no_stream" | "stream_exists" | number;

export interface AppendOptions {
  readonly expectedVersion?: ExpectedVersion;
}

export interface AppendResult {
  /** The version of the last event appended: pass it as the next `expectedVersion`. */
  readonly nextExpectedVersion: number;
  /** Global position of the last event appended. */
  readonly position: number;
}

export type Direction = "forward" | "backward";

export interface ReadStreamOptions {
  readonly direction?: Direction;
  /** First version to read (inclusive). Default: the start (forward) or the end (backward). */
  readonly fromVersion?: number;
  /** At most this many events (default 1,000, at most 10,000). */
  readonly maxCount?: number;
  /**
   * Read the stream as it was appended (forward only): events that its metadata (`maxAgeMs`,
   * `maxCount`, `truncateBefore`) or a delete hide from reads now are returned too, and the
   * result lists the stream's metadata changes and deletes (`changes`), so that a reader can
   * work out what a read returned at any past point. Time travel reads this way.
   */
  readonly history?: boolean;
}

export interface ReadStreamResult {
  readonly events: RecordedEvent[];
  /** Version of the stream's last event; -1 for a stream with no events. */
  readonly streamVersion: number;
  /** Where the next page starts, or undefined when this page reached the end. */
  readonly nextVersion: number | undefined;
  /** With `history`: the stream's metadata changes and deletes, oldest first. */
  readonly changes?: readonly StreamChange[];
}

/** A change to what reads of a stream return: new metadata, or a delete. */
export interface StreamChange {
  /** Every event at or below this global position was appended before the change, none after. */
  readonly position: number;
  /** When the change was made (ms, the store's clock). */
  readonly time: number;
  /** The metadata set (it replaces the earlier metadata). */
  readonly metadata?: StreamMetadata;
  /** A delete: the versions below this one were deleted. */
  readonly deletedBefore?: number;
  /** A delete that left a tombstone. */
  readonly hard?: boolean;
}

/** Narrows reads and subscriptions of `$all`. */
export interface EventFilter {
  /** Only streams whose name starts with one of these. */
  readonly streamPrefixes?: readonly string[];
  /** Only events of these types. */
  readonly types?: readonly string[];
}

export interface ReadAllOptions {
  readonly direction?: Direction;
  /** First global position to look at (inclusive). Default: the start (forward) or the end. */
  readonly fromPosition?: number;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
  /** Also return system events (streams beginning with `$`). Default false. */
  readonly includeSystem?: boolean;
}

export interface ReadAllResult {
  readonly events: RecordedEvent[];
  /** Where the next page starts, or undefined at the end of `$all`. */
  readonly nextPosition: number | undefined;
}

/** Stream metadata that limits what can be read (as in EventStoreDB). */
export interface StreamMetadata {
  /** Events older than this many ms are no longer readable. */
  readonly maxAgeMs?: number;
  /** Only the newest this many events are readable. */
  readonly maxCount?: number;
  /** Events with versions below this are no longer readable. */
  readonly truncateBefore?: number;
  /** Anything else the application wants to keep with the stream. */
  readonly custom?: Readonly<Record<string, JsonValue>>;
}

export interface DeleteStreamOptions {
  readonly expectedVersion?: ExpectedVersion;
  /** Tombstone: the stream can never be written again. Default false (soft delete). */
  readonly hard?: boolean;
}

/** A stream as listed by `listStreams`. */
export interface StreamInfo {
  readonly stream: string;
  readonly version: number;
  readonly deleted: "no" | "soft" | "hard";
}

export interface SubscribeOptions {
  /** A stream name, or omit for `$all`. */
  readonly stream?: string;
  /**
   * Start after this point: a version for a stream, a global position for `$all` (exclusive).
   * Omit to start from the beginning; "end" for live events only.
   */
  readonly after?: number | "end";
  readonly filter?: EventFilter;
  readonly signal?: AbortSignal;
}

/**
 * The event store every backend implements. Streams are append-only sequences with optimistic
 * concurrency; `$all` is every event in commit order.
 */
export interface EventStore {
  /** Appends `events` atomically (all or none) if the stream is as `expectedVersion` says. */
  appendToStream(
    stream: string,
    events: readonly EventData[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Reads a page of one stream; resume with `nextVersion`. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  /** Reads a page of `$all`; resume with `nextPosition`. */
  readAll(options?: ReadAllOptions): Promise<ReadAllResult>;
  /** Catch-up then live: every matching event once, in order, until the signal aborts. */
  subscribe(options?: SubscribeOptions): AsyncIterable<RecordedEvent>;
  getStreamMetadata(stream: string): Promise<StreamMetadata>;
  setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void>;
  /** Soft delete (reappending reopens it, versions continue) or hard delete (tombstone). */
  deleteStream(stream: string, options?: DeleteStreamOptions): Promise<void>;
  /** Every stream (system streams too when asked), in order of creation. */
  listStreams(options?: { readonly includeSystem?: boolean }): Promise<StreamInfo[]>;
  /** The last global position with a timestamp at or before `timestampMs`, or -1. */
  positionAt(timestampMs: number): Promise<number>;
  /** The global position of the newest event, or -1 when empty. */
  headPosition(): Promise<number>;
  /** Resolves once the head may be past `position`, or the store closes, or `signal` aborts. */
  waitForAppend(position: number, signal?: AbortSignal): Promise<void>;
  /** Persistent subscription groups (competing consumers) over this store. */
  persistentSubscriptions(): PersistentSubscriptionGroups;
  /** True once `close` was called. */
  readonly isClosed: boolean;
  close(): Promise<void>;
}
