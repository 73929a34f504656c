import type { RecordInput, RecordView } from "../engine/index.js";
import { SluiceError } from "../errors/index.js";
import type { EventMetadata, JsonValue, RecordedEvent } from "./event-store.js";
import type { PreparedEvent } from "./event-validation.js";

/**
 * How the embedded store lays an event into an engine record. The key holds everything the
 * stream index needs (`stream \n version \n type \n schemaVersion \n id \n idGiven`), so
 * rebuilding the index on open never parses event data; the value is `{"d":data,"m":metadata}`.
 * Names and ids cannot hold control characters, so the newline separator is unambiguous (and a
 * newline byte never occurs inside a multi-byte UTF-8 character).
 */
export interface EventKey {
  readonly stream: string;
  readonly version: number;
  readonly type: string;
  readonly schemaVersion: number;
  /** Whether the caller chose the id (only those are indexed for idempotent retries). */
  readonly idGiven: boolean;
}

/** The engine record for one prepared event. */
export function encodeEvent(
  stream: string,
  version: number,
  event: PreparedEvent,
  timestamp: number,
): RecordInput {
  const key = `${stream}\n${version}\n${event.type}\n${event.schemaVersion}\n${event.id}\n${event.idGiven ? 1 : 0}`;
  return {
    key: Buffer.from(key),
    value: Buffer.from(`{"d":${event.dataJson},"m":${event.metadataJson}}`),
    timestamp,
  };
}

const NEWLINE = 0x0a;
const ZERO = 0x30;
/** Digits of the largest safe integer minus one: more cannot be a version. */
const MAX_DIGITS = 15;
/** `{"d":` and `,"m":{}}`: a value with these ends has empty metadata and its data in between. */
const VALUE_HEAD = Buffer.from(`{"d":`);
const EMPTY_METADATA_TAIL = Buffer.from(`,"m":{}}`);

/**
 * Decodes stored events straight from the engine's batch bytes, with no intermediate record,
 * buffer or key-part objects. One decoder serves one read at a time (its key is reused); names
 * and types repeat from event to event, so their strings are kept and matched by bytes.
 */
export class EventRecordDecoder {
  private readonly streams = new StringCache(8);
  private readonly types = new StringCache(32);
  private idStart = 0;
  private idEnd = 0;
  /** The key decoded last: overwritten by the next `readKey`. */
  readonly key = { stream: "", version: 0, type: "", schemaVersion: 0, idGiven: false };

  /** Decodes the key of `view` into `this.key` without touching the event's data. */
  readKey(view: RecordView): EventKey {
    const { buf, keyStart, keyEnd } = view;
    if (keyStart < 0) throw corrupt(view, "key");
    const streamEnd = findNewline(buf, keyStart, keyEnd);
    const versionEnd = nextNewline(buf, streamEnd, keyEnd);
    const typeEnd = nextNewline(buf, versionEnd, keyEnd);
    const schemaEnd = nextNewline(buf, typeEnd, keyEnd);
    const idEnd = nextNewline(buf, schemaEnd, keyEnd);
    if (idEnd < 0 || keyEnd - idEnd !== 2) throw corrupt(view, "key");
    const version = readDigits(buf, streamEnd + 1, versionEnd);
    const schemaVersion = readDigits(buf, typeEnd + 1, schemaEnd);
    if (version < 0 || schemaVersion < 0) throw corrupt(view, "key");
    const key = this.key;
    key.stream = this.streams.get(buf, keyStart, streamEnd);
    key.version = version;
    key.type = this.types.get(buf, versionEnd + 1, typeEnd);
    key.schemaVersion = schemaVersion;
    key.idGiven = buf[idEnd + 1] === ZERO + 1;
    this.idStart = schemaEnd + 1;
    this.idEnd = idEnd;
    return key;
  }

  /** The id of the event whose key was read last. */
  id(view: RecordView): string {
    return utf8(view.buf, this.idStart, this.idEnd);
  }

  /** The recorded event `view` holds; its key must have been read with `readKey`. */
  readEvent(view: RecordView): RecordedEvent {
    const key = this.key;
    const { buf, valueStart, valueEnd } = view;
    let data: JsonValue;
    let metadata: EventMetadata;
    try {
      if (valueStart < 0) throw new Error("null value");
      if (
        hasBytes(buf, valueStart, VALUE_HEAD) &&
        hasBytes(buf, valueEnd - EMPTY_METADATA_TAIL.length, EMPTY_METADATA_TAIL) &&
        valueEnd - valueStart > VALUE_HEAD.length + EMPTY_METADATA_TAIL.length
      ) {
        // Most events carry no metadata: parsing only the data costs half of parsing the whole.
        data = JSON.parse(
          utf8(buf, valueStart + VALUE_HEAD.length, valueEnd - EMPTY_METADATA_TAIL.length),
        ) as JsonValue;
        metadata = {};
      } else {
        const body = JSON.parse(utf8(buf, valueStart, valueEnd)) as {
          d: JsonValue;
          m: EventMetadata;
        };
        data = body.d;
        metadata = body.m;
      }
    } catch {
      throw corrupt(view, "value");
    }
    return {
      id: this.id(view),
      stream: key.stream,
      type: key.type,
      schemaVersion: key.schemaVersion,
      data,
      metadata,
      version: key.version,
      position: view.offset,
      timestamp: view.timestamp,
    };
  }
}

/** Position of the first newline in `buf[from, end)`, or -1. */
function findNewline(buf: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === NEWLINE) return i;
  return -1;
}

/** The newline ending the field after the separator at `separator`; -1 if none (or none before). */
function nextNewline(buf: Buffer, separator: number, end: number): number {
  return separator < 0 ? -1 : findNewline(buf, separator + 1, end);
}

/** The decimal number in `buf[from, end)`, or -1 when it is empty, not digits or too long. */
function readDigits(buf: Buffer, from: number, end: number): number {
  if (end <= from || end - from > MAX_DIGITS) return -1;
  let value = 0;
  for (let i = from; i < end; i++) {
    const digit = buf[i]! - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * `buf.toString("utf8", start, end)` without its argument handling, which costs as much as the
 * decoding itself for the short strings of an event (`utf8Slice` is what it ends up calling).
 */
function utf8(buf: Buffer, start: number, end: number): string {
  return (buf as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(start, end);
}

function hasBytes(buf: Buffer, at: number, bytes: Buffer): boolean {
  if (at < 0 || at + bytes.length > buf.length) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false;
  return true;
}

/** The last few strings decoded, matched by their bytes: decoding a name again costs more. */
class StringCache {
  private readonly bytes: Buffer[] = [];
  private readonly strings: string[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  get(buf: Buffer, start: number, end: number): string {
    const length = end - start;
    for (let slot = 0; slot < this.bytes.length; slot++) {
      const candidate = this.bytes[slot]!;
      if (candidate.length === length && hasBytes(buf, start, candidate))
        return this.strings[slot]!;
    }
    const text = utf8(buf, start, end);
    this.bytes[this.next] = Buffer.from(buf.subarray(start, end));
    this.strings[this.next] = text;
    this.next = (this.next + 1) % this.size;
    return text;
  }
}

function corrupt(view: RecordView, part: string): SluiceError {
  return new SluiceError(
    "SLUICE_CORRUPT",
    `event at position ${view.offset}: unreadable ${part} (not written by the event store?)`,
    { details: { position: view.offset } },
  );
}
