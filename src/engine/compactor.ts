import type { Clock } from "../time/index.js";
import type { FileSystem } from "./file-system.js";
import { type BatchHeader, encodeBatch, encodeEmptyBatch } from "./record-batch.js";
import { CommittedKeys } from "./committed-keys.js";
import type { LogRecord } from "./record.js";
import { CLEANED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, Segment, TIME_INDEX_SUFFIX } from "./segment.js";
import { isControlBatch } from "./transaction-marker.js";

export interface CompactionResult {
  readonly segmentsRewritten: number;
  readonly recordsRemoved: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
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
  };
  /** Set while a compaction runs, so retention and a second compaction wait. */
  compacting: boolean;
  /** Settles once every segment rolled so far is sealed (see `Log.seals`). */
  readonly seals: Promise<void>;
  /** The sealed segments (all but the active one), oldest first. */
  sealedSegments(): Segment[];
  /** Visits every batch of the active segment with its records. */
  activeBatches(visit: (header: BatchHeader, records: readonly LogRecord[]) => void): void;
  /** Swaps a rewritten segment in place of the one it replaces. */
  replaceSegment(old: Segment, replacement: Segment): void;
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
 * Keeps only the newest record per key in the sealed segments (records without a key,
 * control batches and records younger than `minCompactionLagMs` stay), drops tombstones older
 * than `deleteRetentionMs`, and keeps every
 * surviving offset. Rewritten batches keep their header as Kafka's cleaner does: base offset
 * (so base sequence still lines up), last offset delta, producer, partition leader epoch and
 * attributes; a segment's last batch stays even when emptied, so the segment still ends where
 * the next one begins (an emptied segment keeps just that batch). Runs in slices that yield to the event loop, so appends and reads go on;
 * each rewritten segment replaces the old one by an atomic rename.
 */
export async function compactLog(log: CompactableLog): Promise<CompactionResult> {
  const result = {
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
    const tombstoneCutoff = now - log.options.deleteRetentionMs;
    // Without a lag every record may go, even one stamped in the future (as Kafka's cleaner).
    const lag = log.options.minCompactionLagMs;
    const lagCutoff = lag > 0 ? now - lag : Number.POSITIVE_INFINITY;
    // What counts anywhere in the log, the active segment included.
    const keys = new CommittedKeys((timestamp) => timestamp > lagCutoff);
    let scanned = 0;
    for (const segment of sealed) {
      for (const { header, records } of batchesOf(segment)) keys.note(header, records);
      scanned += segment.sizeBytes;
      // Yield by work done, not per segment: segments emptied by earlier runs cost nothing.
      if (scanned >= YIELD_EVERY_BYTES) {
        scanned = 0;
        await yieldToAppends();
      }
    }
    await yieldToAppends(); // appends made meanwhile count: their keys supersede older records
    log.activeBatches((header, records) => keys.note(header, records));
    keys.end();
    const keep = (r: LogRecord): boolean => {
      if (r.key === null || r.timestamp > lagCutoff || keys.isUndecided(r.offset)) return true;
      const key = r.key.toString("latin1");
      // Superseded, or aborted (an aborted transaction's records never count).
      if (keys.newest(key) !== r.offset) return false;
      // A tombstone old enough to go stays while an older record of its key does (younger than
      // the lag by a timestamp set ahead of the delete's: producers' batches may go back in
      // time; or in a transaction still open): that value would be the key's again.
      return r.value !== null || r.timestamp >= tombstoneCutoff || keys.hasKeptRecord(key);
    };
    for (const segment of sealed) {
      if (log.isClosed) break;
      const rewritten = await rewriteSegment(log, segment, keep);
      if (rewritten === undefined) continue;
      result.bytesBefore += segment.sizeBytes;
      result.bytesAfter += rewritten.sizeBytes;
      result.recordsRemoved += rewritten.removed;
      result.segmentsRewritten++;
    }
  } finally {
    log.compacting = false;
  }
  return result;
}

async function rewriteSegment(
  log: CompactableLog,
  segment: Segment,
  keep: (r: LogRecord) => boolean,
): Promise<{ segment: Segment; sizeBytes: number; removed: number } | undefined> {
  const fs = log.fs;
  const cleanedPath = segment.path(LOG_SUFFIX + CLEANED_SUFFIX);
  const out = fs.open(cleanedPath, "write");
  out.truncate(0);
  let written = 0;
  let removed = 0;
  let batches = 0;
  try {
    const all = [...batchesOf(segment)];
    for (const [i, { header, bytes, records: inBatch }] of all.entries()) {
      const control = isControlBatch(header.attributes);
      const kept = control ? inBatch : inBatch.filter(keep);
      removed += inBatch.length - kept.length;
      let output: Buffer | undefined;
      if (kept.length === inBatch.length) output = bytes;
      else if (kept.length > 0) output = rebuildBatch(header, kept);
      else if (i === all.length - 1)
        output = encodeEmptyBatch(
          header.baseOffset,
          header.lastOffsetDelta,
          header.maxTimestamp,
          header,
        );
      if (output !== undefined) {
        out.write(output, written);
        written += output.length;
      }
      if (++batches % 64 === 0) await yieldToAppends();
    }
    if (removed === 0) {
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
