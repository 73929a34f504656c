import { hash } from "node:crypto";
import { utf8Length, writeUtf8 } from "../../engine/index.js";
import { checkMessageAttributes } from "./message-validation.js";
import type { MessageAttributeValue, MessageAttributes } from "./queue-service.js";
import { setOwnEntry } from "../own-entry.js";

const STRING_TRANSPORT = 1;
const BINARY_TRANSPORT = 2;

/**
 * A message's attributes, validated once and held as one immutable buffer in the layout SQS
 * hashes for MD5OfMessageAttributes (attributes sorted by name, each as length-prefixed name,
 * length-prefixed data type, a transport byte, 1 string/number or 2 binary, and the
 * length-prefixed value, lengths as 4-byte big-endian): the same bytes are stored in the log,
 * answered as the digest and decoded for receives. A fan-out that sends one set to many queues
 * validates, encodes and hashes it once.
 */
export class MessageAttributeSet {
  private digest: string | undefined;

  private constructor(
    /** The attributes in SQS's digest layout; never changed after construction. */
    readonly encoded: Buffer,
    /** Known when encoded here, counted on demand when decoded. */
    private attributeCount: number | undefined,
  ) {}

  /**
   * Validates attributes as SQS does (`field` names them in errors) and encodes them; undefined
   * when there are none. Copies everything, so later changes by the caller reach nothing.
   */
  static validated(
    attributes: unknown,
    field: string,
    system = false,
  ): MessageAttributeSet | undefined {
    checkMessageAttributes(attributes, field, system);
    if (attributes === undefined) return undefined;
    return MessageAttributeSet.of(attributes as MessageAttributes);
  }

  /** Encodes attributes known to be valid (read back from a store); undefined when empty. */
  static of(attributes: MessageAttributes): MessageAttributeSet | undefined {
    const names = Object.keys(attributes);
    if (names.length === 0) return undefined;
    sortNames(names);
    let total = 0;
    for (const name of names) {
      const attribute = attributes[name]!;
      const valueBytes =
        attribute.BinaryValue !== undefined
          ? attribute.BinaryValue.length
          : utf8Length(attribute.StringValue ?? "");
      total += 13 + utf8Length(name) + utf8Length(attribute.DataType) + valueBytes;
    }
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (const name of names) {
      const attribute = attributes[name]!;
      pos = writeText(out, pos, name);
      pos = writeText(out, pos, attribute.DataType);
      if (attribute.BinaryValue !== undefined) {
        out[pos++] = BINARY_TRANSPORT;
        out.writeUInt32BE(attribute.BinaryValue.length, pos);
        out.set(attribute.BinaryValue, pos + 4);
        pos += 4 + attribute.BinaryValue.length;
      } else {
        out[pos++] = STRING_TRANSPORT;
        pos = writeText(out, pos, attribute.StringValue ?? "");
      }
    }
    return new MessageAttributeSet(out, names.length);
  }

  /** A set from its encoded bytes (a message record's); the buffer must not change later. */
  static decode(encoded: Buffer): MessageAttributeSet {
    return new MessageAttributeSet(encoded, undefined);
  }

  /** How many attributes the set holds. */
  get count(): number {
    if (this.attributeCount === undefined) {
      let count = 0;
      const buf = this.encoded;
      for (let pos = 0; pos < buf.length; count++) {
        pos += 4 + buf.readUInt32BE(pos);
        pos += 4 + buf.readUInt32BE(pos) + 1;
        pos += 4 + buf.readUInt32BE(pos);
      }
      this.attributeCount = count;
    }
    return this.attributeCount;
  }

  /**
   * What the attributes count towards a message's size, as SQS counts it: names, data types and
   * values, in bytes (the encoding adds 13 bytes of lengths and transport to each).
   */
  get sizeBytes(): number {
    return this.encoded.length - 13 * this.count;
  }

  /** SQS's MD5OfMessageAttributes (hex) of the whole set, computed once. */
  get md5(): string {
    return (this.digest ??= hash("md5", this.encoded, "hex"));
  }

  /**
   * The attributes as SQS shapes, new objects on every call (callers may change them), with
   * their digest: of all of them, or of those `wanted` keeps (undefined when it keeps none).
   */
  select(
    wanted?: (name: string) => boolean,
  ): { attributes: Record<string, MessageAttributeValue>; md5: string } | undefined {
    const attributes: Record<string, MessageAttributeValue> = {};
    const buf = this.encoded;
    let all = true;
    let kept = 0;
    const keptRanges: number[] = [];
    for (let pos = 0; pos < buf.length;) {
      const start = pos;
      const nameLength = buf.readUInt32BE(pos);
      const name = buf.toString("utf8", pos + 4, pos + 4 + nameLength);
      pos += 4 + nameLength;
      const typeLength = buf.readUInt32BE(pos);
      const DataType = buf.toString("latin1", pos + 4, pos + 4 + typeLength);
      pos += 4 + typeLength;
      const transport = buf[pos++];
      const valueLength = buf.readUInt32BE(pos);
      const valueStart = pos + 4;
      pos = valueStart + valueLength;
      if (wanted !== undefined && !wanted(name)) {
        all = false;
        continue;
      }
      kept++;
      keptRanges.push(start, pos);
      setOwnEntry(
        attributes,
        name,
        transport === BINARY_TRANSPORT
          ? { DataType, BinaryValue: new Uint8Array(buf.subarray(valueStart, pos)) }
          : { DataType, StringValue: buf.toString("utf8", valueStart, pos) },
      );
    }
    if (kept === 0) return undefined;
    if (all) return { attributes, md5: this.md5 };
    const parts: Buffer[] = [];
    for (let i = 0; i < keptRanges.length; i += 2)
      parts.push(buf.subarray(keptRanges[i], keptRanges[i + 1]));
    return { attributes, md5: hash("md5", Buffer.concat(parts), "hex") };
  }

  /** The attributes as SQS shapes (new objects). */
  toAttributes(): Record<string, MessageAttributeValue> {
    return this.select()?.attributes ?? {};
  }

  /** A string attribute's value (AWSTraceHeader), if the set has it. */
  stringValue(name: string): string | undefined {
    const attribute = this.select((n) => n === name)?.attributes[name];
    return attribute?.StringValue;
  }
}

/**
 * Sorts names in place as `Array.prototype.sort` would (by UTF-16 code units). A message has at
 * most ten attributes, and V8's sort allocates its own work state on every call: as the set is
 * made once per published message of a fan-out, an insertion sort of a few names costs less.
 */
function sortNames(names: string[]): void {
  if (names.length > MAX_INSERTION_SORT) {
    names.sort();
    return;
  }
  for (let i = 1; i < names.length; i++) {
    const name = names[i]!;
    let j = i - 1;
    for (; j >= 0 && names[j]! > name; j--) names[j + 1] = names[j]!;
    names[j + 1] = name;
  }
}

/** Above this many names, V8's sort. */
const MAX_INSERTION_SORT = 16;

/** Writes a 4-byte big-endian length and the UTF-8 text; returns the next position. */
function writeText(out: Buffer, pos: number, text: string): number {
  const end = writeUtf8(out, pos + 4, text);
  out.writeUInt32BE(end - pos - 4, pos);
  return end;
}

/**
 * Validates attributes once for the entries of one call that pass the same attributes object
 * (a batch often does): they share one set. An entry whose attributes fail is validated again
 * by the next one, so each reports its own field.
 */
export class AttributeSetReuse {
  private input: unknown;
  private set: MessageAttributeSet | undefined;

  validated(attributes: unknown, field: string): MessageAttributeSet | undefined {
    if (attributes instanceof MessageAttributeSet) return attributes;
    if (attributes !== undefined && attributes === this.input) return this.set;
    const set = MessageAttributeSet.validated(attributes, field);
    this.input = attributes;
    this.set = set;
    return set;
  }
}
