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

  /** Where the id of the event whose key was read last starts and ends in its buffer. */
  idStartOf(): number {
    return this.idStart;
  }

  idEndOf(): number {
    return this.idEnd;
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

/** `buf.toString("latin1", start, end)` without its argument handling: ASCII as is. */
function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(
    start,
    end,
  );
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

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Text parsed at once: big enough to amortise the call, small enough for the young heap. */
const CHUNK_BYTES = 32 * 1024;

/** An event being decoded: its id and data are filled in when the page is parsed. */
interface MutableEvent {
  id: string;
  stream: string;
  type: string;
  schemaVersion: number;
  data: JsonValue;
  metadata: EventMetadata;
  version: number;
  position: number;
  timestamp: number;
}

/**
 * Decodes a page of events with a few `JSON.parse` calls instead of one per event: while the log
 * is scanned, each event's id (as a JSON string) and data (or its whole value, when it has
 * metadata) are copied into a JSON array text; every `CHUNK_BYTES` of text is parsed at once and
 * fills its events in. That replaces two string decodings and a parse per event (most of the
 * cost of a read) by a byte copy. A chunk that does not parse as such an array (a record not
 * written by the event store) makes `finish` return false, and the caller decodes the page event
 * by event, which names the record at fault.
 */
export class EventPageDecoder {
  private text = Buffer.allocUnsafe(2 * CHUNK_BYTES);
  private length = 0;
  /** Events of the current chunk and, per event, 1 when the whole value was copied. */
  private events: MutableEvent[] = [];
  private whole: number[] = [];
  /** The bits of every byte copied: below 0x80, the text is ASCII. */
  private bits = 0;
  private failed = false;

  constructor(private readonly keys: EventRecordDecoder) {}

  /** Starts a new page. */
  begin(): void {
    this.failed = false;
    this.startChunk();
  }

  /** Adds the event `view` holds (its key already read into the key decoder). */
  add(view: RecordView): RecordedEvent {
    const key = this.keys.key;
    const { buf, valueStart, valueEnd } = view;
    const idStart = this.keys.idStartOf();
    const idEnd = this.keys.idEndOf();
    let from = valueStart;
    let to = valueEnd;
    let whole = 1;
    if (
      valueStart >= 0 &&
      hasBytes(buf, valueStart, VALUE_HEAD) &&
      hasBytes(buf, valueEnd - EMPTY_METADATA_TAIL.length, EMPTY_METADATA_TAIL) &&
      valueEnd - valueStart > VALUE_HEAD.length + EMPTY_METADATA_TAIL.length
    ) {
      from = valueStart + VALUE_HEAD.length;
      to = valueEnd - EMPTY_METADATA_TAIL.length;
      whole = 0;
    }
    // `,"id",value` with `"` and `\` in the id escaped (at most twice its bytes), and `]`.
    this.ensure(2 * (idEnd - idStart) + Math.max(0, to - from) + 5);
    const text = this.text;
    let at = this.length;
    let bits = this.bits;
    if (this.events.length > 0) text[at++] = COMMA;
    text[at++] = QUOTE;
    for (let i = idStart; i < idEnd; i++) {
      const byte = buf[i]!;
      if (byte === QUOTE || byte === BACKSLASH) text[at++] = BACKSLASH;
      text[at++] = byte;
      bits |= byte;
    }
    text[at++] = QUOTE;
    text[at++] = COMMA;
    if (from < 0) {
      // A null value: not JSON, so the parse fails and the page is decoded event by event.
      text[at++] = COMMA;
    } else
      for (let i = from; i < to; i++) {
        const byte = buf[i]!;
        text[at++] = byte;
        bits |= byte;
      }
    this.length = at;
    this.bits = bits;
    const event: MutableEvent = {
      id: "",
      stream: key.stream,
      type: key.type,
      schemaVersion: key.schemaVersion,
      data: null,
      metadata: EMPTY_METADATA,
      version: key.version,
      position: view.offset,
      timestamp: view.timestamp,
    };
    this.events.push(event);
    this.whole.push(whole);
    if (at >= CHUNK_BYTES) this.parseChunk();
    return event;
  }

  /** Parses what is left; false if some chunk did not parse (decode the page event by event). */
  finish(): boolean {
    if (this.events.length > 0) this.parseChunk();
    return !this.failed;
  }

  private startChunk(): void {
    this.length = 0;
    this.events = [];
    this.whole = [];
    this.bits = 0;
    this.text[this.length++] = OPEN_BRACKET;
  }

  /** Parses the current chunk, fills its events in and starts the next chunk. */
  private parseChunk(): void {
    if (!this.failed) this.failed = !this.fill();
    this.startChunk();
  }

  private fill(): boolean {
    this.text[this.length++] = CLOSE_BRACKET;
    let parsed: unknown;
    try {
      // ASCII text (the usual case) becomes a string by a plain copy; UTF-8 needs decoding.
      const json =
        this.bits < 0x80 ? latin1(this.text, 0, this.length) : utf8(this.text, 0, this.length);
      parsed = JSON.parse(json);
    } catch {
      return false;
    }
    const events = this.events;
    const whole = this.whole;
    if (!Array.isArray(parsed) || parsed.length !== 2 * events.length) return false;
    const values = parsed as unknown[];
    for (let i = 0; i < events.length; i++) {
      const id = values[2 * i];
      if (typeof id !== "string") return false;
      const event = events[i]!;
      event.id = id;
      const value = values[2 * i + 1] as JsonValue;
      if (whole[i] === 0) {
        event.data = value;
        event.metadata = {};
      } else {
        const body = value as { d?: JsonValue; m?: EventMetadata } | null;
        if (typeof body !== "object" || body === null || !("d" in body)) return false;
        event.data = body.d!;
        event.metadata = body.m!;
      }
    }
    return true;
  }

  private ensure(more: number): void {
    if (this.length + more <= this.text.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.text.length, this.length + more));
    this.text.copy(grown, 0, 0, this.length);
    this.text = grown;
  }
}

/** A placeholder until the page is parsed. */
const EMPTY_METADATA: EventMetadata = {};
