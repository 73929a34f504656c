import { utf8Length, writeUtf8 } from "../../engine/index.js";
import { MessageAttributeSet } from "./message-attribute-set.js";
import { MESSAGE_ID_CHARS, writeMessageId } from "./message-id.js";
import type { MessageMeta } from "./message-record.js";
import type { Writable } from "./writable.js";

/**
 * Everything about a message except its body, as a queue holds it: the fields of the first
 * format's JSON meta ({@link MessageMeta}), with the attributes as validated, encoded sets.
 */
export interface MessageHeader extends Omit<MessageMeta, "a" | "y"> {
  readonly a?: MessageAttributeSet;
  readonly y?: MessageAttributeSet;
}

/**
 * The first byte of a binary header. The first format's headers are JSON objects, which begin
 * with "{", so a reader tells the two apart by this byte.
 */
export const BINARY_HEADER_FORMAT = 1;

const GROUP = 1;
const DEDUPLICATION = 2;
const ATTRIBUTES = 4;
const SYSTEM_ATTRIBUTES = 8;
const VISIBLE_AT = 16;
const SOURCE_ARN = 32;
const SENT_AT = 64;
/** Carried by compaction: sequence number, receive counts and times (and maybe a deadline). */
const CARRIED = 128;

/**
 * Encodes a header in binary: the format byte, a byte of flags naming the fields present, then
 * those fields in a fixed order: texts (MessageId, group, deduplication id, source ARN) as a
 * 4-byte big-endian length and UTF-8, attribute sets as a 4-byte length and their encoded
 * bytes (SQS's digest layout, see MessageAttributeSet), times and counts as 8-byte doubles.
 */
export function encodeHeader(header: MessageHeader): Buffer {
  const out = Buffer.allocUnsafe(headerBytes(header));
  writeHeader(out, 0, header);
  return out;
}

/** Bytes of `header` encoded (see encodeHeader). */
export function headerBytes(header: MessageHeader): number {
  return headerFieldBytes(header, utf8Length(header.i));
}

/**
 * Writes `header` encoded at `pos` (`headerBytes(header)` bytes must fit); returns the position
 * after it. A queue writes its message headers straight into the batch being built.
 */
export function writeHeader(out: Buffer, pos: number, header: MessageHeader): number {
  return writeHeaderFields(out, pos, header, undefined, 0);
}

/**
 * A header's fields as the writers take them, any of them undefined when absent: a
 * MessageHeader, or a header a queue fills in for each message it sends (see SendHeader), whose
 * MessageId may be given as its place among MessageIds instead of `i`.
 */
export type HeaderFields = {
  readonly [K in keyof MessageHeader]?: MessageHeader[K] | undefined;
};

/** `headerBytes` of `header`, its MessageId being `idBytes` of UTF-8. */
export function headerFieldBytes(header: HeaderFields, idBytes: number): number {
  let size = 2 + 4 + idBytes;
  if (header.g !== undefined) size += 4 + utf8Length(header.g);
  if (header.d !== undefined) size += 4 + utf8Length(header.d);
  if (header.src !== undefined) size += 4 + utf8Length(header.src);
  if (header.a !== undefined) size += 4 + header.a.encoded.length;
  if (header.y !== undefined) size += 4 + header.y.encoded.length;
  if (header.v !== undefined) size += 8;
  if (header.st !== undefined) size += 8;
  if (header.q !== undefined) size += 4 * 8 + 1 + (header.due === undefined ? 0 : 8);
  return size;
}

/**
 * `writeHeader` of `header`, its MessageId the id at `idAt` of `idBytes` (see MessageIds) when
 * given, else `header.i`.
 */
export function writeHeaderFields(
  out: Buffer,
  pos: number,
  header: HeaderFields,
  idBytes: Buffer | undefined,
  idAt: number,
): number {
  let flags = 0;
  if (header.g !== undefined) flags |= GROUP;
  if (header.d !== undefined) flags |= DEDUPLICATION;
  if (header.src !== undefined) flags |= SOURCE_ARN;
  if (header.a !== undefined) flags |= ATTRIBUTES;
  if (header.y !== undefined) flags |= SYSTEM_ATTRIBUTES;
  if (header.v !== undefined) flags |= VISIBLE_AT;
  if (header.st !== undefined) flags |= SENT_AT;
  const carried = header.q !== undefined;
  if (carried) flags |= CARRIED;
  out[pos] = BINARY_HEADER_FORMAT;
  out[pos + 1] = flags;
  if (idBytes === undefined) pos = writeText(out, pos + 2, header.i ?? "");
  else {
    out.writeUInt32BE(MESSAGE_ID_CHARS, pos + 2);
    pos = writeMessageId(out, pos + 6, idBytes, idAt);
  }
  if (header.g !== undefined) pos = writeText(out, pos, header.g);
  if (header.d !== undefined) pos = writeText(out, pos, header.d);
  if (header.src !== undefined) pos = writeText(out, pos, header.src);
  if (header.a !== undefined) pos = writeBytes(out, pos, header.a.encoded);
  if (header.y !== undefined) pos = writeBytes(out, pos, header.y.encoded);
  if (header.v !== undefined) pos = out.writeDoubleBE(header.v, pos);
  if (header.st !== undefined) pos = out.writeDoubleBE(header.st, pos);
  if (carried) {
    pos = out.writeDoubleBE(header.q ?? 0, pos);
    pos = out.writeDoubleBE(header.rc ?? 0, pos);
    pos = out.writeDoubleBE(header.fr ?? 0, pos);
    pos = out.writeDoubleBE(header.rt ?? 0, pos);
    out[pos++] = header.due === undefined ? 0 : 1;
    if (header.due !== undefined) pos = out.writeDoubleBE(header.due, pos);
  }
  return pos;
}

/**
 * Decodes a binary header (throws a RangeError on a short buffer). Its attribute sets share the
 * buffer's memory, which must not change afterwards.
 */
export function decodeHeader(buf: Buffer): MessageHeader {
  if (buf[0] !== BINARY_HEADER_FORMAT) throw new RangeError(`header format ${buf[0]}`);
  const flags = buf[1]!;
  const reader = { pos: 2 };
  const header: Writable<MessageHeader> = { i: readText(buf, reader) };
  if ((flags & GROUP) !== 0) header.g = readText(buf, reader);
  if ((flags & DEDUPLICATION) !== 0) header.d = readText(buf, reader);
  if ((flags & SOURCE_ARN) !== 0) header.src = readText(buf, reader);
  if ((flags & ATTRIBUTES) !== 0) header.a = MessageAttributeSet.decode(readBytes(buf, reader));
  if ((flags & SYSTEM_ATTRIBUTES) !== 0)
    header.y = MessageAttributeSet.decode(readBytes(buf, reader));
  if ((flags & VISIBLE_AT) !== 0) header.v = readDouble(buf, reader);
  if ((flags & SENT_AT) !== 0) header.st = readDouble(buf, reader);
  if ((flags & CARRIED) !== 0) {
    header.q = readDouble(buf, reader);
    header.rc = readDouble(buf, reader);
    header.fr = readDouble(buf, reader);
    header.rt = readDouble(buf, reader);
    if (buf.readUInt8(reader.pos++) === 1) header.due = readDouble(buf, reader);
  }
  return header;
}

function writeText(out: Buffer, pos: number, text: string): number {
  const end = writeUtf8(out, pos + 4, text);
  out.writeUInt32BE(end - pos - 4, pos);
  return end;
}

function writeBytes(out: Buffer, pos: number, bytes: Buffer): number {
  out.writeUInt32BE(bytes.length, pos);
  out.set(bytes, pos + 4);
  return pos + 4 + bytes.length;
}

function readBytes(buf: Buffer, reader: { pos: number }): Buffer {
  const length = buf.readUInt32BE(reader.pos);
  const start = reader.pos + 4;
  if (start + length > buf.length) throw new RangeError("a field runs past the header's end");
  reader.pos = start + length;
  return buf.subarray(start, start + length);
}

function readText(buf: Buffer, reader: { pos: number }): string {
  return readBytes(buf, reader).toString("utf8");
}

function readDouble(buf: Buffer, reader: { pos: number }): number {
  const value = buf.readDoubleBE(reader.pos);
  reader.pos += 8;
  return value;
}
