import { join } from "node:path";
import { SluiceError } from "../errors/index.js";
import { DirLock } from "./dir-lock.js";
import { type FileSystem, nodeFileSystem } from "./file-system.js";
import { type BatchHeader, checkBatch, decodeRecords, readBatchHeader } from "./record-batch.js";
import type { LogRecord } from "./record.js";
import { findValidBatchAfter } from "./recovery.js";
import {
  CLEANED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  Segment,
  TIME_INDEX_SUFFIX,
  parseSegmentName,
  segmentName,
} from "./segment.js";

export interface Corruption {
  readonly position: number;
  readonly bytes: number;
  readonly message: string;
}

export interface SegmentReport {
  readonly file: string;
  readonly baseOffset: number;
  readonly sizeBytes: number;
  readonly batches: number;
  readonly records: number;
  readonly firstOffset: number | undefined;
  readonly lastOffset: number | undefined;
  readonly corruptions: readonly Corruption[];
}

export interface InspectVisitor {
  batch?:
    ((segment: string, position: number, header: BatchHeader, valid: boolean) => void) | undefined;
  record?: ((record: LogRecord) => void) | undefined;
}

/**
 * Reads every segment of a log without opening it for writing: each batch is CRC-checked and
 * its records decoded; damaged regions are reported and skipped (the scan resynchronises on
 * the next valid batch). Backs `sluice log verify` and `sluice log dump`.
 */
export function inspectLog(
  dir: string,
  visitor: InspectVisitor = {},
  fs: FileSystem = nodeFileSystem,
): SegmentReport[] {
  const bases = fs
    .list(dir)
    .map(parseSegmentName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  const reports: SegmentReport[] = [];
  for (const base of bases) {
    const file = join(dir, segmentName(base) + LOG_SUFFIX);
    const handle = fs.open(file, "read");
    const segment = new Segment(fs, dir, base, handle, 4096);
    const size = handle.size();
    segment.sizeBytes = size;
    const corruptions: Corruption[] = [];
    let batches = 0;
    let records = 0;
    let firstOffset: number | undefined;
    let lastOffset: number | undefined;
    let position = 0;
    while (position < size) {
      const header = readBatchHeader(segment.readBytes(position, 61), 0);
      let problem: SluiceError | undefined = header instanceof SluiceError ? header : undefined;
      let bytes: Buffer | undefined;
      if (!(header instanceof SluiceError)) {
        bytes = segment.readBytes(position, header.sizeBytes);
        const checked = checkBatch(bytes, 0);
        if (checked instanceof SluiceError) problem = checked;
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
            position += checked.sizeBytes;
            continue;
          }
        }
      }
      const resume = findValidBatchAfter(segment, position, size, lastOffset ?? base - 1) ?? size;
      corruptions.push({
        position,
        bytes: resume - position,
        message: problem?.message ?? "unreadable",
      });
      position = resume;
    }
    handle.close();
    reports.push({
      file,
      baseOffset: base,
      sizeBytes: size,
      batches,
      records,
      firstOffset,
      lastOffset,
      corruptions,
    });
  }
  return reports;
}

export interface RepairReport {
  readonly segmentsRepaired: number;
  readonly bytesQuarantined: number;
  readonly quarantineFiles: readonly string[];
}

/**
 * Cuts damaged regions out of every segment, keeping every valid batch before and after them.
 * The removed bytes are kept beside the log as `<segment>.log.corrupt-<position>` files, and
 * the indexes of repaired segments are removed so the next open rebuilds them.
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
      for (const corruption of report.corruptions) {
        if (corruption.position > position) {
          cleaned.write(read(position, corruption.position - position), written);
          written += corruption.position - position;
        }
        const quarantine = `${report.file}.corrupt-${corruption.position}`;
        await fs.writeFileAtomic(quarantine, read(corruption.position, corruption.bytes));
        quarantineFiles.push(quarantine);
        bytesQuarantined += corruption.bytes;
        position = corruption.position + corruption.bytes;
      }
      if (report.sizeBytes > position) {
        cleaned.write(read(position, report.sizeBytes - position), written);
        written += report.sizeBytes - position;
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
    // The damaged data may have been before the recovery point; everything left now verifies.
    await fs.syncDir(dir);
    return { segmentsRepaired, bytesQuarantined, quarantineFiles };
  } finally {
    lock.release();
  }
}
