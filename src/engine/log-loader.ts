import { join } from "node:path";
import type { FileSystem } from "./file-system.js";
import {
  type RecoveryReport,
  findResyncPoint,
  looksLikeLostWrite,
  refusal,
  zerosToEnd,
} from "./recovery.js";
import {
  CLEANED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  Segment,
  TIME_INDEX_SUFFIX,
  parseSegmentName,
  segmentName,
} from "./segment.js";

export const RECOVERY_POINT_FILE = "recovery-point";
export const LOG_START_FILE = "log-start-offset";

/** A verified starting state: the segments in order, the last one active. */
export interface LoadedLog {
  readonly segments: Segment[];
  /** The first readable offset. */
  readonly startOffset: number;
  readonly report: RecoveryReport;
}

/** A checkpoint file's offset; 0 when it is missing or unreadable (then less is trusted). */
export function readCheckpoint(fs: FileSystem, dir: string, file: string): number {
  const path = join(dir, file);
  if (!fs.exists(path)) return 0;
  const value = Number(fs.readFile(path).toString("utf8").trim());
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/**
 * Recovery, apart from the log (as Kafka keeps its log loader apart): takes the files in `dir`
 * and returns a verified starting state, or refuses with an error naming the place.
 *
 * The rules. Segments wholly below the log start checkpoint are leftovers of an interrupted
 * retention and go. Every sealed segment must verify to its last byte and end exactly where
 * the next one begins; the active (last) segment must not end below the recovery point (the
 * offset up to which everything was synced before a roll or a clean close). The only damage
 * ever cut away is a torn tail: bad bytes at the end of the active segment, above the recovery
 * point, with no valid batch consistent with the chain after them. Anything else (a bad batch
 * with valid data after it, damage in a sealed segment, a gap between segments, a log shorter
 * than its recovery point) is refused, naming segment, byte and offset, and nothing is changed.
 */
export function loadLog(fs: FileSystem, dir: string, indexIntervalBytes: number): LoadedLog {
  const started = performance.now();
  const names = fs.list(dir);
  const bases = names
    .map(parseSegmentName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  const present = new Set(bases.map((b) => segmentName(b)));
  for (const name of names) {
    const stem = name.replace(/\.(index|timeindex)$/, "");
    const orphanIndex = stem !== name && !present.has(stem);
    if (name.endsWith(CLEANED_SUFFIX) || name.endsWith(".tmp") || orphanIndex)
      fs.unlink(join(dir, name));
  }
  const recoveryPoint = readCheckpoint(fs, dir, RECOVERY_POINT_FILE);
  const startCheckpoint = readCheckpoint(fs, dir, LOG_START_FILE);
  let removedSegments = 0;
  // Retention writes the new log start before unlinking: finish what a crash interrupted.
  while (bases.length > 1 && bases[1]! <= startCheckpoint) {
    const stem = join(dir, segmentName(bases.shift()!));
    for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) fs.unlink(stem + suffix);
    removedSegments++;
  }

  const segments: Segment[] = [];
  /** Removes every segment after the i-th (a crash cut the log there); returns their bytes. */
  const dropLaterSegments = (i: number): number => {
    let bytes = 0;
    for (const later of bases.splice(i + 1)) {
      const stem = join(dir, segmentName(later));
      if (fs.exists(stem + LOG_SUFFIX)) {
        const handle = fs.open(stem + LOG_SUFFIX, "read");
        bytes += handle.size();
        handle.close();
      }
      for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) fs.unlink(stem + suffix);
      removedSegments++;
    }
    return bytes;
  };
  let scannedSegments = 0;
  let scannedBytes = 0;
  let rebuiltIndexes = 0;
  let truncatedBytes = 0;
  let preallocatedBytes = 0;
  try {
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const nextBase = bases[i + 1];
      const segment = new Segment(
        fs,
        dir,
        base,
        fs.open(join(dir, segmentName(base) + LOG_SUFFIX), "write"),
        indexIntervalBytes,
      );
      segments.push(segment);
      const fileSize = segment.handle.size();
      segment.fileBytes = fileSize;
      const trusted = nextBase !== undefined && nextBase <= recoveryPoint;
      if (trusted && segment.loadIndexes(fileSize)) {
        // Synced before the recovery point moved past it: verify from its last index entry.
        segment.maxTimestamp = segment.timeIndex.lastKey ?? -1;
        const last = segment.offsetIndex.length - 1;
        const from = last >= 0 ? segment.offsetIndex.valueAt(last) : 0;
        const result = segment.scanAndIndex(from, fileSize);
        if (result.error)
          throw refusal(
            place(segment, result.validEndPosition),
            "damage in data that was synced",
            result.error,
          );
        // The scan saw the batches from `from` on; the index may be short of the ones before.
        const before = segment.maxTimestampBefore(from);
        if (before > segment.maxTimestamp) segment.maxTimestamp = before;
      } else {
        if (trusted) rebuiltIndexes++;
        scannedSegments++;
        scannedBytes += fileSize;
        const result = segment.scanAndIndex(0, fileSize);
        if (result.error) {
          const badAt = result.validEndPosition;
          const read = (p: number, n: number): Buffer => segment.readRaw(p, n);
          if (segment.nextOffset < recoveryPoint)
            throw refusal(
              place(segment, badAt),
              `damage below the recovery point ${recoveryPoint} (data that was synced)`,
              result.error,
            );
          // Zeros from the last batch to the end of the active segment are the ones written
          // ahead of its appends (`Segment.preallocate`): kept for the appends to come.
          if (nextBase === undefined && zerosToEnd(read, badAt, fileSize)) {
            preallocatedBytes += fileSize - badAt;
            continue;
          }
          // Above the recovery point, a write that never reached the device is what a crash
          // leaves, and nothing after it was acknowledged (an append resolves only once every
          // byte before it, in every earlier segment, is synced): cut there.
          if (!looksLikeLostWrite(read, badAt, fileSize)) {
            const resync = findResyncPoint(read, {
              badAt,
              fileSize,
              lastGoodOffset: segment.nextOffset - 1,
            });
            if (resync !== undefined)
              throw refusal(
                place(segment, badAt),
                `damage in the middle of the log, with valid data again at byte ${resync.position} (offset ${resync.header.baseOffset})`,
                result.error,
              );
            if (nextBase !== undefined)
              throw refusal(
                place(segment, badAt),
                "damage in a sealed segment, with later segments after it",
                result.error,
              );
            // A torn tail of the active segment: nothing valid follows it.
          }
          truncatedBytes += fileSize - badAt;
          segment.truncate(badAt);
          truncatedBytes += dropLaterSegments(i);
          continue;
        }
      }
      if (nextBase !== undefined && segment.nextOffset !== nextBase) {
        // The file is shorter than the next segment says it was. Above the recovery point that
        // is a length update that never reached the device; below it, lost data.
        if (segment.nextOffset < recoveryPoint)
          throw refusal(
            place(segment, segment.sizeBytes),
            `a gap in the log: this segment ends before offset ${segment.nextOffset}, the next one starts at ${nextBase}`,
          );
        truncatedBytes += dropLaterSegments(i);
      }
    }
    const active = segments[segments.length - 1];
    if (
      active === undefined ? recoveryPoint > startCheckpoint : active.nextOffset < recoveryPoint
    ) {
      const segment = active?.path() ?? join(dir, segmentName(recoveryPoint) + LOG_SUFFIX);
      const end = active?.nextOffset ?? startCheckpoint;
      throw refusal(
        { segment, position: active?.sizeBytes ?? 0, offset: end },
        `the log ends at offset ${end}, below its recovery point ${recoveryPoint}: offsets ${end} to ${recoveryPoint - 1} are missing`,
      );
    }
  } catch (error) {
    for (const s of segments) s.close();
    throw error;
  }
  if (segments.length === 0) {
    const base = Math.max(startCheckpoint, recoveryPoint);
    segments.push(Segment.create(fs, dir, base, indexIntervalBytes));
  }
  const end = segments[segments.length - 1]!.nextOffset;
  return {
    segments,
    startOffset: Math.min(Math.max(startCheckpoint, segments[0]!.baseOffset), end),
    report: {
      scannedSegments,
      scannedBytes,
      rebuiltIndexes,
      truncatedBytes,
      preallocatedBytes,
      removedSegments,
      durationMs: performance.now() - started,
    },
  };
}

function place(
  segment: Segment,
  position: number,
): { segment: string; position: number; offset: number } {
  return { segment: segment.path(), position, offset: segment.nextOffset };
}
