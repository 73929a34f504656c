import { invalid, isSluiceError } from "../../errors/index.js";
import type { EventStore, JsonValue } from "../event-store.js";
import type { SnapshotStore } from "../snapshots/snapshot-store.js";
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
 */
export async function aggregateStream<State, Command>(
  store: EventStore,
  stream: string,
  aggregate: Aggregate<State, Command>,
  options: AggregateStreamOptions = {},
): Promise<AggregateState<State>> {
  const bound = await resolveAsOf(store, options.asOf);
  const stateVersion = aggregate.stateVersion ?? 1;
  const snapshot = await options.snapshots?.load(stream, {
    stateVersion,
    ...(bound.maxVersion === undefined ? {} : { maxVersion: bound.maxVersion }),
    ...(bound.maxPosition === undefined ? {} : { maxPosition: bound.maxPosition }),
  });
  let state = snapshot === undefined ? aggregate.initialState() : (snapshot.state as State);
  let version = snapshot?.version ?? -1;
  let position = snapshot?.position ?? -1;
  let eventsRead = 0;
  let from: number | undefined = version + 1;
  let pageSize = bound.maxPosition === undefined ? PAGE : FIRST_BOUNDED_PAGE;
  while (from !== undefined) {
    if (bound.maxVersion !== undefined && from > bound.maxVersion) break;
    let page;
    try {
      const maxCount =
        bound.maxVersion === undefined ? pageSize : Math.min(pageSize, bound.maxVersion - from + 1);
      pageSize = Math.min(PAGE, pageSize * 4);
      page = await store.readStream(stream, { fromVersion: from, maxCount });
    } catch (error) {
      if (isSluiceError(error, "SLUICE_NOT_FOUND")) break;
      throw error;
    }
    for (const event of page.events) {
      if (bound.maxPosition !== undefined && event.position > bound.maxPosition) {
        page = { ...page, nextVersion: undefined };
        break;
      }
      state = aggregate.evolve(state, event);
      version = event.version;
      position = event.position;
      eventsRead++;
    }
    from = page.nextVersion;
  }
  return { state, version, position, eventsRead, fromSnapshot: snapshot?.version };
}

/** Turns an AsOf into inclusive bounds on version and position. */
export async function resolveAsOf(
  store: EventStore,
  asOf: AsOf | undefined,
): Promise<{ maxVersion?: number; maxPosition?: number }> {
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
