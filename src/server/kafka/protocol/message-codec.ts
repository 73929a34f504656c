// Compiles a transcribed schema, for one version, into a decoder and an encoder. Compiling once per
// (message, version) turns every per-field decision (present? nullable? compact? tagged?) into the
// choice of a closure, so decoding a request walks no schema at run time.
import { KafkaProtocolError } from "./protocol-error.js";
import type { FieldSchema, MessageSchema } from "./schema.js";
import { inRange } from "./version-range.js";
import { WireReader } from "./wire-reader.js";
import { WireWriter } from "./wire-writer.js";

/** A decoded or to-be-encoded Kafka struct, keyed by camelCase field name. */
export type KafkaStruct = Record<string, unknown>;

/** Decoder and encoder of one message schema at one version. */
export interface MessageCodec {
  readonly version: number;
  readonly flexible: boolean;
  /** Reads one message; absent fields take their defaults. */
  decode(reader: WireReader): KafkaStruct;
  /** Writes one message; fields left out (undefined) are written as their defaults. */
  encode(writer: WireWriter, value: object): void;
}

interface TypeCodec {
  decode(reader: WireReader): unknown;
  encode(writer: WireWriter, value: unknown): void;
}

interface CompiledField {
  readonly name: string;
  readonly codec: TypeCodec;
  readonly makeDefault: () => unknown;
}

interface TaggedField extends CompiledField {
  readonly tag: number;
  /** The default's encoding; a value that encodes the same is left out. */
  readonly defaultBytes: Buffer;
}

const ZERO_UUID = Buffer.alloc(16);

/** Compiles `schema` at `version` (which must be one of its valid versions). */
export function compileMessage(schema: MessageSchema, version: number): MessageCodec {
  if (!inRange(schema.validVersions, version))
    throw new RangeError(`version ${version} is outside ${schema.validVersions}`);
  const flexible = inRange(schema.flexibleVersions, version);
  const struct = compileStruct(schema.fields, version, flexible);
  return {
    version,
    flexible,
    decode: (reader) => struct.decode(reader) as KafkaStruct,
    encode: (writer, value) => struct.encode(writer, value),
  };
}

/** The default value of a field, as a decoder fills it in when the field is absent. */
export function defaultOf(field: FieldSchema): unknown {
  const text = field.default;
  if (field.type.startsWith("[]")) return text === "null" ? null : [];
  if (field.fields !== undefined) return text === "null" ? null : structDefault(field.fields);
  switch (field.type) {
    case "bool":
      return text === "true";
    case "string":
      return text === "null" ? null : (text ?? "");
    case "bytes":
      return text === "null" ? null : Buffer.alloc(0);
    case "records":
      return null;
    case "uuid":
      return Buffer.from(ZERO_UUID);
    default:
      return text === undefined ? 0 : Number(text);
  }
}

function structDefault(fields: readonly FieldSchema[]): KafkaStruct {
  const out: KafkaStruct = {};
  for (const field of fields) out[field.name] = defaultOf(field);
  return out;
}

function compileStruct(
  fields: readonly FieldSchema[],
  version: number,
  flexible: boolean,
): TypeCodec {
  const regular: CompiledField[] = [];
  const tagged: TaggedField[] = [];
  const absent: CompiledField[] = [];
  for (const field of fields) {
    const makeDefault = (): unknown => defaultOf(field);
    if (!inRange(field.versions, version)) {
      absent.push({ name: field.name, codec: NEVER, makeDefault });
      continue;
    }
    const codec = compileType(field, version, flexible);
    if (flexible && inRange(field.taggedVersions, version)) {
      const probe = new WireWriter(16);
      codec.encode(probe, makeDefault());
      tagged.push({
        name: field.name,
        codec,
        makeDefault,
        tag: field.tag ?? 0,
        defaultBytes: probe.toBuffer(),
      });
    } else regular.push({ name: field.name, codec, makeDefault });
  }
  tagged.sort((a, b) => a.tag - b.tag);
  const byTag = new Map(tagged.map((field) => [field.tag, field]));

  return {
    decode(reader) {
      const out: KafkaStruct = {};
      let i = 0;
      try {
        for (; i < regular.length; i++) {
          const field = regular[i]!;
          out[field.name] = field.codec.decode(reader);
        }
      } catch (error) {
        throw rethrowWithin(error, regular[i]!.name);
      }
      for (const field of absent) out[field.name] = field.makeDefault();
      if (flexible) {
        for (const field of tagged) out[field.name] = field.makeDefault();
        decodeTaggedFields(reader, byTag, out);
      }
      return out;
    },
    encode(writer, value) {
      const struct = (value ?? {}) as KafkaStruct;
      for (const field of regular) {
        const fieldValue = struct[field.name];
        try {
          field.codec.encode(writer, fieldValue === undefined ? field.makeDefault() : fieldValue);
        } catch (error) {
          throw rethrowWithin(error, field.name);
        }
      }
      if (flexible) encodeTaggedFields(writer, tagged, struct);
    },
  };
}

function decodeTaggedFields(
  reader: WireReader,
  byTag: Map<number, TaggedField>,
  out: KafkaStruct,
): void {
  let count: number;
  try {
    count = reader.uvarint();
  } catch (error) {
    throw rethrowWithin(error, "_taggedFields");
  }
  for (let i = 0; i < count; i++) {
    let tag = -1;
    try {
      tag = reader.uvarint();
      const size = reader.uvarint();
      const start = reader.take(size);
      const field = byTag.get(tag);
      if (field === undefined) continue; // unknown tags are skipped, as Kafka does
      const inner = new WireReader(reader.buf, start, start + size);
      out[field.name] = field.codec.decode(inner);
      if (inner.remaining() !== 0)
        throw new KafkaProtocolError("", `tagged field ${tag} of exactly ${size} bytes`);
    } catch (error) {
      throw rethrowWithin(error, byTag.get(tag)?.name ?? `_taggedFields[${i}]`);
    }
  }
}

function encodeTaggedFields(
  writer: WireWriter,
  tagged: readonly TaggedField[],
  struct: KafkaStruct,
): void {
  const present: [number, Buffer][] = [];
  for (const field of tagged) {
    const value = struct[field.name];
    if (value === undefined) continue;
    const probe = new WireWriter(64);
    try {
      field.codec.encode(probe, value);
    } catch (error) {
      throw rethrowWithin(error, field.name);
    }
    const bytes = probe.toBuffer();
    if (!bytes.equals(field.defaultBytes)) present.push([field.tag, bytes]);
  }
  writer.uvarint(present.length);
  for (const [tag, bytes] of present) {
    writer.uvarint(tag);
    writer.uvarint(bytes.length);
    writer.bytes(bytes);
  }
}

function rethrowWithin(error: unknown, name: string): unknown {
  return error instanceof KafkaProtocolError ? error.within(name) : error;
}

const NEVER: TypeCodec = {
  decode: () => undefined,
  encode: () => undefined,
};

function compileType(field: FieldSchema, version: number, messageFlexible: boolean): TypeCodec {
  const flexible =
    field.flexibleVersions === undefined
      ? messageFlexible
      : inRange(field.flexibleVersions, version);
  const nullable = inRange(field.nullableVersions, version) || field.type === "records";
  if (field.type.startsWith("[]")) {
    const element =
      field.fields !== undefined
        ? compileStruct(field.fields, version, flexible)
        : primitive(field.type.slice(2), flexible, false);
    return arrayCodec(element, flexible, nullable);
  }
  if (field.fields !== undefined) {
    const struct = compileStruct(field.fields, version, flexible);
    return nullable ? nullableStruct(struct) : struct;
  }
  return primitive(field.type, flexible, nullable);
}

function nullableStruct(struct: TypeCodec): TypeCodec {
  return {
    decode: (reader) => (reader.int8() < 0 ? null : struct.decode(reader)),
    encode(writer, value) {
      if (value === null) return writer.int8(-1);
      writer.int8(1);
      struct.encode(writer, value);
    },
  };
}

/** Reads a length prefix: compact (uvarint of length + 1) or fixed-width; -1 means null. */
function readLength(reader: WireReader, flexible: boolean, wide: boolean): number {
  if (flexible) return reader.uvarint() - 1;
  return wide ? reader.int32() : reader.int16();
}

function writeLength(writer: WireWriter, length: number, flexible: boolean, wide: boolean): void {
  if (flexible) writer.uvarint(length + 1);
  else if (wide) writer.int32(length);
  else writer.int16(length);
}

function nullLength(length: number, nullable: boolean): boolean {
  if (length >= 0) return false;
  if (length === -1 && nullable) return true;
  throw new KafkaProtocolError("", nullable ? "a length >= -1" : "a length >= 0 (not nullable)");
}

function arrayCodec(element: TypeCodec, flexible: boolean, nullable: boolean): TypeCodec {
  return {
    decode(reader) {
      const length = readLength(reader, flexible, true);
      if (nullLength(length, nullable)) return null;
      // Every element takes at least one byte, so a count beyond the bytes left is a lie: refuse it
      // before looping rather than trust it.
      if (length > reader.remaining())
        throw new KafkaProtocolError("", `at most ${reader.remaining()} elements`);
      const out: unknown[] = [];
      let i = 0;
      try {
        for (; i < length; i++) out.push(element.decode(reader));
      } catch (error) {
        throw error instanceof KafkaProtocolError ? error.within(`[${i}]`) : error;
      }
      return out;
    },
    encode(writer, value) {
      // A null where this version cannot say null is written empty: responses are built once for
      // every version, and older versions express "none" as empty.
      if (value === null) return writeLength(writer, nullable ? -1 : 0, flexible, true);
      const array = value as readonly unknown[];
      writeLength(writer, array.length, flexible, true);
      for (let i = 0; i < array.length; i++) {
        try {
          element.encode(writer, array[i]);
        } catch (error) {
          throw error instanceof KafkaProtocolError ? error.within(`[${i}]`) : error;
        }
      }
    },
  };
}

function stringCodec(flexible: boolean, nullable: boolean): TypeCodec {
  return {
    decode(reader) {
      const length = readLength(reader, flexible, false);
      return nullLength(length, nullable) ? null : reader.utf8(length);
    },
    encode(writer, value) {
      if (value === null) return writeLength(writer, nullable ? -1 : 0, flexible, false);
      const text = value as string;
      const byteLength = Buffer.byteLength(text, "utf8");
      if (!flexible && byteLength > 0x7fff)
        throw new KafkaProtocolError("", "a string of at most 32767 bytes");
      writeLength(writer, byteLength, flexible, false);
      writer.utf8(text, byteLength);
    },
  };
}

function bytesCodec(flexible: boolean, nullable: boolean): TypeCodec {
  return {
    decode(reader) {
      const length = readLength(reader, flexible, true);
      return nullLength(length, nullable) ? null : reader.bytes(length);
    },
    encode(writer, value) {
      if (value === null) return writeLength(writer, nullable ? -1 : 0, flexible, true);
      const bytes = value as Buffer;
      writeLength(writer, bytes.length, flexible, true);
      writer.bytes(bytes);
    },
  };
}

function fixed(
  read: (reader: WireReader) => unknown,
  write: (writer: WireWriter, value: never) => void,
): TypeCodec {
  return { decode: read, encode: write };
}

function primitive(type: string, flexible: boolean, nullable: boolean): TypeCodec {
  switch (type) {
    case "bool":
      return fixed(
        (r) => r.bool(),
        (w, v: boolean) => w.bool(v),
      );
    case "int8":
      return fixed(
        (r) => r.int8(),
        (w, v: number) => w.int8(v),
      );
    case "int16":
      return fixed(
        (r) => r.int16(),
        (w, v: number) => w.int16(v),
      );
    case "uint16":
      return fixed(
        (r) => r.uint16(),
        (w, v: number) => w.uint16(v),
      );
    case "int32":
      return fixed(
        (r) => r.int32(),
        (w, v: number) => w.int32(v),
      );
    case "uint32":
      return fixed(
        (r) => r.uint32(),
        (w, v: number) => w.uint32(v),
      );
    case "int64":
      return fixed(
        (r) => r.int64(),
        (w, v: number) => w.int64(v),
      );
    case "float64":
      return fixed(
        (r) => r.float64(),
        (w, v: number) => w.float64(v),
      );
    case "uuid":
      return fixed(
        (r) => Buffer.from(r.bytes(16)),
        (w, v: Buffer) => {
          if (v.length !== 16) throw new KafkaProtocolError("", "a 16-byte uuid");
          w.bytes(v);
        },
      );
    case "string":
      return stringCodec(flexible, nullable);
    case "bytes":
    case "records":
      return bytesCodec(flexible, nullable);
    default:
      throw new Error(`unknown Kafka type ${type}`);
  }
}
