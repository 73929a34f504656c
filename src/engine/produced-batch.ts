import { SluiceError, invalid } from "../errors/index.js";
import { MAX_DECOMPRESSED_BATCH_BYTES, codecById } from "./compression.js";
import {
  type BatchHeader,
  checkBatch,
  readBatchHeader,
  recordsSection,
  scanRecords,
} from "./record-batch.js";
import { CONTROL_BIT, TRANSACTIONAL_BIT } from "./transaction-marker.js";

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE = 0x08;

export interface ProducedBatchLimits {
  readonly maxBatchBytes: number;
  readonly maxRecordBytes: number;
}

/**
 * Which batches an append accepts. "data": plain batches only (the default). "transactional":
 * also batches of a producer's transaction (a client's produce, once its transaction is
 * checked). "control": a transaction marker, which only the broker-side writer (the
 * transaction coordinator) may write.
 */
export type BatchKind = "data" | "transactional" | "control";

/**
 * How far `appendRawBatch` trusts a batch: "unchecked" (a client's bytes), "checked" (the caller
 * validated these bytes whole), "encoded-here" (built by this process and handed over).
 */
export type RawBatchTrust = "unchecked" | "checked" | "encoded-here";

/** A validation error that carries the decoder's whole reason (not cut short like a value). */
function rejected(field: string, expected: string, cause: SluiceError): SluiceError {
  return new SluiceError("SLUICE_VALIDATION", `${field}: expected ${expected}: ${cause.message}`, {
    field,
    cause,
  });
}

/**
 * Checks a RecordBatch v2 sent by a producer before any of it reaches disk, as Kafka's log
 * validator does: header and CRC; exactly one batch; within `maxBatchBytes`; a plain data batch
 * (transactional and control batches come only through the API that owns them); a known codec;
 * at least one record, with the record count, the last offset delta and each record's offset
 * delta consistent (0, 1, 2, ...); every record decodes (decompressing no more than the 64 MiB
 * cap) and fits `maxRecordBytes`; and the header's max timestamp is the records' (for
 * CreateTime). Returns the header; throws SLUICE_VALIDATION naming the field. Without
 * `checkRecords` (a batch this process encoded) the CRC and the records are trusted: they are
 * sound by construction, and checking them would be a second pass over every byte.
 */
export function validateProducedBatch(
  batch: Buffer,
  limits: ProducedBatchLimits,
  kind: BatchKind = "data",
  checkRecords = true,
): BatchHeader {
  if (!Buffer.isBuffer(batch)) throw invalid("batch", "a Buffer holding one RecordBatch v2", batch);
  const header = checkRecords ? checkBatch(batch, 0) : readBatchHeader(batch, 0);
  if (header instanceof SluiceError) throw rejected("batch", "a valid RecordBatch v2", header);
  if (header.sizeBytes !== batch.length)
    throw invalid(
      "batch",
      `exactly one batch of ${header.sizeBytes} bytes`,
      `${batch.length} bytes`,
    );
  if (batch.length > limits.maxBatchBytes)
    throw invalid(
      "batch",
      `a batch of at most ${limits.maxBatchBytes} bytes`,
      `${batch.length} bytes`,
    );
  const attributes = header.attributes;
  const bits = attributes & (TRANSACTIONAL_BIT | CONTROL_BIT);
  const kindMatches =
    kind === "data"
      ? bits === 0
      : kind === "transactional"
        ? (bits & CONTROL_BIT) === 0
        : bits === (TRANSACTIONAL_BIT | CONTROL_BIT);
  if (!kindMatches)
    throw invalid(
      "batch.attributes",
      kind === "control"
        ? "a control batch (transactional and control bits set)"
        : kind === "transactional"
          ? "a data batch (control batches are written only by the transaction coordinator)"
          : "a non-transactional data batch (transactional and control batches have their own API)",
      `0x${attributes.toString(16)}`,
    );
  if (kind === "control" && header.producerId < 0)
    throw invalid("batch.producerId", "the producer id the marker closes", header.producerId);
  if ((attributes & ~(COMPRESSION_MASK | TIMESTAMP_TYPE | TRANSACTIONAL_BIT | CONTROL_BIT)) !== 0)
    throw invalid(
      "batch.attributes",
      "only codec and timestamp-type bits",
      `0x${attributes.toString(16)}`,
    );
  const codec = attributes & COMPRESSION_MASK;
  if (codec !== 0 && codecById(codec) === undefined)
    throw invalid("batch.attributes", "a compression codec this log has registered", codec);
  if (header.recordCount < 1)
    throw invalid("batch.recordCount", "at least 1 record", header.recordCount);
  if (header.lastOffsetDelta !== header.recordCount - 1)
    throw invalid(
      "batch.lastOffsetDelta",
      `recordCount - 1 (${header.recordCount - 1})`,
      header.lastOffsetDelta,
    );
  // A batch this process encoded itself (checkRecords false) has sound records by construction.
  if (!checkRecords) return header;
  // One pass over the records, building none of them (a producer's batch is stored as it is).
  const section = recordsSection(batch, 0, header, MAX_DECOMPRESSED_BATCH_BYTES);
  const scan =
    section instanceof SluiceError ? section : scanRecords(section, header, limits.maxRecordBytes);
  if (scan instanceof SluiceError) throw rejected("batch.records", "records that decode", scan);
  const bad = scan.outOfLine;
  if (bad !== undefined && bad.offsetDelta !== bad.index)
    throw invalid(`batch.records[${bad.index}].offsetDelta`, String(bad.index), bad.offsetDelta);
  if (bad !== undefined)
    throw invalid(
      `batch.records[${bad.index}]`,
      `a record of at most ${limits.maxRecordBytes} bytes (key + value + headers)`,
      `${bad.sizeBytes} bytes`,
    );
  const maxTimestamp = scan.maxTimestamp;
  if ((attributes & TIMESTAMP_TYPE) === 0 && header.maxTimestamp !== maxTimestamp)
    throw invalid(
      "batch.maxTimestamp",
      `the records' largest timestamp (${maxTimestamp})`,
      header.maxTimestamp,
    );
  return header;
}
