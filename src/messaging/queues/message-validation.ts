import { utf8Length } from "../../engine/index.js";
import { describeValue } from "../../errors/index.js";
import { QueueError, invalidParameter } from "./queue-error.js";
import type { MessageAttributeValue, MessageAttributes } from "./queue-service.js";
import { setOwnEntry } from "../own-entry.js";

// SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF; with the u flag a
// lone surrogate is its own code point and falls outside the class.
const FORBIDDEN_BODY_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary)(\.[\x21-\x7E]{1,255})?$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
// MessageGroupId, MessageDeduplicationId, ReceiveRequestAttemptId: printable ASCII.
const ID_CHARS = /^[\x21-\x7E]{1,128}$/;
export const MAX_BATCH_ENTRIES = 10;
export const MAX_MESSAGE_ATTRIBUTES = 10;

/** Checks a message body: a non-empty string of SQS's allowed characters. */
export function checkBody(body: unknown, field: string): string {
  if (body === undefined || body === null || body === "")
    throw new QueueError(
      "MissingParameter",
      `${field}: a non-empty message body is required`,
      field,
    );
  if (typeof body !== "string")
    throw new QueueError("InvalidParameterValue", `${field}: expected a string`, field);
  const bad = FORBIDDEN_BODY_CHAR.exec(body);
  if (bad !== null)
    throw new QueueError(
      "InvalidMessageContents",
      `${field}: character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} at index ${bad.index} is not allowed in SQS messages`,
      field,
    );
  return body;
}

/** Validates message attributes; returns their size in bytes (names, types and values). */
export function checkMessageAttributes(attributes: unknown, field: string, system = false): number {
  if (attributes === undefined) return 0;
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes))
    throw invalidParameter(field, "an object of name -> { DataType, StringValue | BinaryValue }");
  // Names only, and the field named in an error made only for one: a fan-out checks every
  // published message's attributes, and an entry array and a field string per attribute were
  // most of the garbage this check left.
  const names = Object.keys(attributes);
  if (names.length > MAX_MESSAGE_ATTRIBUTES)
    throw invalidParameter(
      field,
      `at most ${MAX_MESSAGE_ATTRIBUTES} attributes, got ${names.length}`,
    );
  let bytes = 0;
  for (const name of names) {
    const raw = (attributes as Record<string, unknown>)[name];
    if (system) {
      if (name !== "AWSTraceHeader")
        throw invalidParameter(
          `${field}.${name}`,
          "AWSTraceHeader, the only message system attribute",
        );
    } else checkAttributeName(name, field);
    if (typeof raw !== "object" || raw === null)
      throw invalidParameter(
        `${field}.${name}`,
        "an object { DataType, StringValue | BinaryValue }",
      );
    const value = raw as Partial<MessageAttributeValue>;
    if (typeof value.DataType !== "string" || !DATA_TYPE.test(value.DataType))
      throw invalidParameter(
        `${field}.${name}.DataType`,
        `"String", "Number" or "Binary", optionally with a ".custom" suffix`,
      );
    const binary = value.DataType.startsWith("Binary");
    if (binary) {
      if (value.StringValue !== undefined)
        throw invalidParameter(
          `${field}.${name}.StringValue`,
          "no StringValue for a Binary attribute",
        );
      if (!(value.BinaryValue instanceof Uint8Array))
        throw invalidParameter(
          `${field}.${name}.BinaryValue`,
          "a Uint8Array for a Binary attribute",
        );
      bytes += value.BinaryValue.length;
    } else {
      if (value.BinaryValue !== undefined)
        throw invalidParameter(
          `${field}.${name}.BinaryValue`,
          `no BinaryValue for a ${value.DataType} attribute`,
        );
      if (typeof value.StringValue !== "string")
        throw invalidParameter(
          `${field}.${name}.StringValue`,
          `a string for a ${value.DataType} attribute`,
        );
      if (FORBIDDEN_BODY_CHAR.test(value.StringValue))
        throw new QueueError(
          "InvalidMessageContents",
          `${field}.${name}.StringValue: contains characters SQS does not allow`,
          `${field}.${name}.StringValue`,
        );
      if (value.DataType.startsWith("Number") && !isSqsNumber(value.StringValue))
        throw invalidParameter(
          `${field}.${name}.StringValue`,
          "a number of at most 38 significant digits between -10^128 and 10^126",
        );
      if (value.StringValue === "")
        throw invalidParameter(`${field}.${name}.StringValue`, "a non-empty value");
      bytes += utf8Length(value.StringValue);
    }
    bytes += utf8Length(name) + utf8Length(value.DataType);
  }
  return bytes;
}

/** Names starting with AWS. or Amazon., in any case, are reserved. */
const RESERVED_NAME = /^(aws|amazon)\./i;

/** `attributesField`: the attributes' field; an error names the attribute's own. */
function checkAttributeName(name: string, attributesField: string): void {
  if (
    !ATTRIBUTE_NAME.test(name) ||
    name.startsWith(".") ||
    name.endsWith(".") ||
    name.includes("..") ||
    RESERVED_NAME.test(name)
  )
    throw invalidParameter(
      `${attributesField}.${name}`,
      "a name of 1-256 characters A-Z a-z 0-9 _ - . without leading, trailing or double periods, not starting with AWS. or Amazon.",
    );
}

function isSqsNumber(text: string): boolean {
  if (!NUMBER.test(text)) return false;
  const value = Math.abs(Number(text));
  return significantDigits(text) <= 38 && (value === 0 || (value >= 1e-128 && value <= 1e126));
}

/** Digits of the mantissa of a well-formed number, leading zeros left out. */
function significantDigits(text: string): number {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x65 || c === 0x45) break; // e, E: the exponent follows
    if (c >= 0x30 && c <= 0x39 && (digits > 0 || c !== 0x30)) digits++;
  }
  return digits;
}

/** Validates the shape of a batch call: 1-10 entries with distinct, well-formed Ids. */
export function checkBatchEntries(entries: unknown): readonly { readonly Id: string }[] {
  if (!Array.isArray(entries) || entries.length === 0)
    throw new QueueError(
      "EmptyBatchRequest",
      "Entries: a batch needs at least one entry",
      "Entries",
    );
  if (entries.length > MAX_BATCH_ENTRIES)
    throw new QueueError(
      "TooManyEntriesInBatchRequest",
      `Entries: at most ${MAX_BATCH_ENTRIES} entries, got ${entries.length}`,
      "Entries",
    );
  const list = entries as unknown[];
  for (let i = 0; i < list.length; i++) {
    const id = (list[i] as { Id?: unknown } | null)?.Id;
    if (typeof id !== "string" || !BATCH_ENTRY_ID.test(id))
      throw new QueueError(
        "InvalidBatchEntryId",
        `Entries[${i}].Id: expected 1-80 characters of A-Z a-z 0-9 _ -, got ${describeValue(id)}`,
        `Entries[${i}].Id`,
      );
    // At most ten entries: comparing with the earlier ones is cheaper than a set.
    for (let j = 0; j < i; j++)
      if ((list[j] as { Id: string }).Id === id)
        throw new QueueError(
          "BatchEntryIdsNotDistinct",
          `Entries[${i}].Id: ${id} appears twice`,
          `Entries[${i}].Id`,
        );
  }
  return entries as { Id: string }[];
}

/** Checks an integer parameter in a range (InvalidParameterValue otherwise). */
export function checkIntParameter(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw invalidParameter(field, `an integer from ${min} to ${max}, got ${describeValue(value)}`);
  return value;
}

/** Copies attributes so later changes by the caller cannot reach stored state. */
export function copyAttributes(
  attributes: MessageAttributes,
): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes))
    setOwnEntry(
      out,
      name,
      value.BinaryValue !== undefined
        ? { DataType: value.DataType, BinaryValue: Uint8Array.from(value.BinaryValue) }
        : { DataType: value.DataType, StringValue: value.StringValue ?? "" },
    );
  return out;
}

/** Checks a group, deduplication or receive-attempt id: 1-128 printable ASCII characters. */
export function checkId(value: unknown, field: string): string {
  if (typeof value !== "string" || !ID_CHARS.test(value))
    throw invalidParameter(field, "1-128 characters of letters, digits and punctuation");
  return value;
}
