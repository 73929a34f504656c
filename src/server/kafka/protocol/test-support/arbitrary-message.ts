// fast-check arbitraries for any transcribed Kafka message at any version: fields present at that
// version get random values, the rest their defaults (what a decoder fills in).
import fc from "fast-check";
import { defaultOf, type KafkaStruct } from "../message-codec.js";
import type { FieldSchema, MessageSchema } from "../schema.js";
import { inRange } from "../version-range.js";

const bytes = fc
  .oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 24 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 512, maxLength: 700 }) },
  )
  .map((array) => Buffer.from(array));

function primitive(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case "bool":
      return fc.boolean();
    case "int8":
      return fc.integer({ min: -128, max: 127 });
    case "int16":
      return fc.integer({ min: -32768, max: 32767 });
    case "uint16":
      return fc.integer({ min: 0, max: 65535 });
    case "int32":
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case "uint32":
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case "int64":
      return fc.maxSafeInteger();
    case "float64":
      return fc.double();
    case "string":
      return fc.string({ unit: "grapheme", maxLength: 12 });
    case "bytes":
    case "records":
      return bytes;
    case "uuid":
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((array) => Buffer.from(array));
    default:
      throw new Error(`unknown type ${type}`);
  }
}

function fieldArbitrary(field: FieldSchema, version: number): fc.Arbitrary<unknown> {
  let value: fc.Arbitrary<unknown>;
  if (field.type.startsWith("[]")) {
    const element =
      field.fields !== undefined
        ? structArbitrary(field.fields, version)
        : primitive(field.type.slice(2));
    value = fc.array(element, { maxLength: 2 });
  } else if (field.fields !== undefined) value = structArbitrary(field.fields, version);
  else value = primitive(field.type);
  const nullable = inRange(field.nullableVersions, version) || field.type === "records";
  return nullable ? fc.option(value, { nil: null, freq: 4 }) : value;
}

function structArbitrary(
  fields: readonly FieldSchema[],
  version: number,
): fc.Arbitrary<KafkaStruct> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields)
    shape[field.name] = inRange(field.versions, version)
      ? fieldArbitrary(field, version)
      : fc.constant(null).map(() => defaultOf(field));
  return fc.record(shape);
}

/** Random messages of `schema` at `version`, as its decoder would return them. */
export function arbitraryMessage(
  schema: MessageSchema,
  version: number,
): fc.Arbitrary<KafkaStruct> {
  return structArbitrary(schema.fields, version);
}
