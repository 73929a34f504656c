import { SluiceError } from "../errors/index.js";
import { type BatchHeader, checkBatch, readBatchHeader } from "./record-batch.js";

/** What `openLog` found and fixed; also what `sluice log verify` prints. */
export interface RecoveryReport {
  /** Segments whose batches were all CRC-checked on open. */
  readonly scannedSegments: number;
  readonly scannedBytes: number;
  /** Segments whose persisted indexes were missing or stale and were rebuilt. */
  readonly rebuiltIndexes: number;
  /** Bytes cut from a torn tail (never from the middle). */
  readonly truncatedBytes: number;
  /** Zeros found after the active segment's last batch: written ahead of appends, kept. */
  readonly preallocatedBytes: number;
  /** Segments removed: below the log start checkpoint (an interrupted retention), or after a torn tail. */
  readonly removedSegments: number;
  readonly durationMs: number;
}

/** Reads `length` bytes of a segment file at `position` (fewer at its end). */
export type ReadAt = (position: number, length: number) => Buffer;

export interface ResyncPoint {
  readonly position: number;
  readonly header: BatchHeader;
}

export interface ResyncOptions {
  /** Where the damage starts: the first byte that is not a valid batch. */
  readonly badAt: number;
  readonly fileSize: number;
  /** The last offset of the last good batch before the damage (base offset - 1 if none). */
  readonly lastGoodOffset: number;
  /** True when an index entry says a batch with this base offset starts at this position. */
  readonly vouched?: (position: number, baseOffset: number) => boolean;
  /**
   * Also demand that the offsets skipped are no more than the bytes skipped. For repair and
   * verify, which then keep what follows; recovery, which only refuses, leaves it off so that
   * no doubt ever leads to a truncation.
   */
  readonly strict?: boolean;
}

/**
 * After damage, finds where the chain of batches credibly resumes. Any CRC-valid batch can be
 * forged inside a record value, so a candidate must also be consistent with the chain: an index
 * entry vouches for it, or the damaged batch's own (intact) length points exactly at it, or it
 * starts a run of valid batches with increasing offsets that ends exactly at the end of the file
 * (or where zeros written ahead of the appends run to it).
 * Its base offset must follow the last good batch's.
 */
export function findResyncPoint(read: ReadAt, options: ResyncOptions): ResyncPoint | undefined {
  const { badAt, fileSize, lastGoodOffset } = options;
  const rest = read(badAt, fileSize - badAt);
  const damaged = readBatchHeader(rest, 0);
  const damagedEnd = damaged instanceof SluiceError ? -1 : damaged.sizeBytes;
  for (let at = 1; at + 61 <= rest.length; at++) {
    if (rest[at + 16] !== 2) continue; // magic
    const length = rest.readInt32BE(at + 8);
    if (length < 49 || at + 12 + length > rest.length) continue;
    const header = checkBatch(rest, at);
    if (header instanceof SluiceError || header.baseOffset <= lastGoodOffset) continue;
    const position = badAt + at;
    if (options.vouched?.(position, header.baseOffset) === true) return { position, header };
    if (at === damagedEnd && header.baseOffset === lastGoodOffset + 1 + countOf(damaged))
      return { position, header };
    if (options.strict === true && header.baseOffset - (lastGoodOffset + 1) > at) continue;
    if (chainReachesEnd(rest, at, header)) return { position, header };
  }
  return undefined;
}

function countOf(damaged: BatchHeader | SluiceError): number {
  return damaged instanceof SluiceError ? Number.NaN : damaged.lastOffsetDelta + 1;
}

function chainReachesEnd(rest: Buffer, from: number, first: BatchHeader): boolean {
  let at = from + first.sizeBytes;
  let last = first.baseOffset + first.lastOffsetDelta;
  while (at < rest.length) {
    const header = checkBatch(rest, at);
    // The chain may end where the zeros written ahead of the appends begin.
    if (header instanceof SluiceError) return isZero(rest, at, rest.length);
    if (header.baseOffset <= last) return false;
    last = header.baseOffset + header.lastOffsetDelta;
    at += header.sizeBytes;
  }
  return at === rest.length;
}

/** The sector size below which a lost write shows: a page that never reached the device reads as zeros. */
const SECTOR_BYTES = 512;

/**
 * True when the damage at `badAt` looks like writes that never reached the device rather than
 * damage to written data. A page the device never got reads back as its old contents, and in
 * an append-only file that is zeros past the synced end; the file length may be the old one.
 * So: the file ends inside the damaged batch; or zeros run from `badAt` to the next sector
 * boundary (the rest of a page cut at the old end); or a sector that starts inside the damaged
 * batch, its header intact, reads as zeros (a page lost in its middle). A flipped bit or garbage is none
 * of these. Records that hold a sector of zeros and are also damaged would be mistaken for a
 * lost write, which is why this is only asked above the recovery point.
 */
export function looksLikeLostWrite(read: ReadAt, badAt: number, fileSize: number): boolean {
  const rest = read(badAt, fileSize - badAt);
  if (rest.length === 0) return false;
  const header = readBatchHeader(rest, 0);
  if (header instanceof SluiceError) {
    if (header.message.startsWith("truncated")) return true;
    // No header where one should start: the rest of a page cut at the old end reads as zeros.
    const toBoundary = Math.ceil((badAt + 1) / SECTOR_BYTES) * SECTOR_BYTES - badAt;
    return isZero(rest, 0, Math.min(toBoundary, rest.length));
  }
  if (header.sizeBytes > rest.length) return true;
  const firstSector = Math.ceil(badAt / SECTOR_BYTES) * SECTOR_BYTES - badAt;
  // A sector that starts inside the batch and reads as zeros to its end (or the file's).
  for (let at = firstSector; at < Math.min(header.sizeBytes, rest.length); at += SECTOR_BYTES)
    if (isZero(rest, at, Math.min(at + SECTOR_BYTES, rest.length))) return true;
  return false;
}

/**
 * True when the file holds only zeros from `position` to `fileSize`: after the last batch of an
 * active segment, the zeros written ahead of its appends (`Segment.preallocate`).
 */
export function zerosToEnd(read: ReadAt, position: number, fileSize: number): boolean {
  for (let at = position; at < fileSize; at += ZERO_CHECK_BYTES) {
    const chunk = read(at, Math.min(ZERO_CHECK_BYTES, fileSize - at));
    if (chunk.length === 0 || !isZero(chunk, 0, chunk.length)) return false;
  }
  return true;
}

const ZERO_CHECK_BYTES = 1 << 20;

function isZero(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Where damage was found, for a refusal that names it. */
export interface DamagePlace {
  readonly segment: string;
  readonly position: number;
  /** The first offset that cannot be read. */
  readonly offset: number;
}

/**
 * The error that refuses to open a damaged log: it names the segment, byte and offset, says
 * what is wrong, and how to look and repair. Recovery never truncates what this describes.
 */
export function refusal(place: DamagePlace, problem: string, cause?: SluiceError): SluiceError {
  return new SluiceError(
    "SLUICE_CORRUPT",
    `${problem}: segment ${place.segment} at byte ${place.position} (offset ${place.offset}); ` +
      "nothing was changed. Run `sluice log verify <dir>` to see the damage and " +
      "`sluice log repair <dir>` to cut it out (damaged bytes are kept aside)",
    { ...(cause === undefined ? {} : { cause }), details: { ...place, problem } },
  );
}
