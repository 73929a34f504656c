import { SluiceError } from "../errors/index.js";
import { checkBatch } from "./record-batch.js";
import type { Segment } from "./segment.js";

/** What `openLog` found and fixed; also what `sluice log verify` prints. */
export interface RecoveryReport {
  /** Segments whose batches were all CRC-checked on open. */
  readonly scannedSegments: number;
  readonly scannedBytes: number;
  /** Segments whose persisted indexes were missing or stale and were rebuilt. */
  readonly rebuiltIndexes: number;
  /** Bytes cut from a torn or corrupt tail (never from the middle). */
  readonly truncatedBytes: number;
  /** Segments after a torn tail that were removed whole. */
  readonly removedSegments: number;
  readonly durationMs: number;
}

/**
 * After a bad batch at `position`, looks for any valid batch later in the segment with a
 * larger offset. Finding one means the damage is in the middle of the data, not a torn tail.
 */
export function findValidBatchAfter(
  segment: Segment,
  position: number,
  fileSize: number,
  afterOffset: number,
): number | undefined {
  const rest = segment.readBytes(position, fileSize - position);
  for (let at = 1; at + 61 <= rest.length; at++) {
    if (rest[at + 16] !== 2) continue;
    const length = rest.readInt32BE(at + 8);
    if (length < 49 || at + 12 + length > rest.length) continue;
    const header = checkBatch(rest, at);
    if (!(header instanceof SluiceError) && header.baseOffset > afterOffset) return position + at;
  }
  return undefined;
}

export function middleCorruption(
  segment: Segment,
  position: number,
  validAt: number | undefined,
  cause: SluiceError,
): SluiceError {
  const after =
    validAt === undefined
      ? "in data that was already synced"
      : `and has valid data again at byte ${validAt}`;
  return new SluiceError(
    "SLUICE_CORRUPT",
    `corruption in the middle of the log: segment ${segment.path()} is damaged at byte ${position} (offset ${segment.nextOffset}) ` +
      `${after}; run \`sluice log verify\` to see it and \`sluice log repair\` to fix it`,
    { cause, details: { segment: segment.path(), position, offset: segment.nextOffset, validAt } },
  );
}
