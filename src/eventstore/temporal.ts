import type { EventStore } from "./event-store.js";
import type { Aggregate, AsOf } from "./aggregates/aggregate.js";
import { aggregateStream } from "./aggregates/aggregate-stream.js";
import type { SnapshotStore } from "./snapshots/snapshot-store.js";

/**
 * Evaluates a business rule against a stream's state as of a past point, e.g. "was this
 * account overdrawn on 1 March": the same as-of machinery as `aggregateStream`.
 */
export async function evaluateAsOf<State, Command, Result>(
  store: EventStore,
  stream: string,
  aggregate: Aggregate<State, Command>,
  asOf: AsOf,
  rule: (state: State) => Result,
  snapshots?: SnapshotStore,
): Promise<Result> {
  const loaded = await aggregateStream(store, stream, aggregate, {
    asOf,
    ...(snapshots === undefined ? {} : { snapshots }),
  });
  return rule(loaded.state);
}
