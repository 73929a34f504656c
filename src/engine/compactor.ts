import type { Log } from "./log.js";
import { encodeBatch } from "./record-batch.js";
import type { LogRecord } from "./record.js";
import { CLEANED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, Segment, TIME_INDEX_SUFFIX } from "./segment.js";

export interface CompactionResult {
  readonly segmentsRewritten: number;
  readonly segmentsRemoved: number;
  readonly recordsRemoved: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

const yieldToAppends = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Keeps only the newest record per key in the sealed segments (records without a key stay),
 * drops tombstones older than `deleteRetentionMs`, and keeps every surviving offset. Runs in
 * slices that yield to the event loop, so appends and reads go on meanwhile; each rewritten
 * segment replaces the old one by an atomic rename.
 */
export async function compactLog(log: Log): Promise<CompactionResult> {
  const none = {
    segmentsRewritten: 0,
    segmentsRemoved: 0,
    recordsRemoved: 0,
    bytesBefore: 0,
    bytesAfter: 0,
  };
  if (log.compacting || log.isClosed) return none;
  log.compacting = true;
  try {
    const sealed = log.sealedSegments();
    if (sealed.length === 0) return none;
    // Newest offset of each key anywhere in the log, the active segment included.
    const latest = new Map<string, number>();
    for (const segment of sealed) {
      log.segmentRecords(segment, (r) => {
        if (r.key !== null) latest.set(r.key.toString("latin1"), r.offset);
      });
      await yieldToAppends();
    }
    log.activeRecords((r) => {
      if (r.key !== null) latest.set(r.key.toString("latin1"), r.offset);
    });
    const tombstoneCutoff = log.clock.now() - log.options.deleteRetentionMs;
    const keep = (r: LogRecord): boolean => {
      if (r.key === null) return true;
      if (latest.get(r.key.toString("latin1")) !== r.offset) return false;
      return r.value !== null || r.timestamp >= tombstoneCutoff;
    };
    let segmentsRewritten = 0;
    let segmentsRemoved = 0;
    let recordsRemoved = 0;
    let bytesBefore = 0;
    let bytesAfter = 0;
    for (const segment of sealed) {
      if (log.isClosed) break;
      const rewritten = await rewriteSegment(log, segment, keep);
      if (rewritten === undefined) continue;
      bytesBefore += segment.sizeBytes;
      bytesAfter += rewritten.sizeBytes;
      recordsRemoved += rewritten.removed;
      if (!log.sealedSegments().includes(rewritten.segment)) segmentsRemoved++;
      else segmentsRewritten++;
    }
    return { segmentsRewritten, segmentsRemoved, recordsRemoved, bytesBefore, bytesAfter };
  } finally {
    log.compacting = false;
  }
}

async function rewriteSegment(
  log: Log,
  segment: Segment,
  keep: (r: LogRecord) => boolean,
): Promise<{ segment: Segment; sizeBytes: number; removed: number } | undefined> {
  const fs = log.fs;
  const cleanedPath = segment.path(LOG_SUFFIX + CLEANED_SUFFIX);
  const out = fs.open(cleanedPath, "write");
  out.truncate(0);
  let written = 0;
  let removed = 0;
  let position = 0;
  let batches = 0;
  try {
    while (position < segment.sizeBytes) {
      const { header: checked, bytes: batch, records } = segment.batchAt(position);
      const kept = records.filter(keep);
      removed += records.length - kept.length;
      if (kept.length === records.length) {
        out.write(batch, written);
        written += batch.length;
      } else if (kept.length > 0) {
        const baseOffset = kept[0]!.offset;
        const rebuilt = encodeBatch(kept, {
          baseOffset,
          defaultTimestamp: kept[0]!.timestamp,
          offsetDeltas: kept.map((r) => r.offset - baseOffset),
          compression: checked.attributes & 0x07,
          producer: {
            producerId: checked.producerId,
            producerEpoch: checked.producerEpoch,
            baseSequence: checked.baseSequence,
          },
        });
        out.write(rebuilt, written);
        written += rebuilt.length;
      }
      position += checked.sizeBytes;
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
  // An emptied segment goes, except the first: its base offset is the log start offset.
  if (written === 0 && log.sealedSegments()[0] !== segment) {
    fs.unlink(cleanedPath);
    log.removeSealedSegment(segment);
    await fs.syncDir(log.dir);
    return { segment, sizeBytes: 0, removed };
  }
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
