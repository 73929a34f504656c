import { invalid, isSluiceError } from "../../errors/index.js";
import { StreamDeletedError } from "../event-store-error.js";
import type { EventStore, JsonValue, RecordedEvent, StreamChange } from "../event-store.js";
import type { Snapshot, SnapshotStore } from "../snapshots/snapshot-store.js";
import { type PastPoint, hidesAny, readableAt, stateAt } from "../stream-history.js";
import type { Aggregate, AggregateState, AsOf } from "./aggregate.js";

export interface AggregateStreamOptions {
  /** Load the state as it was at this point instead of now. */
  readonly asOf?: AsOf;
  /** Start from the newest usable snapshot instead of from the first event. */
  readonly snapshots?: SnapshotStore;
}

const PAGE = 1000;
/**
 * First page of a load bounded by a position (as of a time): what lies past the bound is read
 * for nothing, and after a snapshot the events to replay are usually few. Pages grow from here.
 */
const FIRST_BOUNDED_PAGE = 32;

/**
 * Folds a stream into its state, now or as of a past time, position or version: from the
 * newest snapshot at or before that point when there is one, then the events after it.
 * A missing stream yields the initial state at version -1.
 *
 * Now, the state folds what `readStream` returns. As of a past point, it folds what a read
 * returned then: the stream's history up to that point (see `history` reads), with the stream
 * metadata and deletes as they stood at that point, not as they stand now. A stream
 * tombstoned by then is `StreamDeletedError`, as a read then would have been.
 */
export async function aggregateStream<State, Command>(
  store: EventStore,
  stream: string,
  aggregate: Aggregate<State, Command>,
  options: AggregateStreamOptions = {},
): Promise<AggregateState<State>> {
  const stateVersion = aggregate.stateVersion ?? 1;
  if (options.asOf === undefined) {
    const snapshot = await options.snapshots?.load(stream, { stateVersion });
    const fold = new Fold(aggregate, snapshot);
    for (let from: number | undefined = fold.version + 1; from !== undefined;) {
      let page;
      try {
        page = await store.readStream(stream, { fromVersion: from, maxCount: PAGE });
      } catch (error) {
        if (isSluiceError(error, "SLUICE_NOT_FOUND")) break;
        throw error;
      }
      for (const event of page.events) fold.add(event);
      from = page.nextVersion;
    }
    return fold.result();
  }
  return aggregateAsOf(store, stream, aggregate, options.asOf, options.snapshots);
}

async function aggregateAsOf<State, Command>(
  store: EventStore,
  stream: string,
  aggregate: Aggregate<State, Command>,
  asOf: AsOf,
  snapshots: SnapshotStore | undefined,
): Promise<AggregateState<State>> {
  const bound = await resolveAsOf(store, asOf);
  const snapshot = await snapshots?.load(stream, {
    stateVersion: aggregate.stateVersion ?? 1,
    ...(bound.maxVersion === undefined ? {} : { maxVersion: bound.maxVersion }),
    ...(bound.maxPosition === undefined ? {} : { maxPosition: bound.maxPosition }),
  });
  const history = await historyUpTo(store, stream, (snapshot?.version ?? -1) + 1, bound);
  const fold = new Fold(aggregate, snapshot);
  if (history === undefined) return fold.result();
  const { events, changes } = history;
  const lastEvent = events[events.length - 1];
  const point: PastPoint = {
    position: bound.maxPosition ?? lastEvent?.position ?? snapshot?.position ?? -1,
    ...("time" in asOf ? { time: asOf.time } : {}),
  };
  const past = stateAt(changes, point);
  if (past.hardDeleted) throw new StreamDeletedError(stream);
  // A snapshot folds every version up to its own; if reads then hid some, fold without it.
  if (snapshot !== undefined && hidesAny(past))
    return aggregateAsOf(store, stream, aggregate, asOf, undefined);
  const now = "time" in asOf ? asOf.time : (lastEvent?.timestamp ?? Number.POSITIVE_INFINITY);
  const last = lastEvent?.version ?? snapshot?.version ?? -1;
  for (const event of readableAt(events, last, past, now)) fold.add(event);
  return fold.result();
}

/**
 * The stream's events from version `from` up to the bound, as appended, and its changes
 * (history reads); undefined for a stream that never had events.
 */
async function historyUpTo(
  store: EventStore,
  stream: string,
  from: number,
  bound: Bound,
): Promise<{ events: RecordedEvent[]; changes: readonly StreamChange[] } | undefined> {
  const events: RecordedEvent[] = [];
  let changes: readonly StreamChange[] = [];
  let pageSize = bound.maxPosition === undefined ? PAGE : FIRST_BOUNDED_PAGE;
  for (let next: number | undefined = from; next !== undefined;) {
    if (bound.maxVersion !== undefined && next > bound.maxVersion) break;
    const maxCount =
      bound.maxVersion === undefined ? pageSize : Math.min(pageSize, bound.maxVersion - next + 1);
    pageSize = Math.min(PAGE, pageSize * 4);
    let page;
    try {
      page = await store.readStream(stream, { fromVersion: next, maxCount, history: true });
    } catch (error) {
      if (isSluiceError(error, "SLUICE_NOT_FOUND")) return undefined;
      throw error;
    }
    changes = page.changes ?? [];
    next = page.nextVersion;
    for (const event of page.events) {
      if (bound.maxPosition !== undefined && event.position > bound.maxPosition) {
        next = undefined;
        break;
      }
      events.push(event);
    }
  }
  return { events, changes };
}

/** A state being folded, from a snapshot or the initial state. */
class Fold<State> {
  state: State;
  version: number;
  private position: number;
  private eventsRead = 0;
  private readonly fromSnapshot: number | undefined;

  constructor(
    private readonly aggregate: Aggregate<State, unknown>,
    snapshot: Snapshot | undefined,
  ) {
    this.state = snapshot === undefined ? aggregate.initialState() : (snapshot.state as State);
    this.version = snapshot?.version ?? -1;
    this.position = snapshot?.position ?? -1;
    this.fromSnapshot = snapshot?.version;
  }

  add(event: RecordedEvent): void {
    this.state = this.aggregate.evolve(this.state, event);
    this.version = event.version;
    this.position = event.position;
    this.eventsRead++;
  }

  result(): AggregateState<State> {
    return {
      state: this.state,
      version: this.version,
      position: this.position,
      eventsRead: this.eventsRead,
      fromSnapshot: this.fromSnapshot,
    };
  }
}

interface Bound {
  readonly maxVersion?: number;
  readonly maxPosition?: number;
}

/** Turns an AsOf into inclusive bounds on version and position. */
export async function resolveAsOf(store: EventStore, asOf: AsOf | undefined): Promise<Bound> {
  if (asOf === undefined) return {};
  if ("version" in asOf) {
    if (!Number.isSafeInteger(asOf.version) || asOf.version < -1)
      throw invalid("asOf.version", "an integer >= -1", asOf.version);
    return { maxVersion: asOf.version };
  }
  if ("position" in asOf) {
    if (!Number.isSafeInteger(asOf.position) || asOf.position < -1)
      throw invalid("asOf.position", "an integer >= -1", asOf.position);
    return { maxPosition: asOf.position };
  }
  if (!Number.isFinite(asOf.time)) throw invalid("asOf.time", "a time in ms", asOf.time);
  return { maxPosition: await store.positionAt(asOf.time) };
}

/** The state as JSON, for snapshots (states must be JSON-serializable to be snapshotted). */
export function stateAsJson(state: unknown): JsonValue {
  return JSON.parse(JSON.stringify(state)) as JsonValue;
}
