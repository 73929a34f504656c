import { join } from "node:path";
import { SluiceError } from "../errors/index.js";
import type { FileHandle, FileSystem, SyncOptions } from "./file-system.js";
import {
  type BatchHeader,
  BATCH_HEADER_BYTES,
  checkBatch,
  decodeRecords,
  lastOffsetOf,
  readBatchHeader,
} from "./record-batch.js";
import type { LogRecord } from "./record.js";
import { SparseIndex } from "./sparse-index.js";

export const LOG_SUFFIX = ".log";
export const INDEX_SUFFIX = ".index";
export const TIME_INDEX_SUFFIX = ".timeindex";
export const CLEANED_SUFFIX = ".cleaned";

/** `00000000000000001234` — Kafka's 20-digit zero-padded base offset. */
export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(20, "0");
}

export function parseSegmentName(fileName: string): number | undefined {
  const match = /^(\d{20})\.log$/.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

const SCAN_CHUNK_BYTES = 1 << 20;
/**
 * Where walks over batch headers read the file, a window at a time: two default index intervals.
 * One buffer for all segments, since a walk runs synchronously to its end.
 */
const HEADER_WINDOW = Buffer.allocUnsafe(8 * 1024);

/** Where a scan stopped and why. */
export interface ScanResult {
  /** Bytes of valid batches from the start of the scan. */
  readonly validEndPosition: number;
  /** Set when bytes after `validEndPosition` are not a valid batch. */
  readonly error?: SluiceError;
}

/** How far ahead of the appends a segment writes zeros (see `Segment.preallocate`). */
export interface Preallocation {
  /** At most this far past the last batch (less while the segment is small). */
  readonly maxAheadBytes: number;
  /** Never past this file size (where the segment rolls). */
  readonly limitBytes: number;
}

/**
 * A segment writes zeros ahead once it holds this much (or a quarter of its size limit), as
 * much as it holds (up to a maximum): small logs (catalogs, idle queues) spend no disk on
 * zeros, and a busy one at most its size.
 */
const MIN_PREALLOCATION_BYTES = 64 * 1024;

export interface DecodedBatch {
  readonly header: BatchHeader;
  readonly bytes: Buffer;
  readonly records: LogRecord[];
}

export interface BatchLocation {
  readonly header: BatchHeader;
  readonly position: number;
}

/**
 * One segment: a `.log` file of consecutive record batches plus its sparse offset and time
 * indexes, kept in memory and written beside it when the segment is sealed or closed.
 */
export class Segment {
  sizeBytes: number;
  /** One past the last offset in this segment (the base offset when empty). */
  nextOffset: number;
  maxTimestamp = -1;
  /** When the segment received its first batch (for rolling by age). */
  firstAppendAtMs: number | undefined;
  offsetIndex: SparseIndex;
  timeIndex: SparseIndex;
  /** Written bytes not yet synced. */
  dirty = false;
  /** Set once retention or compaction removed the files: nothing may write them again. */
  deleted = false;

  /**
   * Zeros written ahead of the batches (under `fsync: "always"`, see `preallocate`); without it
   * the file grows with each append.
   */
  preallocation: Preallocation | undefined;
  /** Bytes the file holds: `sizeBytes` plus zeros written ahead of the appends. */
  fileBytes = 0;

  private bytesSinceIndexEntry = 0;

  constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
    public handle: FileHandle,
    private readonly indexIntervalBytes: number,
  ) {
    this.sizeBytes = 0;
    this.nextOffset = baseOffset;
    this.offsetIndex = new SparseIndex("offset", baseOffset);
    this.timeIndex = new SparseIndex("time", baseOffset);
  }

  static create(
    fs: FileSystem,
    dir: string,
    baseOffset: number,
    indexIntervalBytes: number,
  ): Segment {
    const path = join(dir, segmentName(baseOffset) + LOG_SUFFIX);
    return new Segment(fs, dir, baseOffset, fs.open(path, "write"), indexIntervalBytes);
  }

  path(suffix = LOG_SUFFIX): string {
    return join(this.dir, segmentName(this.baseOffset) + suffix);
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  /** Appends an encoded batch whose header is already known; indexes it sparsely. */
  append(
    batch: Buffer,
    baseOffset: number,
    lastOffset: number,
    maxTimestamp: number,
    nowMs: number,
  ): number {
    const position = this.sizeBytes;
    this.handle.write(batch, position);
    const end = position + batch.length;
    if (end > this.fileBytes) this.fileBytes = end;
    if (this.preallocation !== undefined) this.preallocate(end, this.preallocation);
    this.track(batch.length, position, baseOffset, lastOffset, maxTimestamp);
    this.firstAppendAtMs ??= nowMs;
    this.dirty = true;
    return position;
  }

  private track(
    size: number,
    position: number,
    baseOffset: number,
    lastOffset: number,
    maxTimestamp: number,
  ): void {
    if (position === 0 || this.bytesSinceIndexEntry >= this.indexIntervalBytes) {
      this.offsetIndex.add(baseOffset, position);
      // Equal to the max so far still counts (the index skips repeated keys itself): with
      // `>`, an entry point that kept falling on a batch sharing its predecessor's timestamp
      // left whole stretches of a segment without time entries, and lookups walking them.
      if (maxTimestamp >= this.maxTimestamp) this.timeIndex.add(maxTimestamp, baseOffset);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += size;
    this.sizeBytes = position + size;
    this.nextOffset = lastOffset + 1;
    if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
  }

  /**
   * Keeps zeros written ahead of the appends. An fdatasync after a write that grows the file
   * must also journal the new length; one after a write over blocks already written and synced
   * only flushes the data (255 against 137-150 us a commit on an ext4 disk measured here), which
   * is what a commit per group costs under `fsync: "always"`. PostgreSQL zero-fills its WAL
   * segments for the same reason. Zeros past the batches read as no batch, which recovery
   * tells from a torn write (see `loadLog`); a sealed or closed segment is trimmed to its batches.
   */
  private preallocate(end: number, { maxAheadBytes, limitBytes }: Preallocation): void {
    if (end < Math.min(MIN_PREALLOCATION_BYTES, limitBytes / 4)) return;
    const ahead = Math.min(end, maxAheadBytes);
    if (this.fileBytes - end >= ahead / 2 || this.fileBytes >= limitBytes) return;
    const target = Math.min(end + ahead, limitBytes);
    this.zerosWritten = true;
    try {
      this.handle.write(Buffer.alloc(target - this.fileBytes), this.fileBytes);
      this.fileBytes = target;
    } catch {
      // A disk too full for the zeros is no reason to refuse the batch already written: the
      // file grows with the appends instead (and is trimmed at the seal, whatever got written).
    }
  }

  /** Set once zeros were written ahead (some may be there even if the write failed). */
  private zerosWritten = false;

  /** Cuts the zeros written ahead of the batches, so a sealed or closed file ends at its last batch. */
  trimPreallocation(): void {
    if (this.fileBytes <= this.sizeBytes && !this.zerosWritten) return;
    this.zerosWritten = false;
    this.handle.truncate(this.sizeBytes);
    this.fileBytes = this.sizeBytes;
    this.dirty = true;
  }

  /** Reads `length` bytes at `position` (fewer at the end of the file). */
  readBytes(position: number, length: number): Buffer {
    const n = Math.max(0, Math.min(length, this.sizeBytes - position));
    const buf = Buffer.allocUnsafe(n);
    const done = this.readInto(buf, position, n);
    return done === n ? buf : buf.subarray(0, done);
  }

  /** Reads up to `length` bytes at `position` into the start of `target`; returns how many. */
  private readInto(target: Buffer, position: number, length: number): number {
    const n = Math.max(0, Math.min(length, this.sizeBytes - position));
    let done = 0;
    while (done < n) {
      const read = this.handle.read(target, done, n - done, position + done);
      if (read === 0) break;
      done += read;
    }
    return done;
  }

  /** Header of the batch at `position`, or an error value. */
  headerAt(position: number): BatchHeader | SluiceError {
    return readBatchHeader(this.readBytes(position, BATCH_HEADER_BYTES), 0);
  }

  /**
   * Position of the first batch whose last offset is >= `offset`, or `sizeBytes` if none.
   * Index lookup, then a forward walk over batch headers (at most one index interval).
   */
  positionFor(offset: number, startPosition?: number): number {
    let position = startPosition ?? 0;
    let entryMatches: ((header: BatchHeader) => boolean) | undefined;
    if (startPosition === undefined) {
      const entry = this.offsetIndex.floor(offset);
      if (entry >= 0) {
        position = this.offsetIndex.valueAt(entry);
        const baseOffset = this.offsetIndex.keyAt(entry);
        entryMatches = (header) => header.baseOffset === baseOffset;
      }
    }
    const found = this.walkHeaders(
      position,
      (header) => lastOffsetOf(header) >= offset,
      entryMatches,
    );
    return found >= 0 ? found : this.rebuildIndexes().positionFor(offset);
  }

  /** Position of the first batch whose max timestamp is >= `timestampMs`, or `sizeBytes`. */
  positionForTimestamp(timestampMs: number): number {
    const entry = this.timeIndex.floor(timestampMs - 1);
    // The entry says batches from its offset on may reach its timestamp; earlier ones do not.
    let position = 0;
    let entryMatches: ((header: BatchHeader) => boolean) | undefined;
    if (entry >= 0) {
      const baseOffset = this.timeIndex.valueAt(entry);
      const maxTimestamp = this.timeIndex.keyAt(entry);
      position = this.positionFor(baseOffset);
      entryMatches = (header) =>
        header.baseOffset === baseOffset && header.maxTimestamp === maxTimestamp;
    }
    const found = this.walkHeaders(
      position,
      (header) => header.maxTimestamp >= timestampMs,
      entryMatches,
    );
    return found >= 0 ? found : this.rebuildIndexes().positionForTimestamp(timestampMs);
  }

  /**
   * The newest time among the batches before `endPosition`. The time index alone can be short
   * of it: an entry is taken only at an index point, and a producer's batch between two points
   * may carry a later time than any entry. Batches before the last entry's offset reach no
   * later time than its key (entries are taken at a new max), so only the headers from there
   * on are read.
   */
  maxTimestampBefore(endPosition: number): number {
    const last = this.timeIndex.length - 1;
    let max = last >= 0 ? this.timeIndex.keyAt(last) : -1;
    let position = last >= 0 ? this.positionFor(this.timeIndex.valueAt(last)) : 0;
    this.walkHeaders(position, (header) => {
      if (position >= endPosition) return true;
      if (header.maxTimestamp > max) max = header.maxTimestamp;
      position += header.sizeBytes;
      return false;
    });
    return max;
  }

  /**
   * Walks batch headers from `position` to the first that `found` accepts and returns its
   * position (`sizeBytes` if none), reading the file a window at a time into one reused buffer:
   * a walk covers up to an index interval of batches, and a read per header cost a system call
   * each. With `entryMatches`, the batch at `position` is where an index entry points: every
   * lookup checks the entry it uses against the file (a damaged or swapped entry is caught
   * where a load-time check of the last entry would not be), and -1 says it did not match.
   */
  private walkHeaders(
    position: number,
    found: (header: BatchHeader) => boolean,
    entryMatches?: (header: BatchHeader) => boolean,
  ): number {
    if (entryMatches !== undefined && position >= this.sizeBytes) return -1;
    let windowStart = position;
    let windowBytes = 0;
    let first = true;
    while (position < this.sizeBytes) {
      if (position + BATCH_HEADER_BYTES > windowStart + windowBytes) {
        windowStart = position;
        windowBytes = this.readInto(HEADER_WINDOW, position, HEADER_WINDOW.length);
      }
      const header = readBatchHeader(HEADER_WINDOW, position - windowStart, windowBytes);
      if (first && entryMatches !== undefined) {
        if (header instanceof SluiceError || !entryMatches(header)) return -1;
      }
      first = false;
      if (header instanceof SluiceError) throw this.corruptAt(position, header);
      if (found(header)) return position;
      position += header.sizeBytes;
    }
    return this.sizeBytes;
  }

  /**
   * Checks an index entry against the file before trusting it: a batch with that base offset
   * (and max timestamp) starts at that position. Every lookup checks the entry it uses, so a
   * damaged or swapped entry is caught where a load-time check of the last entry would not be.
   */
  private batchStartsAt(position: number, baseOffset: number, maxTimestamp?: number): boolean {
    if (position >= this.sizeBytes) return false;
    const header = this.headerAt(position);
    return (
      !(header instanceof SluiceError) &&
      header.baseOffset === baseOffset &&
      (maxTimestamp === undefined || header.maxTimestamp === maxTimestamp)
    );
  }

  private rebuilding = false;

  /** Rebuilds both indexes from the file (after an index entry failed its check). */
  private rebuildIndexes(): this {
    if (this.rebuilding)
      throw new SluiceError("SLUICE_INTERNAL", `rebuilt index of ${this.path()} is inconsistent`);
    this.rebuilding = true;
    try {
      const nextOffset = this.nextOffset;
      const result = this.scanAndIndex(0, this.sizeBytes);
      if (result.error) throw result.error;
      this.nextOffset = Math.max(nextOffset, this.nextOffset);
      this.indexesRebuilt++;
    } finally {
      this.rebuilding = false;
    }
    return this;
  }

  /** How often an index failed its check and was rebuilt (for tests and metrics). */
  indexesRebuilt = 0;

  /** Reads, verifies and decodes the batch at `position`; throws SLUICE_CORRUPT naming the segment. */
  batchAt(position: number): DecodedBatch {
    const first = this.headerAt(position);
    if (first instanceof SluiceError) throw this.corruptAt(position, first);
    const bytes = this.readBytes(position, first.sizeBytes);
    const header = checkBatch(bytes, 0);
    if (header instanceof SluiceError) throw this.corruptAt(position, header);
    const records = decodeRecords(bytes, 0, header);
    if (records instanceof SluiceError) throw this.corruptAt(position, records);
    return { header, bytes, records };
  }

  corruptAt(position: number, cause: SluiceError): SluiceError {
    return new SluiceError(
      "SLUICE_CORRUPT",
      `corrupt batch in segment ${this.path()} at byte ${position} (in offsets from ${this.baseOffset}): ${cause.message}; ` +
        "run `sluice log verify <dir>` to see the damage and `sluice log repair <dir>` to cut it out",
      {
        cause,
        details: { segment: this.path(), position, ...cause.details },
      },
    );
  }

  /**
   * Walks the batches from `fromPosition` to the end of the file, verifying each CRC, and
   * re-indexes them. Stops at the first invalid batch and reports where.
   */
  scanAndIndex(
    fromPosition: number,
    fileSize: number,
    visit?: (location: BatchLocation, batch: Buffer, at: number) => void,
  ): ScanResult {
    if (fromPosition === 0) {
      this.offsetIndex = new SparseIndex("offset", this.baseOffset);
      this.timeIndex = new SparseIndex("time", this.baseOffset);
      this.maxTimestamp = -1;
      this.bytesSinceIndexEntry = 0;
      this.nextOffset = this.baseOffset;
    } else {
      this.offsetIndex.truncateToValue(fromPosition + 1);
    }
    this.sizeBytes = fromPosition;
    let window: Buffer = Buffer.alloc(0);
    let windowStart = fromPosition;
    // Keeps a read-ahead window over the file so a scan costs one read per megabyte.
    const ensure = (position: number, length: number): boolean => {
      if (position >= windowStart && position + length <= windowStart + window.length) return true;
      if (position + length > fileSize) return false;
      window = this.readRaw(
        position,
        Math.max(length, Math.min(SCAN_CHUNK_BYTES, fileSize - position)),
      );
      windowStart = position;
      return window.length >= length;
    };
    let position = fromPosition;
    while (position < fileSize) {
      const fail = (error: SluiceError): ScanResult => ({
        validEndPosition: position,
        error: this.corruptAt(position, error),
      });
      if (!ensure(position, BATCH_HEADER_BYTES)) {
        return fail(
          new SluiceError("SLUICE_CORRUPT", "truncated batch header", {
            details: { available: fileSize - position },
          }),
        );
      }
      const header = readBatchHeader(window, position - windowStart);
      if (header instanceof SluiceError) return fail(header);
      if (!ensure(position, header.sizeBytes)) {
        return fail(
          new SluiceError("SLUICE_CORRUPT", "truncated batch", {
            details: { sizeBytes: header.sizeBytes, available: fileSize - position },
          }),
        );
      }
      const at = position - windowStart;
      const checked = checkBatch(window, at);
      if (checked instanceof SluiceError) return fail(checked);
      if (checked.baseOffset < this.nextOffset && position > 0) {
        return fail(
          new SluiceError(
            "SLUICE_CORRUPT",
            `offsets go backwards (${checked.baseOffset} after ${this.nextOffset - 1})`,
          ),
        );
      }
      visit?.({ header: checked, position }, window, at);
      this.track(
        checked.sizeBytes,
        position,
        checked.baseOffset,
        lastOffsetOf(checked),
        checked.maxTimestamp,
      );
      position += checked.sizeBytes;
    }
    return { validEndPosition: position };
  }

  /** Reads the file itself at `position`, past `sizeBytes` too (recovery looks beyond the damage). */
  readRaw(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = this.handle.read(buf, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buf : buf.subarray(0, done);
  }

  /**
   * Loads persisted indexes if they are plausible for this file, so a sealed segment opens
   * without a scan. Returns false when they are missing or stale (the caller then scans).
   */
  loadIndexes(fileSize: number): boolean {
    if (!this.fs.exists(this.path(INDEX_SUFFIX)) || !this.fs.exists(this.path(TIME_INDEX_SUFFIX)))
      return false;
    const offsets = SparseIndex.decode(
      "offset",
      this.baseOffset,
      this.fs.readFile(this.path(INDEX_SUFFIX)),
    );
    const times = SparseIndex.decode(
      "time",
      this.baseOffset,
      this.fs.readFile(this.path(TIME_INDEX_SUFFIX)),
    );
    if (offsets === undefined || times === undefined) return false;
    if (fileSize > 0 && (offsets.length === 0 || offsets.valueAt(0) !== 0)) return false;
    this.sizeBytes = fileSize;
    // Every entry in order and inside the file; the last checked against the file here, the
    // others whenever a lookup uses them.
    for (let i = 0; i < offsets.length; i++) {
      if (offsets.keyAt(i) < this.baseOffset || offsets.valueAt(i) >= fileSize) return false;
      if (i > 0 && offsets.valueAt(i) <= offsets.valueAt(i - 1)) return false;
    }
    for (let i = 0; i < times.length; i++) {
      if (times.valueAt(i) < this.baseOffset) return false;
      if (i > 0 && times.valueAt(i) < times.valueAt(i - 1)) return false;
    }
    if (offsets.length > 0) {
      const last = offsets.length - 1;
      if (!this.batchStartsAt(offsets.valueAt(last), offsets.keyAt(last))) return false;
    }
    this.offsetIndex = offsets;
    this.timeIndex = times;
    return true;
  }

  /** Persists both indexes (atomically each). */
  async writeIndexes(): Promise<void> {
    if (this.deleted) return; // retention got there first: its files must stay gone
    await this.fs.writeFileAtomic(this.path(INDEX_SUFFIX), this.offsetIndex.encode());
    await this.fs.writeFileAtomic(this.path(TIME_INDEX_SUFFIX), this.timeIndex.encode());
  }

  /** Cuts the file after `position` (a batch boundary) and forgets index entries past it. */
  truncate(position: number): void {
    this.handle.truncate(position);
    this.offsetIndex.truncateToValue(position);
    this.sizeBytes = position;
    this.fileBytes = position;
    this.dirty = true;
  }

  /** Syncs the file; what was written before the call is then durable. */
  sync(options?: SyncOptions): Promise<void> {
    this.dirty = false;
    const syncing = this.handle.sync(options);
    this.syncing = syncing.finally(() => {
      if (this.syncing === tracked) this.syncing = undefined;
    });
    const tracked = this.syncing;
    tracked.catch(() => undefined); // the caller of sync() sees the failure; waiters see it too
    return syncing;
  }

  /**
   * The fsync in flight, if any. A segment that is no longer dirty may still be syncing (its
   * seal started it): a group commit must wait for that too before acknowledging anything.
   */
  syncing: Promise<void> | undefined;

  close(): void {
    this.handle.close();
  }

  /**
   * Closes the segment and removes its files off the event loop. Once called, nothing reads or
   * writes it; the caller has already made the log's start durable past it, so files that a
   * crash leaves behind are removed by recovery.
   */
  remove(): Promise<void> {
    this.deleted = true;
    this.handle.close();
    return Promise.all(
      [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX].map((suffix) =>
        this.fs.unlinkAsync(this.path(suffix)),
      ),
    ).then(() => undefined);
  }

  /** Closes and removes the segment's files. */
  delete(): void {
    this.deleted = true;
    this.handle.close();
    for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX])
      this.fs.unlink(this.path(suffix));
  }
}
