import { SluiceError } from "../../errors/index.js";
import type { EventFilter, RecordedEvent } from "../event-store.js";

/** What a consumer asks for an event it could not handle. */
export type NackAction = "retry" | "park" | "skip";

/** A persistent subscription group as created: what it reads and how it retries. */
export interface PersistentSubscriptionSettings {
  /** The group's name, unique per store (and per source: one name, one group). */
  readonly group: string;
  /** A stream name, or omit for `$all`. */
  readonly stream?: string;
  /**
   * Start after this point, exclusive: a version for a stream, a global position for `$all`;
   * "end" for events appended after the group is created. Omit to start at the beginning.
   */
  readonly startAfter?: number | "end";
  /** Only these events (`$all` only). */
  readonly filter?: EventFilter;
  /** Deliveries of one event before it is parked (default 10). */
  readonly maxRetryCount?: number;
  /** An event not acknowledged this long after delivery is retried (default 30,000 ms). */
  readonly messageTimeoutMs?: number;
  /** Events read ahead of the consumers (default 500). */
  readonly bufferSize?: number;
}

/** The settings with every default filled in, as stored. */
export interface GroupSettings {
  readonly group: string;
  readonly stream: string | null;
  readonly filter: EventFilter | null;
  readonly maxRetryCount: number;
  readonly messageTimeoutMs: number;
  readonly bufferSize: number;
}

/**
 * The durable state of a group. `checkpoint` is the sequence number (version for a stream,
 * position for `$all`) up to which every event is settled (acked, skipped or parked); `settled`
 * holds the sequence numbers above it settled out of order, so a restart delivers none of them
 * again; `retries` counts deliveries of unsettled events.
 */
export interface GroupState {
  readonly checkpoint: number;
  readonly settled: readonly number[];
  readonly retries: Readonly<Record<string, number>>;
}

export interface GroupRecord extends GroupState {
  readonly settings: GroupSettings;
}

/** An event a group gave up on (or a consumer parked), kept until replayed and settled. */
export interface ParkedEvent {
  readonly group: string;
  readonly event: RecordedEvent;
  readonly reason: string;
  /** Deliveries before it was parked. */
  readonly retryCount: number;
  readonly parkedAt: number;
  /** True once `replayParked` handed it back to the consumers, until they settle it. */
  readonly replaying: boolean;
}

/** One durable commit of a group: its whole state plus parked entries added and removed. */
export interface GroupCommit {
  readonly state: GroupState;
  readonly park: readonly ParkedEvent[];
  /** Sequence numbers of parked events to forget. */
  readonly unpark: readonly number[];
}

/**
 * Where groups keep their settings, checkpoints and parked events: one implementation per
 * backend (a key-value read model embedded, tables on PostgreSQL). `commit` is atomic.
 */
export interface PersistentSubscriptionStateStore {
  /** Creates a group; SLUICE_ALREADY_EXISTS when the name is taken. */
  create(settings: GroupSettings, checkpoint: number): Promise<void>;
  /** Deletes a group and its parked events; SLUICE_NOT_FOUND when there is none. */
  delete(group: string): Promise<void>;
  load(group: string): Promise<GroupRecord | undefined>;
  list(): Promise<GroupRecord[]>;
  commit(group: string, commit: GroupCommit): Promise<void>;
  /** Parked events of a group, by sequence number. */
  listParked(group: string): Promise<ParkedEvent[]>;
  /** Marks every parked event of the group as replaying; returns them. */
  markReplaying(group: string): Promise<ParkedEvent[]>;
  close(): Promise<void>;
}

/** An event handed to one consumer of a group; settle it with `ack` or `nack`. */
export interface PersistentDelivery {
  readonly event: RecordedEvent;
  /** Earlier deliveries of this event that were not acknowledged (0 on the first). */
  readonly retryCount: number;
  /** True when the event comes back from the parked events. */
  readonly replayed: boolean;
  /** Done with the event; resolves once the group's state holds it durably. */
  ack(): Promise<void>;
  /** Not done: retry it later, park it, or skip it; resolves once durable. */
  nack(action: NackAction, reason?: string): Promise<void>;
}

export interface ConnectOptions {
  readonly signal?: AbortSignal;
  /** Deliveries this consumer holds unsettled at most (default 10). */
  readonly maxInFlight?: number;
}

/** A group as listed: settings, checkpoint, how many are parked and connected. */
export interface PersistentSubscriptionInfo {
  readonly settings: GroupSettings;
  readonly checkpoint: number;
  readonly parked: number;
  readonly consumers: number;
}

/**
 * Persistent subscription groups of a store, as every backend offers them (embedded and
 * PostgreSQL in process, the remote client over a server).
 */
export interface PersistentSubscriptionGroups {
  /** Creates a group; its checkpoint starts after `startAfter` (the beginning by default). */
  create(settings: PersistentSubscriptionSettings): Promise<GroupSettings>;
  /** Deletes a group, its checkpoint and its parked events; its consumers stop. */
  delete(group: string): Promise<void>;
  /** Every group with its checkpoint, parked count and connected consumers. */
  list(): Promise<PersistentSubscriptionInfo[]>;
  /** Connects a consumer: it receives its share of the group's events until `signal` aborts. */
  connect(group: string, options?: ConnectOptions): AsyncIterable<PersistentDelivery>;
  /** The group's parked events, oldest first by sequence number. */
  listParked(group: string): Promise<ParkedEvent[]>;
  /** Hands every parked event back to the group's consumers; returns how many. */
  replayParked(group: string): Promise<number>;
}

/** The error for a persistent subscription group that does not exist (every backend's). */
export function groupNotFound(group: string): SluiceError {
  return new SluiceError("SLUICE_NOT_FOUND", `persistent subscription ${group} does not exist`, {
    field: "group",
    details: { group },
  });
}
