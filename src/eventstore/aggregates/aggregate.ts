import type { EventData, RecordedEvent } from "../event-store.js";

/**
 * An aggregate as two pure functions: `decide` turns a command and the current state into new
 * events (or throws a domain error); `evolve` folds one recorded event into the state.
 */
export interface Aggregate<State, Command> {
  /** The state of a stream with no events. */
  initialState(): State;
  evolve(state: State, event: RecordedEvent): State;
  decide(command: Command, state: State): readonly EventData[];
  /**
   * Version of the state's shape, stored with snapshots: bump it when `State` changes so old
   * snapshots are ignored rather than misread (default 1).
   */
  readonly stateVersion?: number;
}

/** A point in the past: a time (ms), a global position, or a stream version (all inclusive). */
export type AsOf =
  { readonly time: number } | { readonly position: number } | { readonly version: number };

/** The state of one stream, with the version and position it reflects. */
export interface AggregateState<State> {
  readonly state: State;
  /** Version of the last event folded in; -1 when none. */
  readonly version: number;
  /** Global position of the last event folded in; -1 when none. */
  readonly position: number;
  /** How many events were read (after any snapshot): what the load cost. */
  readonly eventsRead: number;
  /** The version of the snapshot the load started from, if any. */
  readonly fromSnapshot: number | undefined;
}
