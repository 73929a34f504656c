import type { RecordHeader, RecordInput } from "../../engine/index.js";
import { isList } from "./input-checks.js";
import type { Partitioner } from "./partitioner.js";
import { TopicError, invalidTopicInput, unknownTopic } from "./topic-error.js";
import type { ProducerRecord } from "./topic-producer.js";

/** Bytes a record adds to a batch beyond key, value and headers (varints, attributes). */
export const RECORD_OVERHEAD_BYTES = 8;

/** A record checked and placed: its partition, its engine form and its size in a batch. */
export interface PreparedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly input: RecordInput;
  readonly size: number;
}

/** What a producer knows of the record's topic when it checks the record. */
export interface RecordContext {
  /** The topic's partition count, undefined when there is no such topic. */
  partitionCount(topic: string): number | undefined;
  /** The topic's maxMessageBytes. */
  maxMessageBytes(topic: string): number;
  readonly maxRequestBytes: number;
  /** The time a record without a timestamp gets. */
  now(): number;
  readonly partitioner: Partitioner;
}

function toBuffer(value: unknown, field: string, nullable: boolean): Buffer | null {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value === null || (value === undefined && field.endsWith("key"))) {
    if (nullable) return null;
  }
  throw invalidTopicInput(
    field,
    `a Buffer, a string${nullable ? " or null" : ""}`,
    value,
    "INVALID_RECORD",
  );
}

/**
 * Checks a producer record field by field (typed errors naming the field: unknown topic or
 * partition, bad key, value, headers or timestamp, a record over the size limits) and places
 * it with the partitioner unless it names its partition. Every backend's producer uses this,
 * so they refuse and place records alike.
 */
export function prepareRecord(
  record: ProducerRecord,
  prefix: string,
  context: RecordContext,
): PreparedRecord {
  if (record === null || typeof record !== "object")
    throw invalidTopicInput(`${prefix}record`, "a record object", record, "INVALID_RECORD");
  const topic = record.topic;
  const count = typeof topic === "string" ? context.partitionCount(topic) : undefined;
  if (count === undefined) throw unknownTopic(String(topic), undefined, `${prefix}topic`);
  const key = toBuffer(record.key ?? null, `${prefix}key`, true);
  const value = toBuffer(record.value, `${prefix}value`, true);
  let headerBytes = 0;
  let headers: RecordHeader[] | undefined;
  if (record.headers !== undefined) {
    if (!isList(record.headers))
      throw invalidTopicInput(
        `${prefix}headers`,
        "an array of { key, value }",
        record.headers,
        "INVALID_RECORD",
      );
    headers = record.headers.map((h, i) => {
      if (typeof h?.key !== "string")
        throw invalidTopicInput(`${prefix}headers[${i}].key`, "a string", h?.key, "INVALID_RECORD");
      const v = toBuffer(h.value, `${prefix}headers[${i}].value`, true);
      headerBytes += Buffer.byteLength(h.key) + (v?.length ?? 0);
      return { key: h.key, value: v };
    });
  }
  const timestamp = record.timestamp ?? context.now();
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw invalidTopicInput(
      `${prefix}timestamp`,
      "milliseconds since the epoch",
      record.timestamp,
      "INVALID_RECORD",
    );
  const max = Math.min(context.maxMessageBytes(topic), context.maxRequestBytes);
  const keyBytes = key?.length ?? 0;
  const valueBytes = value?.length ?? 0;
  const size = keyBytes + valueBytes + headerBytes;
  if (size > max) {
    const part = keyBytes > max ? "key" : keyBytes + valueBytes > max ? "value" : "headers";
    throw new TopicError(
      "MESSAGE_TOO_LARGE",
      `${prefix}${part}: a record of at most ${max} bytes (key + value + headers), got ${size} bytes`,
      `${prefix}${part}`,
      { sizeBytes: size, maxMessageBytes: max },
    );
  }
  let partition: number;
  if (record.partition !== undefined) {
    partition = record.partition;
    if (!Number.isInteger(partition) || partition < 0 || partition >= count)
      throw unknownTopic(topic, partition, `${prefix}partition`);
  } else partition = context.partitioner.partition(topic, key, count);
  const input: RecordInput =
    headers === undefined ? { key, value, timestamp } : { key, value, timestamp, headers };
  return { topic, partition, input, size: size + RECORD_OVERHEAD_BYTES };
}
