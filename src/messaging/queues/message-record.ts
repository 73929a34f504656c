import { SluiceError } from "../../errors/index.js";
import type { LogRecord, RecordHeader, RecordInput } from "../../engine/index.js";
import type { MessageAttributeValue } from "./queue-service.js";

/**
 * How a queue's log holds its messages and its journal. Every record's key is one byte naming
 * its kind: "m" a message (body as the value, everything else as JSON in the "m" header), and
 * journal entries that change message state, each a JSON value naming messages by sequence
 * number: "r" received, "d" deleted, "c" visibility changed, "p" purged, and "y" a new
 * FIFO queue delay applied to the messages never received; "w" carries the FIFO deduplication
 * window and receive attempts forward when compaction drops the records that held them.
 */
export const MESSAGE_KEY = Buffer.from("m");
export const RECEIVE_KEY = Buffer.from("r");
export const DELETE_KEY = Buffer.from("d");
export const CHANGE_KEY = Buffer.from("c");
export const PURGE_KEY = Buffer.from("p");
export const DELAY_KEY = Buffer.from("y");
/** FIFO deduplication entries and receive attempts carried past a compaction (binary). */
export const WINDOW_KEY = Buffer.from("w");

type StoredAttribute = { t: string; s: string } | { t: string; b: string };

/** Everything about a message except its body, as stored in the record's "m" header. */
export interface MessageMeta {
  /** MessageId. */
  readonly i: string;
  /** MessageGroupId. */
  readonly g?: string;
  /** MessageDeduplicationId (explicit or the content hash). */
  readonly d?: string;
  /** Message attributes. */
  readonly a?: Record<string, StoredAttribute>;
  /** Message system attributes (AWSTraceHeader). */
  readonly y?: Record<string, StoredAttribute>;
  /** Visible from (delay), ms since epoch. */
  readonly v?: number;
  /** DeadLetterQueueSourceArn. */
  readonly src?: string;
  /** SentTimestamp when it differs from the record's (moved or carried messages). */
  readonly st?: number;
  // Carried-forward state: when compaction rewrites a live message, its state comes along.
  /** Sequence number. */
  readonly q?: number;
  readonly rc?: number;
  readonly fr?: number;
  readonly rt?: number;
  /** In flight until (ms since epoch). */
  readonly due?: number;
}

export function encodeAttributes(
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): Record<string, StoredAttribute> {
  const out: Record<string, StoredAttribute> = {};
  for (const [name, value] of Object.entries(attributes))
    out[name] =
      value.BinaryValue !== undefined
        ? { t: value.DataType, b: Buffer.from(value.BinaryValue).toString("base64") }
        : { t: value.DataType, s: value.StringValue ?? "" };
  return out;
}

export function decodeAttributes(
  stored: Record<string, StoredAttribute>,
): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(stored))
    out[name] =
      "b" in value
        ? { DataType: value.t, BinaryValue: new Uint8Array(Buffer.from(value.b, "base64")) }
        : { DataType: value.t, StringValue: value.s };
  return out;
}

export function messageRecord(body: Buffer, meta: MessageMeta): RecordInput {
  const headers: RecordHeader[] = [{ key: "m", value: Buffer.from(JSON.stringify(meta), "utf8") }];
  return { key: MESSAGE_KEY, value: body, headers };
}

export function journalRecord(key: Buffer, entry: object): RecordInput {
  return { key, value: Buffer.from(JSON.stringify(entry), "utf8") };
}

/** The meta header of a message record. */
export function readMeta(record: LogRecord): MessageMeta {
  const header = record.headers.find((h) => h.key === "m");
  if (header?.value == null) throw corrupt(record, "a message record without its meta header");
  try {
    return JSON.parse(header.value.toString("utf8")) as MessageMeta;
  } catch (cause) {
    throw corrupt(record, "a message meta header that is not JSON", cause);
  }
}

/** The JSON value of a journal record. */
export function readJournal<T>(record: LogRecord): T {
  if (record.value === null) throw corrupt(record, "a journal record without a value");
  try {
    return JSON.parse(record.value.toString("utf8")) as T;
  } catch (cause) {
    throw corrupt(record, "a journal record that is not JSON", cause);
  }
}

export interface ReceiveEntry {
  /** Sequence numbers received. */
  readonly s: number[];
  /** In flight until. */
  readonly v: number;
  /** FIFO ReceiveRequestAttemptId, if the receive had one. */
  readonly a?: string;
}
export interface DeleteEntry {
  readonly s: number[];
}
export interface ChangeEntry {
  readonly s: number[];
  /** New deadlines, one per sequence number. */
  readonly v: number[];
  /** Set when a retried receive resets its own attempt's visibility. */
  readonly a?: string;
}
export interface DelayEntry {
  /** The queue's new DelaySeconds, in ms, counted from each message's send time. */
  readonly d: number;
}

export interface PurgeEntry {
  /** Every message with a lower sequence number is gone. */
  readonly b: number;
}

function corrupt(record: LogRecord, what: string, cause?: unknown): SluiceError {
  return new SluiceError(
    "SLUICE_CORRUPT",
    `queue log offset ${record.offset}: ${what}`,
    cause === undefined ? {} : { cause },
  );
}
