import type { RecordedEvent, StreamChange, StreamMetadata } from "./event-store.js";
import { expired, firstReadableVersion } from "./stream-index.js";

/**
 * A past point of a stream: everything appended at or before a global position, and, when the
 * point was given as a time, that time (changes then count by when they were made).
 */
export interface PastPoint {
  readonly position: number;
  readonly time?: number;
}

/** How a stream stood at a past point: the changes made by then, applied in order. */
export interface PastState {
  readonly metadata: StreamMetadata;
  /** Versions below this had been deleted. */
  readonly deletedBefore: number;
  /** Whether its last delete by then left a tombstone. */
  readonly hardDeleted: boolean;
}

/** Whether `change` had been made at `point`. */
function madeBy(change: StreamChange, point: PastPoint): boolean {
  return point.time === undefined ? change.position < point.position : change.time <= point.time;
}

export function stateAt(changes: readonly StreamChange[], point: PastPoint): PastState {
  let metadata: StreamMetadata = {};
  let deletedBefore = 0;
  let hardDeleted = false;
  for (const change of changes) {
    if (!madeBy(change, point)) continue;
    if (change.metadata !== undefined) metadata = change.metadata;
    if (change.deletedBefore !== undefined) {
      deletedBefore = change.deletedBefore;
      hardDeleted = change.hard === true;
    }
  }
  return { metadata, deletedBefore, hardDeleted };
}

/**
 * Which of `events` (a stream's, oldest first, as a history read gives them) a read returned at
 * a past point where the stream stood as `state` and its last version was `last`: metadata and
 * deletes count as they stood then (a `maxCount` set later hides nothing earlier; a soft delete
 * made later leaves the versions it deleted readable before it). `maxAgeMs` counts back from
 * `now`, the time of the point.
 */
export function readableAt(
  events: readonly RecordedEvent[],
  last: number,
  state: PastState,
  now: number,
): RecordedEvent[] {
  const first = firstReadableVersion(last, state.deletedBefore, state.metadata);
  return events.filter((e) => e.version >= first && !expired(e.timestamp, state.metadata, now));
}

/** Whether reads at a point where the stream stood as `state` hid any of its versions. */
export function hidesAny(state: PastState): boolean {
  const { metadata } = state;
  return (
    state.deletedBefore > 0 ||
    metadata.maxAgeMs !== undefined ||
    metadata.maxCount !== undefined ||
    (metadata.truncateBefore ?? 0) > 0
  );
}
