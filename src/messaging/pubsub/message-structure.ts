import { PubSubError } from "./pubsub-error.js";
import type { SubscriptionProtocol } from "./pubsub-service.js";

/** A message published with `MessageStructure: "json"`: one body per protocol, and a default. */
export type StructuredMessage = Readonly<Record<string, string>> & { readonly default: string };

/** SNS's own refusals of a structured message: "Invalid parameter: Message Structure - ...". */
function structureError(reason: string): PubSubError {
  return new PubSubError(
    "InvalidParameter",
    `Invalid parameter: Message Structure - ${reason}`,
    "MessageStructure",
  );
}

/**
 * Parses the Message of a `MessageStructure: "json"` publish: a JSON object whose values are
 * strings, with a "default" entry. Throws InvalidParameter in SNS's words otherwise.
 */
export function parseStructuredMessage(message: string): StructuredMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw structureError("JSON message body failed to parse");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw structureError("JSON message body failed to parse");
  const entries = parsed as Record<string, unknown>;
  if (!Object.hasOwn(entries, "default"))
    throw structureError("No default entry in JSON message body");
  for (const [key, value] of Object.entries(entries))
    if (typeof value !== "string")
      throw structureError(`the value of ${JSON.stringify(key)} must be a string`);
  return entries as StructuredMessage;
}

/**
 * The entry of a structured message a subscription of `protocol` gets: its protocol's own
 * (the key is the Protocol name, "handler" included), else "default".
 */
export function structuredEntryFor(
  message: StructuredMessage,
  protocol: SubscriptionProtocol,
): string {
  return Object.hasOwn(message, protocol) ? protocol : "default";
}
