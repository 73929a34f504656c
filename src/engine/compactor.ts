import type { Clock } from "../time/index.js";
import type { FileSystem } from "./file-system.js";
import { type BatchHeader, encodeBatch, encodeEmptyBatch } from "./record-batch.js";
import { CommittedKeys } from "./committed-keys.js";
import type { LogRecord } from "./record.js";
import { CLEANED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, Segment, TIME_INDEX_SUFFIX } from "./segment.js";
import { isControlBatch, isTransactionalBatch, markerTypeOf } from "./transaction-marker.js";

export interface CompactionResult {
  /** Sealed segments read: none when the last compaction left nothing to do since (see `CompactionMark`). */
  readonly segmentsScanned: number;
  readonly segmentsRewritten: number;
  readonly recordsRemoved: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/**
 * What a compaction leaves for the next: where the log ended and its sealed part ended, the
 * settings it ran with, and the earliest time a record it kept for its age (the lag, a
 * tombstone's retention) may go. With the log unchanged, the same settings and before that
 * time, a compaction would remove nothing, so it reads nothing (Kafka's cleaner likewise
 * leaves a log alone until enough of it is dirty).
 */
export interface CompactionMark {
  readonly endOffset: number;
  readonly sealedEnd: number;
  readonly deleteRetentionMs: number;
  readonly minCompactionLagMs: number;
  readonly pendingAt: number;
}

/** What the compactor may see and do of a log: nothing else of its insides. */
export interface CompactableLog {
  readonly dir: string;
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly isClosed: boolean;
  readonly options: {
    readonly indexIntervalBytes: number;
    readonly deleteRetentionMs: number;
    readonly minCompactionLagMs: number;
    readonly producerStateRetentionMs: number;
  };
  readonly logEndOffset: number;
  /** Set while a compaction runs, so retention and a second compaction wait. */
  compacting: boolean;
  /** Left by the last compaction that ran to its end (in memory: a reopened log has none). */
  compactionMark: CompactionMark | undefined;
  /** Settles once every segment rolled so far is sealed (see `Log.seals`). */
  readonly seals: Promise<void>;
  /** The sealed segments (all but the active one), oldest first. */
  sealedSegments(): Segment[];
  /** Visits every batch of the active segment with its records. */
  activeBatches(visit: (header: BatchHeader, records: readonly LogRecord[]) => void): void;
  /** Swaps a rewritten segment in place of the one it replaces. */
  replaceSegment(old: Segment, replacement: Segment): void;
}

/** What a compaction keeps, batch by batch and record by record, as it rewrites the segments in order. */
interface Retention {
  keep(r: LogRecord): boolean;
  /** Whether a batch left without records stays, empty (a segment's last one always does). */
  keepEmptied(header: BatchHeader): boolean;
  /** Whether a control batch stays (a segment's last one always does). */
  keepControl(header: BatchHeader, records: readonly LogRecord[]): boolean;
  /** A batch that stays, in log order. */
  kept(header: BatchHeader): void;
}

const yieldToAppends = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const YIELD_EVERY_BYTES = 256 * 1024;

/** Every batch of a segment with its records, in order. */
function* batchesOf(
  segment: Segment,
): Generator<{ header: BatchHeader; bytes: Buffer; records: LogRecord[] }> {
  let position = 0;
  while (position < segment.sizeBytes) {
    const batch = segment.batchAt(position);
    yield batch;
    position += batch.header.sizeBytes;
  }
}

/**
 * Keeps only the newest record per key in the sealed segments (records without a key, control
 * batches and records younger than `minCompactionLagMs` stay), drops tombstones older than
 * `deleteRetentionMs`, and keeps every surviving offset. Rewritten batches keep their header as
 * Kafka's cleaner does: base offset (so base sequence still lines up), last offset delta,
 * producer, partition leader epoch and attributes; a segment's last batch stays even when
 * emptied, so the segment still ends where the next one begins (an emptied segment keeps just
 * that batch), and so does each idempotent producer's last batch younger than
 * `producerStateRetentionMs` (its header holds the producer's last sequence, which duplicate
 * checks are rebuilt from at open). Runs in slices that yield to the event loop, so appends and
 * reads go on; each rewritten segment replaces the old one by an atomic rename.
 */
export async function compactLog(log: CompactableLog): Promise<CompactionResult> {
  const result = {
    segmentsScanned: 0,
    segmentsRewritten: 0,
    recordsRemoved: 0,
    bytesBefore: 0,
    bytesAfter: 0,
  };
  if (log.compacting || log.isClosed) return result;
  log.compacting = true;
  try {
    // A segment rolled moments ago may still be syncing in the background: rewriting it would
    // close its file under that fdatasync, and the failed seal would stop the log. Wait until
    // no seal is pending (a roll meanwhile starts a new one), then take the list at once.
    for (let seals = log.seals; ; seals = log.seals) {
      await seals;
      if (seals === log.seals) break;
    }
    if (log.isClosed) return result;
    const sealed = log.sealedSegments();
    if (sealed.length === 0) return result;
    // Taken before the scan: records appended meanwhile only look younger than they are.
    const now = log.clock.now();
    const { deleteRetentionMs, minCompactionLagMs: lag } = log.options;
    const sealedEnd = sealed[sealed.length - 1]!.nextOffset;
    const last = log.compactionMark;
    if (
      last !== undefined &&
      last.endOffset === log.logEndOffset &&
      last.sealedEnd === sealedEnd &&
      last.deleteRetentionMs === deleteRetentionMs &&
      last.minCompactionLagMs === lag &&
      now < last.pendingAt
    )
      return result;
    log.compactionMark = undefined;
    const tombstoneCutoff = now - deleteRetentionMs;
    // Without a lag every record may go, even one stamped in the future (as Kafka's cleaner).
    const lagCutoff = lag > 0 ? now - lag : Number.POSITIVE_INFINITY;
    // What counts anywhere in the log, the active segment included.
    const keys = new CommittedKeys((timestamp) => timestamp > lagCutoff);
    let scanned = 0;
    // Each idempotent producer's last batch in the log: kept, if young enough, even emptied.
    const producersLast = new Map<number, number>();
    const note = (header: BatchHeader, records: readonly LogRecord[]): void => {
      keys.note(header, records);
      if (header.producerId >= 0 && !isControlBatch(header.attributes))
        producersLast.set(header.producerId, header.baseOffset);
    };
    for (const segment of sealed) {
      for (const { header, records } of batchesOf(segment)) note(header, records);
      scanned += segment.sizeBytes;
      // Yield by work done, not per segment: segments emptied by earlier runs cost nothing.
      if (scanned >= YIELD_EVERY_BYTES) {
        scanned = 0;
        await yieldToAppends();
      }
    }
    await yieldToAppends(); // appends made meanwhile count: their keys supersede older records
    const endOffset = log.logEndOffset;
    log.activeBatches(note);
    keys.end();
    // The earliest time a record kept for its age may go (a transaction still open waits for
    // its marker instead, which moves the log's end).
    let pendingAt = Number.POSITIVE_INFINITY;
    const keep = (r: LogRecord): boolean => {
      if (r.key === null || keys.isUndecided(r.offset)) return true;
      if (r.timestamp > lagCutoff) {
        pendingAt = Math.min(pendingAt, r.timestamp + lag);
        return true;
      }
      const key = r.key.toString("latin1");
      // Superseded, or aborted (an aborted transaction's records never count).
      if (keys.newest(key) !== r.offset) return false;
      // A tombstone old enough to go stays while an older record of its key does (younger than
      // the lag by a timestamp set ahead of the delete's: producers' batches may go back in
      // time; or in a transaction still open): that value would be the key's again.
      if (r.value !== null || keys.hasKeptRecord(key)) return true;
      if (r.timestamp < tombstoneCutoff) return false;
      pendingAt = Math.min(pendingAt, r.timestamp + deleteRetentionMs + 1);
      return true;
    };
    const producerStateCutoff = now - log.options.producerStateRetentionMs;
    const keepEmptied = (header: BatchHeader): boolean => {
      if (producersLast.get(header.producerId) !== header.baseOffset) return false;
      if (header.maxTimestamp < producerStateCutoff) return false;
      pendingAt = Math.min(
        pendingAt,
        header.maxTimestamp + log.options.producerStateRetentionMs + 1,
      );
      return true;
    };
    // Producers whose transaction (since their last marker) still has a batch in the log.
    const withData = new Set<number>();
    const keepControl = (header: BatchHeader, records: readonly LogRecord[]): boolean => {
      if (markerTypeOf(records[0]?.key ?? null) === undefined) return true; // not a marker
      const hadData = withData.delete(header.producerId);
      // A marker goes once nothing of its transaction is left and readers had
      // deleteRetentionMs to see it, as Kafka's cleaner removes them.
      if (hadData) return true;
      if (header.maxTimestamp < tombstoneCutoff) return false;
      pendingAt = Math.min(pendingAt, header.maxTimestamp + deleteRetentionMs + 1);
      return true;
    };
    const retention: Retention = {
      keep,
      keepEmptied,
      keepControl,
      kept: (header) => {
        if (isTransactionalBatch(header.attributes) && !isControlBatch(header.attributes))
          withData.add(header.producerId);
      },
    };
    for (const segment of sealed) {
      if (log.isClosed) return result;
      const rewritten = await rewriteSegment(log, segment, retention);
      result.segmentsScanned++;
      if (rewritten === undefined) continue;
      result.bytesBefore += segment.sizeBytes;
      result.bytesAfter += rewritten.sizeBytes;
      result.recordsRemoved += rewritten.removed;
      result.segmentsRewritten++;
    }
    if (!log.isClosed)
      log.compactionMark = {
        endOffset,
        sealedEnd,
        deleteRetentionMs,
        minCompactionLagMs: lag,
        pendingAt,
      };
  } finally {
    log.compacting = false;
  }
  return result;
}

async function rewriteSegment(
  log: CompactableLog,
  segment: Segment,
  retention: Retention,
): Promise<{ segment: Segment; sizeBytes: number; removed: number } | undefined> {
  const fs = log.fs;
  const cleanedPath = segment.path(LOG_SUFFIX + CLEANED_SUFFIX);
  const out = fs.open(cleanedPath, "write");
  out.truncate(0);
  let written = 0;
  let removed = 0;
  // Batches left out: emptied now, or kept empty by an earlier run and needed no longer.
  let dropped = 0;
  let batches = 0;
  try {
    const all = [...batchesOf(segment)];
    for (const [i, { header, bytes, records: inBatch }] of all.entries()) {
      const last = i === all.length - 1;
      let output: Buffer | undefined;
      if (isControlBatch(header.attributes)) {
        if (retention.keepControl(header, inBatch) || last) output = bytes;
        else removed += inBatch.length;
      } else {
        const kept = inBatch.filter((r) => retention.keep(r));
        removed += inBatch.length - kept.length;
        if (kept.length > 0)
          output = kept.length === inBatch.length ? bytes : rebuildBatch(header, kept);
        else if (last || retention.keepEmptied(header))
          output =
            inBatch.length === 0
              ? bytes
              : encodeEmptyBatch(
                  header.baseOffset,
                  header.lastOffsetDelta,
                  header.maxTimestamp,
                  header,
                );
        else dropped++;
      }
      if (output !== undefined) {
        retention.kept(header);
        out.write(output, written);
        written += output.length;
      }
      if (++batches % 64 === 0) await yieldToAppends();
    }
    if (removed === 0 && dropped === 0) {
      out.close();
      fs.unlink(cleanedPath);
      return undefined;
    }
    await out.sync();
    out.close();
  } catch (error) {
    out.close();
    fs.unlink(cleanedPath);
    throw error;
  }
  if (log.isClosed) {
    fs.unlink(cleanedPath);
    return undefined;
  }
  // Indexes first: a crash between the steps leaves them missing, and recovery rebuilds them.
  fs.unlink(segment.path(INDEX_SUFFIX));
  fs.unlink(segment.path(TIME_INDEX_SUFFIX));
  fs.rename(cleanedPath, segment.path());
  const replacement = new Segment(
    fs,
    log.dir,
    segment.baseOffset,
    fs.open(segment.path(), "write"),
    log.options.indexIntervalBytes,
  );
  const scan = replacement.scanAndIndex(0, written);
  if (scan.error) throw scan.error;
  log.replaceSegment(segment, replacement);
  segment.close();
  await fs.syncDir(log.dir);
  await replacement.writeIndexes();
  return { segment: replacement, sizeBytes: written, removed };
}

/** The surviving records of a batch, in a batch with the original's header fields. */
function rebuildBatch(header: BatchHeader, kept: readonly LogRecord[]): Buffer {
  const logAppendTime = (header.attributes & 0x08) !== 0;
  return encodeBatch(kept, {
    baseOffset: header.baseOffset,
    defaultTimestamp: kept[0]!.timestamp,
    offsetDeltas: kept.map((r) => r.offset - header.baseOffset),
    lastOffsetDelta: header.lastOffsetDelta,
    compression: header.attributes & 0x07,
    attributes: header.attributes & ~0x07,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    ...(logAppendTime ? { maxTimestamp: header.maxTimestamp } : {}),
    producer: {
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
    },
  });
}
