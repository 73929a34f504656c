import { SluiceError } from "../../errors/index.js";
import type { LogRecord } from "../../engine/index.js";
import type { MessageAttributeValue } from "./queue-service.js";
import { MessageAttributeSet } from "./message-attribute-set.js";
import { BINARY_HEADER_FORMAT, type MessageHeader, decodeHeader } from "./message-header.js";
import type { Writable } from "./writable.js";
import { setOwnEntry } from "../own-entry.js";

/**
 * How a queue's log holds its messages and its journal. Every record's key is one byte naming
 * its kind: "m" a message (body as the value, everything else in the "m" header: binary, see
 * `message-header.ts`, or JSON in records of the first format), and
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

/**
 * Everything about a message except its body, as the first record format stored it: JSON in
 * the record's "m" header (still read), and as the NATS backend stores it.
 */
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
    setOwnEntry(
      out,
      name,
      value.BinaryValue !== undefined
        ? { t: value.DataType, b: Buffer.from(value.BinaryValue).toString("base64") }
        : { t: value.DataType, s: value.StringValue ?? "" },
    );
  return out;
}

export function decodeAttributes(
  stored: Record<string, StoredAttribute>,
): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(stored))
    setOwnEntry(
      out,
      name,
      "b" in value
        ? { DataType: value.t, BinaryValue: new Uint8Array(Buffer.from(value.b, "base64")) }
        : { DataType: value.t, StringValue: value.s },
    );
  return out;
}

/** The record header holding a message's header (binary, or JSON in the first format). */
export const MESSAGE_HEADER_KEY = "m";

/** The header of a message record, in either format (binary, or the first one's JSON). */
export function readHeader(record: LogRecord): MessageHeader {
  const header = record.headers.find((h) => h.key === MESSAGE_HEADER_KEY);
  if (header?.value == null) throw corrupt(record, "a message record without its meta header");
  if (header.value[0] === BINARY_HEADER_FORMAT) {
    try {
      return decodeHeader(header.value);
    } catch (cause) {
      throw corrupt(record, "a message header that does not decode", cause);
    }
  }
  let meta: MessageMeta;
  try {
    meta = JSON.parse(header.value.toString("utf8")) as MessageMeta;
  } catch (cause) {
    throw corrupt(record, "a message meta header that is not JSON", cause);
  }
  return fromJsonMeta(meta);
}

/** The in-memory header of a message stored as JSON meta (first format, NATS entries). */
export function fromJsonMeta(meta: MessageMeta): MessageHeader {
  const { a, y, ...rest } = meta;
  const header: Writable<MessageHeader> = rest;
  const attributes = a === undefined ? undefined : MessageAttributeSet.of(decodeAttributes(a));
  if (attributes !== undefined) header.a = attributes;
  const system = y === undefined ? undefined : MessageAttributeSet.of(decodeAttributes(y));
  if (system !== undefined) header.y = system;
  return header;
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
