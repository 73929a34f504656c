export { Log, openLog, RECOVERY_POINT_FILE, LOG_START_FILE } from "./log.js";
export type { AppendOptions, AppendResult, ReadOptions, SegmentInfo, TailOptions } from "./log.js";
export type { CleanupPolicy, FsyncPolicy, LogOptions } from "./log-options.js";
export type { LogRecord, RecordHeader, RecordInput } from "./record.js";
export type { RecoveryReport } from "./recovery.js";
export { compactLog } from "./compactor.js";
export {
  CONTROL_BIT,
  TRANSACTIONAL_BIT,
  encodeMarker,
  isControlBatch,
  isTransactionalBatch,
  markerTypeOf,
} from "./transaction-marker.js";
export type { MarkerType } from "./transaction-marker.js";
export type { CompactableLog, CompactionMark, CompactionResult } from "./compactor.js";
export {
  encodeBatch,
  RecordBatchBuilder,
  decodeRecords,
  decodeRecordsInto,
  decodeBatches,
  visitRecords,
  emptyRecordView,
  logRecord,
  checkBatch,
  readBatchHeader,
  BATCH_HEADER_BYTES,
} from "./record-batch.js";
export type {
  BatchHeader,
  BatchProducer,
  RecordFactory,
  RecordRange,
  RecordView,
  RecordVisitor,
} from "./record-batch.js";
export type { BatchKind, RawBatchTrust } from "./produced-batch.js";
export type { BatchRelease } from "./tail-cache.js";
export {
  registerCodec,
  codecById,
  codecByName,
  CompressionCodec,
  MAX_DECOMPRESSED_BATCH_BYTES,
} from "./compression.js";
export type { Codec, CompressionName } from "./compression.js";
export {
  NodeFileSystem,
  nodeFileSystem,
  makeDirectory,
  removeCreatedDirectories,
} from "./file-system.js";
export type { FileHandle, FileSystem, OpenMode } from "./file-system.js";
export {
  SimulatedFileSystem,
  seededRandom,
  SIMULATED_PAGE_BYTES,
} from "./simulated-file-system.js";
export type { CrashFate, CrashOptions } from "./simulated-file-system.js";
export type { FaultSeams } from "./fault-seams.js";
export { inspectLog, repairLog } from "./log-inspector.js";
export type { Corruption, InspectVisitor, RepairReport, SegmentReport } from "./log-inspector.js";
export { loadLog } from "./log-loader.js";
export { utf8Length, writeUtf8 } from "./short-text.js";
export type { LoadedLog } from "./log-loader.js";
export { findResyncPoint } from "./recovery.js";
export type { ResyncPoint } from "./recovery.js";
