import { utf8Length } from "../../engine/index.js";
import { describeValue } from "../../errors/index.js";
import { parseStructuredMessage } from "./message-structure.js";
import { PubSubError, invalidParameter } from "./pubsub-error.js";
import type { PubSubMessageAttributes, PublishInput } from "./pubsub-service.js";

/** SNS's limit on a message: body plus attributes, 256 KiB. */
export const MAX_PUBLISH_BYTES = 256 * 1024;
/** SNS's limit on message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_\-.]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary|String\.Array)(\.[A-Za-z0-9_\-.]+)?$/;
const SUBJECT = /^[\x20-\x7e]{1,100}$/;
const GROUP_OR_DEDUP = /^[\x21-\x7e]{1,128}$/;

/** Checks a publish request at the edge; returns its size in bytes. */
export function checkPublish(input: PublishInput, fifo: boolean, contentDedup: boolean): number {
  if (typeof input.Message !== "string" || input.Message.length === 0)
    throw invalidParameter("Message", "Empty message");
  if (input.MessageStructure !== undefined) {
    if (input.MessageStructure !== "json")
      throw invalidParameter(
        "MessageStructure",
        `the only structure is json, got ${describeValue(input.MessageStructure)}`,
      );
    parseStructuredMessage(input.Message);
  }
  if (
    input.Subject !== undefined &&
    (typeof input.Subject !== "string" || !SUBJECT.test(input.Subject))
  )
    throw invalidParameter(
      "Subject",
      "must be 1-100 printable ASCII characters with no line breaks",
    );
  let bytes = Buffer.byteLength(input.Message, "utf8");
  bytes += checkAttributes(input.MessageAttributes ?? {});
  if (bytes > MAX_PUBLISH_BYTES)
    throw invalidParameter(
      "Message",
      `Message too long: ${bytes} bytes, the limit is ${MAX_PUBLISH_BYTES}`,
    );
  if (fifo) {
    if (input.MessageGroupId === undefined)
      throw invalidParameter(
        "MessageGroupId",
        "The MessageGroupId parameter is required for FIFO topics",
      );
    if (!GROUP_OR_DEDUP.test(input.MessageGroupId))
      throw invalidParameter("MessageGroupId", "1-128 printable ASCII characters");
    if (input.MessageDeduplicationId === undefined && !contentDedup)
      throw invalidParameter(
        "MessageDeduplicationId",
        "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
      );
    if (
      input.MessageDeduplicationId !== undefined &&
      !GROUP_OR_DEDUP.test(input.MessageDeduplicationId)
    )
      throw invalidParameter("MessageDeduplicationId", "1-128 printable ASCII characters");
  } else if (input.MessageDeduplicationId !== undefined) {
    throw invalidParameter(
      "MessageDeduplicationId",
      "The request includes MessageDeduplicationId parameter that is not valid for this topic type",
    );
  }
  return bytes;
}

/** Names starting with AWS. or Amazon., in any case, are reserved. */
const RESERVED_NAME = /^(aws\.|amazon\.)/i;
const SNS_NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * Checks message attributes (names, types, values, count); returns their size in bytes. The
 * field an error names is made only for an error: this runs for every published message.
 */
export function checkAttributes(attributes: PubSubMessageAttributes): number {
  const names = Object.keys(attributes);
  if (names.length > MAX_MESSAGE_ATTRIBUTES)
    throw new PubSubError(
      "InvalidParameterValue",
      `Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
      "MessageAttributes",
    );
  let bytes = 0;
  for (const name of names) {
    const attribute = attributes[name]!;
    if (
      !ATTRIBUTE_NAME.test(name) ||
      name.startsWith(".") ||
      name.endsWith(".") ||
      name.includes("..") ||
      RESERVED_NAME.test(name)
    )
      throw new PubSubError(
        "InvalidParameterValue",
        `MessageAttributes.${name}: the name must be 1-256 of A-Z a-z 0-9 _ - . with no leading, trailing or double dot and no AWS. or Amazon. prefix`,
        `MessageAttributes.${name}`,
      );
    if (typeof attribute?.DataType !== "string" || !DATA_TYPE.test(attribute.DataType))
      throw new PubSubError(
        "InvalidParameterValue",
        `MessageAttributes.${name}.DataType: expected String, Number, Binary or String.Array (optionally with a .suffix)`,
        `MessageAttributes.${name}.DataType`,
      );
    const binary = attribute.DataType.startsWith("Binary");
    if (binary) {
      if (!(attribute.BinaryValue instanceof Uint8Array))
        throw new PubSubError(
          "InvalidParameterValue",
          `MessageAttributes.${name}: a Binary attribute needs a BinaryValue`,
          `MessageAttributes.${name}.BinaryValue`,
        );
      bytes += attribute.BinaryValue.length;
    } else {
      const text = attribute.StringValue;
      if (typeof text !== "string" || text.length === 0)
        throw new PubSubError(
          "InvalidParameterValue",
          `MessageAttributes.${name}: The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${attribute.DataType}'.`,
          `MessageAttributes.${name}.StringValue`,
        );
      if (attribute.DataType.startsWith("Number") && !isSnsNumber(text))
        throw new PubSubError(
          "InvalidParameterValue",
          `MessageAttributes.${name}: Could not cast message attribute '${name}' value to number.`,
          `MessageAttributes.${name}.StringValue`,
        );
      if (attribute.DataType === "String.Array" && !isStringArray(text))
        throw new PubSubError(
          "InvalidParameterValue",
          `MessageAttributes.${name}: The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
          `MessageAttributes.${name}.StringValue`,
        );
      bytes += utf8Length(text);
    }
    bytes += utf8Length(name) + utf8Length(attribute.DataType);
  }
  return bytes;
}

/** SNS numbers: finite, within +-1e9, at most 5 digits after the point... and parseable. */
function isSnsNumber(text: string): boolean {
  if (!SNS_NUMBER.test(text)) return false;
  const n = Number(text);
  return Number.isFinite(n) && Math.abs(n) <= 1e9;
}

/** A String.Array is a JSON array of strings, numbers, booleans and nulls. */
function isStringArray(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return (
      Array.isArray(parsed) &&
      parsed.every((v) => v === null || ["string", "number", "boolean"].includes(typeof v))
    );
  } catch {
    return false;
  }
}
