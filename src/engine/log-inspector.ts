import { join } from "node:path";
import { SluiceError } from "../errors/index.js";
import { DirLock } from "./dir-lock.js";
import { type FileSystem, nodeFileSystem } from "./file-system.js";
import { RECOVERY_POINT_FILE, readCheckpoint } from "./log-loader.js";
import {
  type BatchHeader,
  checkBatch,
  decodeRecords,
  encodeEmptyBatch,
  readBatchHeader,
} from "./record-batch.js";
import type { LogRecord } from "./record.js";
import { findResyncPoint, zerosToEnd } from "./recovery.js";
import {
  CLEANED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  Segment,
  TIME_INDEX_SUFFIX,
  parseSegmentName,
  segmentName,
} from "./segment.js";
import { SparseIndex } from "./sparse-index.js";

export interface Corruption {
  /** "damage": bytes that are not valid batches; "gap": offsets missing between or after segments. */
  readonly kind: "damage" | "gap";
  readonly position: number;
  readonly bytes: number;
  readonly message: string;
  /** The offsets lost with it, when they are known (first and last, inclusive). */
  readonly missingOffsets?: { readonly first: number; readonly last: number };
}

export interface SegmentReport {
  readonly file: string;
  readonly baseOffset: number;
  readonly sizeBytes: number;
  readonly batches: number;
  readonly records: number;
  readonly firstOffset: number | undefined;
  readonly lastOffset: number | undefined;
  /**
   * Zeros after the last batch of the active segment: written ahead of its appends under
   * `fsync: "always"` and left by a crash (a clean close trims them); not damage.
   */
  readonly preallocatedBytes: number;
  /** One past the last offset the segment's valid batches cover. */
  readonly endOffset: number;
  readonly corruptions: readonly Corruption[];
}

export interface InspectVisitor {
  batch?:
    ((segment: string, position: number, header: BatchHeader, valid: boolean) => void) | undefined;
  record?: ((record: LogRecord) => void) | undefined;
}

function segmentBases(fs: FileSystem, dir: string): number[] {
  return fs
    .list(dir)
    .map(parseSegmentName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
}

/** Index entries on disk, as (position -> base offset), to vouch for a resync point. */
function persistedEntries(fs: FileSystem, segment: Segment): Map<number, number> {
  const entries = new Map<number, number>();
  const path = segment.path(INDEX_SUFFIX);
  if (!fs.exists(path)) return entries;
  const index = SparseIndex.decode("offset", segment.baseOffset, fs.readFile(path));
  for (let i = 0; i < (index?.length ?? 0); i++) entries.set(index!.valueAt(i), index!.keyAt(i));
  return entries;
}

/**
 * Reads every segment of a log without opening it for writing: each batch is CRC-checked and
 * its records decoded. A damaged region is reported with the offsets it takes, and the scan
 * resumes only where the chain of batches credibly resumes (see `findResyncPoint`), never on a
 * batch hidden in a record value. Offsets missing between segments, or below the recovery
 * point at the end, are reported as gaps. Backs `sluice log verify` and `sluice log dump`.
 */
export function inspectLog(
  dir: string,
  visitor: InspectVisitor = {},
  fs: FileSystem = nodeFileSystem,
): SegmentReport[] {
  const bases = segmentBases(fs, dir);
  const reports: SegmentReport[] = [];
  const recoveryPoint = readCheckpoint(fs, dir, RECOVERY_POINT_FILE);
  for (const base of bases) {
    const file = join(dir, segmentName(base) + LOG_SUFFIX);
    const handle = fs.open(file, "read");
    const segment = new Segment(fs, dir, base, handle, 4096);
    const size = handle.size();
    segment.sizeBytes = size;
    const vouching = persistedEntries(fs, segment);
    const corruptions: Corruption[] = [];
    let batches = 0;
    let records = 0;
    let firstOffset: number | undefined;
    let lastOffset: number | undefined;
    let endOffset = base;
    let position = 0;
    let preallocatedBytes = 0;
    try {
      while (position < size) {
        const header = readBatchHeader(segment.readBytes(position, 61), 0);
        let problem: SluiceError | undefined = header instanceof SluiceError ? header : undefined;
        if (!(header instanceof SluiceError)) {
          const bytes = segment.readBytes(position, header.sizeBytes);
          const checked = checkBatch(bytes, 0);
          if (checked instanceof SluiceError) problem = checked;
          else if (checked.baseOffset < endOffset)
            problem = new SluiceError(
              "SLUICE_CORRUPT",
              `offsets go backwards (${checked.baseOffset} after ${endOffset - 1})`,
            );
          else {
            const decoded = decodeRecords(bytes, 0, checked);
            if (decoded instanceof SluiceError) problem = decoded;
            else {
              visitor.batch?.(file, position, checked, true);
              for (const r of decoded) visitor.record?.(r);
              batches++;
              records += decoded.length;
              firstOffset ??= checked.baseOffset;
              lastOffset = checked.baseOffset + checked.lastOffsetDelta;
              endOffset = lastOffset + 1;
              position += checked.sizeBytes;
              continue;
            }
          }
        }
        // As recovery judges them: above the recovery point, zeros are the ones written ahead.
        const last = base === bases[bases.length - 1];
        if (
          last &&
          endOffset >= recoveryPoint &&
          zerosToEnd((p, n) => segment.readBytes(p, n), position, size)
        ) {
          preallocatedBytes = size - position;
          break;
        }
        const resync = findResyncPoint((p, n) => segment.readBytes(p, n), {
          badAt: position,
          fileSize: size,
          lastGoodOffset: endOffset - 1,
          vouched: (p, offset) => vouching.get(p) === offset,
          strict: true,
        });
        const resume = resync?.position ?? size;
        corruptions.push({
          kind: "damage",
          position,
          bytes: resume - position,
          message: problem?.message ?? "unreadable",
          ...(resync === undefined
            ? {}
            : { missingOffsets: { first: endOffset, last: resync.header.baseOffset - 1 } }),
        });
        position = resume;
      }
    } finally {
      handle.close();
    }
    reports.push({
      file,
      baseOffset: base,
      sizeBytes: size,
      preallocatedBytes,
      batches,
      records,
      firstOffset,
      lastOffset,
      endOffset,
      corruptions,
    });
  }
  return withGaps(reports, recoveryPoint);
}

/** Adds a gap to each segment that ends before the next begins (or, last, below `mustReach`). */
function withGaps(reports: SegmentReport[], recoveryPoint: number): SegmentReport[] {
  return reports.map((report, i) => {
    const mustReach = reports[i + 1]?.baseOffset ?? recoveryPoint;
    if (report.endOffset >= mustReach) return report;
    const last = mustReach - 1;
    const what =
      i + 1 < reports.length
        ? `the next segment starts at offset ${mustReach}`
        : `the recovery point is ${mustReach}`;
    const gap: Corruption = {
      kind: "gap",
      position: report.sizeBytes,
      bytes: 0,
      message: `offsets ${report.endOffset} to ${last} are missing: this segment ends before offset ${report.endOffset} and ${what}`,
      missingOffsets: { first: report.endOffset, last },
    };
    return { ...report, corruptions: [...report.corruptions, gap] };
  });
}

export interface RepairReport {
  readonly segmentsRepaired: number;
  readonly bytesQuarantined: number;
  readonly quarantineFiles: readonly string[];
  /** Offset ranges that were lost and are now kept empty, so offsets are never reused. */
  readonly missingOffsets: ReadonlyArray<{ readonly first: number; readonly last: number }>;
}

/**
 * Cuts damaged regions out of every segment, keeping every valid batch before and after them,
 * and closes each gap with an empty batch that holds the lost offsets, so the log opens again
 * and no offset is handed out twice. The removed bytes are kept beside the log as
 * `<segment>.log.corrupt-<position>` files; indexes of repaired segments are removed so the
 * next open rebuilds them.
 */
export async function repairLog(
  dir: string,
  fs: FileSystem = nodeFileSystem,
): Promise<RepairReport> {
  const lock = await DirLock.acquire(fs, dir);
  try {
    let segmentsRepaired = 0;
    let bytesQuarantined = 0;
    const quarantineFiles: string[] = [];
    const missingOffsets: Array<{ first: number; last: number }> = [];
    for (const report of inspectLog(dir, {}, fs)) {
      if (report.corruptions.length === 0) continue;
      const source = fs.open(report.file, "read");
      const read = (position: number, length: number): Buffer => {
        const buf = Buffer.alloc(length);
        source.read(buf, 0, length, position);
        return buf;
      };
      const cleanedPath = report.file + CLEANED_SUFFIX;
      const cleaned = fs.open(cleanedPath, "write");
      cleaned.truncate(0);
      let written = 0;
      let position = 0;
      let lastTimestamp = 0;
      const keep = (from: number, to: number): void => {
        if (to <= from) return;
        const bytes = read(from, to - from);
        cleaned.write(bytes, written);
        written += bytes.length;
        for (let at = 0; at < bytes.length;) {
          const header = readBatchHeader(bytes, at) as BatchHeader;
          lastTimestamp = Math.max(lastTimestamp, header.maxTimestamp);
          at += header.sizeBytes;
        }
      };
      for (const corruption of report.corruptions) {
        if (corruption.kind === "damage") {
          keep(position, corruption.position);
          const quarantine = `${report.file}.corrupt-${corruption.position}`;
          await fs.writeFileAtomic(quarantine, read(corruption.position, corruption.bytes));
          quarantineFiles.push(quarantine);
          bytesQuarantined += corruption.bytes;
          position = corruption.position + corruption.bytes;
          if (corruption.missingOffsets !== undefined)
            missingOffsets.push(corruption.missingOffsets);
        }
      }
      keep(position, report.sizeBytes);
      for (const corruption of report.corruptions) {
        if (corruption.kind !== "gap" || corruption.missingOffsets === undefined) continue;
        const { first, last } = corruption.missingOffsets;
        const placeholder = encodeEmptyBatch(first, last - first, lastTimestamp);
        cleaned.write(placeholder, written);
        written += placeholder.length;
        missingOffsets.push(corruption.missingOffsets);
      }
      await cleaned.sync();
      cleaned.close();
      source.close();
      const stem = report.file.slice(0, -LOG_SUFFIX.length);
      fs.unlink(stem + INDEX_SUFFIX);
      fs.unlink(stem + TIME_INDEX_SUFFIX);
      fs.rename(cleanedPath, report.file);
      segmentsRepaired++;
    }
    await fs.syncDir(dir);
    return { segmentsRepaired, bytesQuarantined, quarantineFiles, missingOffsets };
  } finally {
    lock.release();
  }
}
