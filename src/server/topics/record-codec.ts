import type { ConsumerRecord, ProducerRecord } from "../../messaging/topics/index.js";

export type BytesEncoding = "utf8" | "base64";

/** A record as the REST API and the streams send it: bytes as text in the chosen encoding. */
export interface RecordJson {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: string | null }>;
}

export interface ProducerRecordJson {
  readonly key?: string | null;
  readonly value?: string | null;
  readonly partition?: number;
  readonly timestamp?: number;
  readonly headers?: ReadonlyArray<{ readonly key: string; readonly value?: string | null }>;
}

const toText = (bytes: Buffer | null, encoding: BytesEncoding): string | null =>
  bytes === null ? null : bytes.toString(encoding);

const toBytes = (text: string | null | undefined, encoding: BytesEncoding): Buffer | null =>
  text === null || text === undefined ? null : Buffer.from(text, encoding);

export function encodeRecord(record: ConsumerRecord, encoding: BytesEncoding): RecordJson {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: toText(record.key, encoding),
    value: toText(record.value, encoding),
    headers: record.headers.map((h) => ({ key: h.key, value: toText(h.value, encoding) })),
  };
}

/** A REST record as the producer takes it (UTF-8 text is passed as a string, unconverted). */
export function decodeProducerRecord(
  topic: string,
  record: ProducerRecordJson,
  encoding: BytesEncoding,
): ProducerRecord {
  const bytes = (text: string | null | undefined): Buffer | string | null =>
    encoding === "utf8" ? (text ?? null) : toBytes(text, encoding);
  return {
    topic,
    value: bytes(record.value),
    ...(record.key === undefined ? {} : { key: bytes(record.key) }),
    ...(record.partition === undefined ? {} : { partition: record.partition }),
    ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
    ...(record.headers === undefined
      ? {}
      : { headers: record.headers.map((h) => ({ key: h.key, value: bytes(h.value) })) }),
  };
}
