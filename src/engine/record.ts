/** A header on a record: a UTF-8 key and an optional byte value (Kafka's record header). */
export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

/** What a producer hands to `append`. A null value with a key is a tombstone under compaction. */
export interface RecordInput {
  readonly key?: Buffer | null;
  readonly value: Buffer | null;
  /** Milliseconds since the epoch; defaults to the log's clock. Must not go backwards in a log. */
  readonly timestamp?: number;
  readonly headers?: readonly RecordHeader[];
}

/** A record as stored, with the offset and timestamp the log gave it. */
export interface LogRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}
