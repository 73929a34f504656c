import { PubSubError, invalidParameter } from "./pubsub-error.js";
import type { PubSubTag } from "./pubsub-service.js";

/** SNS's limit on tags per topic. */
export const MAX_TAGS_PER_TOPIC = 50;
/** SNS's tag characters: letters, digits, spaces and _ . : / = + - @. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Checks tags at the edge (key 1-128 characters, value 0-256, SNS's characters). */
export function checkTags(tags: unknown, field = "Tags"): readonly PubSubTag[] {
  if (!Array.isArray(tags)) throw invalidParameter(field, "expected a list of tags");
  // Loops, not forEach: a sparse array's holes are tags to refuse, not to skip.
  for (let i = 0; i < tags.length; i++) {
    const tag: unknown = tags[i];
    const at = `${field}.member.${i + 1}`;
    const { Key: key, Value: value } = (tag ?? {}) as { Key?: unknown; Value?: unknown };
    if (typeof key !== "string" || key.length < 1 || key.length > 128 || !TAG_TEXT.test(key))
      throw invalidParameter(`${at}.Key`, "1-128 letters, digits, spaces or _ . : / = + - @");
    if (/^aws:/i.test(key)) throw invalidParameter(`${at}.Key`, "the aws: prefix is reserved");
    if (typeof value !== "string" || value.length > 256 || !TAG_TEXT.test(value))
      throw invalidParameter(`${at}.Value`, "0-256 letters, digits, spaces or _ . : / = + - @");
  }
  return tags as readonly PubSubTag[];
}

/** Checks tag keys to remove (each 1-128 characters). */
export function checkTagKeys(keys: unknown): readonly string[] {
  if (!Array.isArray(keys)) throw invalidParameter("TagKeys", "expected a list of tag keys");
  for (let i = 0; i < keys.length; i++) {
    const key: unknown = keys[i];
    if (typeof key !== "string" || key.length < 1 || key.length > 128)
      throw invalidParameter(`TagKeys.member.${i + 1}`, "a tag key of 1-128 characters");
  }
  return keys as readonly string[];
}

/** `tags` with `added` put in (a key given twice keeps its last value), within SNS's limit. */
export function withTags(
  tags: Readonly<Record<string, string>>,
  added: readonly PubSubTag[],
): Record<string, string> {
  const merged: Record<string, string> = { ...tags };
  for (const tag of added) merged[tag.Key] = tag.Value;
  if (Object.keys(merged).length > MAX_TAGS_PER_TOPIC)
    throw new PubSubError(
      "TagLimitExceeded",
      `Could not complete request: tag quota of per resource exceeded (${Object.keys(merged).length} > ${MAX_TAGS_PER_TOPIC})`,
      "Tags",
    );
  return merged;
}
