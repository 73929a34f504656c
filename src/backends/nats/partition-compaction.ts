import { setTimeout as sleep } from "node:timers/promises";
import {
  DeliverPolicy,
  type JetStreamClient,
  JetStreamApiCodes,
  JetStreamApiError,
  JetStreamError,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { isUnanswered, streamInfo } from "./nats-connection.js";
import type { PartitionAddress } from "./partition-stream.js";

/** Records read from the stream per request while a round scans it (headers only). */
const SCAN_BATCH = 1000;
/** How long a scan waits for the next batch before it takes the stream as read to its end. */
const SCAN_WAIT_MS = 2000;
/** Removals in flight at once. */
const REMOVE_WINDOW = 64;
/** Scans of a round started again after one went unanswered, and the pause before each. */
const SCAN_TRIES = 4;
const SCAN_RETRY_MS = 250;

export interface CompactionSettings {
  /** A record stays at least this long after its timestamp, even when a newer one has its key. */
  readonly minCompactionLagMs: number;
  /** A tombstone (a key with a null value) stays this long after its timestamp. */
  readonly deleteRetentionMs: number;
}

/** What one round did to a partition. */
export interface CompactionRound {
  readonly scanned: number;
  readonly removed: number;
}

/**
 * What a round leaves for the next: the stream's last sequence it compacted up to, the
 * settings it compacted with, and the earliest time a record it kept for its age (the lag, a
 * tombstone's retention) becomes removable. Until then, with nothing appended since and the
 * same settings, a round would remove nothing.
 */
export interface CompactionMark extends CompactionSettings {
  readonly lastSeq: number;
  readonly pendingAt?: number;
}

/** A record as a round sees it: its sequence, timestamp, and whether its value is null. */
interface Seen {
  readonly seq: number;
  readonly timestamp: number;
  readonly tombstone: boolean;
}

/**
 * One round of Kafka's log compaction on a partition's stream. Of the records stored when the
 * round starts, each whose key has a newer record is removed once it is older than
 * `minCompactionLagMs`, and a tombstone that is its key's newest once it is also older than
 * `deleteRetentionMs` (consumers had that long to see the delete). Records without a key stay,
 * and so does the stream's last record (a poll waits for the end the stream reports). Records
 * are removed by sequence, so the others keep their offsets and readers see gaps, as they do in
 * Kafka. Ages are the records' own timestamps against `now`.
 */
export async function compactPartition(
  js: JetStreamClient,
  jsm: JetStreamManager,
  address: PartitionAddress,
  settings: CompactionSettings,
  now: number,
  previous?: CompactionMark,
): Promise<{ round: CompactionRound; mark: CompactionMark }> {
  const { state } = await streamInfo(jsm, address.stream);
  const last = state.last_seq;
  const { minCompactionLagMs, deleteRetentionMs } = settings;
  if (state.messages < 2) {
    const mark = { lastSeq: last, minCompactionLagMs, deleteRetentionMs };
    return { round: { scanned: state.messages, removed: 0 }, mark };
  }
  // Nothing appended, nothing come of age and no setting changed since the last round: this
  // one would remove nothing.
  if (
    previous?.lastSeq === last &&
    previous.minCompactionLagMs === minCompactionLagMs &&
    previous.deleteRetentionMs === deleteRetentionMs &&
    !(previous.pendingAt !== undefined && previous.pendingAt <= now)
  )
    return { round: { scanned: 0, removed: 0 }, mark: previous };
  let pendingAt = Number.POSITIVE_INFINITY;
  const oldEnough = (seen: Seen): boolean => {
    // Without a lag every record may go, even one stamped in the future (as Kafka's cleaner).
    if (minCompactionLagMs === 0) return true;
    const at = seen.timestamp + minCompactionLagMs;
    if (at <= now) return true;
    pendingAt = Math.min(pendingAt, at);
    return false;
  };
  let newest = new Map<string, Seen>();
  let superseded: number[] = [];
  // Keys with an older record this round keeps (younger than the lag by its own timestamp,
  // which a producer may set out of order): their tombstones stay, so the older value cannot
  // come back once the tombstone is gone.
  let keepsOlder = new Set<string>();
  let scanned = 0;
  for (let tries = 1; ; tries++) {
    try {
      scanned = await scan(js, address, state.first_seq, last, (key, seen) => {
        const older = newest.get(key);
        if (older !== undefined) {
          if (oldEnough(older)) superseded.push(older.seq);
          else keepsOlder.add(key);
        }
        newest.set(key, seen);
      });
      break;
    } catch (error) {
      // A pull sent before the new consumer's interest reached the server that was asked
      // comes back "no responders": the scan starts over, with nothing removed yet.
      if (!(isUnanswered(error) || isNoResponders(error)) || tries >= SCAN_TRIES) throw error;
      newest = new Map();
      superseded = [];
      pendingAt = Number.POSITIVE_INFINITY;
      keepsOlder = new Set();
      await sleep(SCAN_RETRY_MS);
    }
  }
  const tombstones: number[] = [];
  for (const [key, seen] of newest) {
    if (!seen.tombstone || seen.seq === last || keepsOlder.has(key) || !oldEnough(seen)) continue;
    const retained = seen.timestamp + deleteRetentionMs;
    if (retained <= now) tombstones.push(seen.seq);
    else pendingAt = Math.min(pendingAt, retained);
  }
  // Tombstones go only once every superseded record is gone: removals sent together may be
  // applied in any order, and a round cut short (a crash) between a tombstone's removal and an
  // older record's would bring the deleted key's old value back.
  const removed =
    (await removeAll(jsm, address, superseded)) + (await removeAll(jsm, address, tombstones));
  const mark = { lastSeq: last, minCompactionLagMs, deleteRetentionMs };
  if (Number.isFinite(pendingAt))
    return { round: { scanned, removed }, mark: { ...mark, pendingAt } };
  return { round: { scanned, removed }, mark };
}

/**
 * Reads the records from `first` to `last`, headers only, handing each keyed one to `each` in
 * order; returns how many records it read.
 */
async function scan(
  js: JetStreamClient,
  address: PartitionAddress,
  first: number,
  last: number,
  each: (key: string, seen: Seen) => void,
): Promise<number> {
  const consumer = await js.consumers.get(address.stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: first,
    headers_only: true,
  });
  let read = 0;
  try {
    for (;;) {
      const batch = await consumer.fetch({ max_messages: SCAN_BATCH, expires: SCAN_WAIT_MS });
      let got = 0;
      for await (const m of batch) {
        got++;
        if (m.seq > last) return read;
        read++;
        const key = m.headers?.get("k");
        if (key !== undefined && key !== "")
          each(key, {
            seq: m.seq,
            timestamp: Number(m.headers?.get("t")),
            tombstone: m.headers?.get("n") === "1",
          });
        if (m.seq === last) return read;
      }
      // Nothing more came: the rest was removed meanwhile (retention, another round).
      if (got === 0) return read;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

/** Removes the records at `seqs`, a window at a time; how many were there to remove. */
async function removeAll(
  jsm: JetStreamManager,
  address: PartitionAddress,
  seqs: number[],
): Promise<number> {
  seqs.sort((a, b) => a - b);
  let removed = 0;
  for (let i = 0; i < seqs.length; i += REMOVE_WINDOW) {
    const window = seqs.slice(i, i + REMOVE_WINDOW);
    const done = await Promise.all(window.map((seq) => removeRecord(jsm, address, seq)));
    removed += done.filter(Boolean).length;
  }
  return removed;
}

/** Removes one record; one already gone (another process's round, retention) is no matter. */
async function removeRecord(
  jsm: JetStreamManager,
  address: PartitionAddress,
  seq: number,
): Promise<boolean> {
  try {
    return await jsm.streams.deleteMessage(address.stream, seq, false);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound)
      return false;
    throw error;
  }
}

/** A pull's status reply 503: nothing took the request (the client's JetStreamStatusError). */
function isNoResponders(error: unknown): boolean {
  return error instanceof JetStreamError && (error as { code?: unknown }).code === 503;
}
