import { describeValue } from "../../errors/index.js";
import { invalidField } from "./bus-error.js";
import type { Tag } from "./event-bus-service.js";

/** EventBridge's limits on the tags of one bus or rule. */
export const MAX_TAGS_PER_RESOURCE = 50;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;

function checkTagKey(key: unknown, field: string): string {
  if (typeof key !== "string" || key.length < 1 || key.length > MAX_TAG_KEY_LENGTH)
    throw invalidField(
      field,
      `expected a tag key of 1-${MAX_TAG_KEY_LENGTH} characters, got ${describeValue(key)}`,
    );
  return key;
}

/** A request's list of tags (`Tags` of TagResource, CreateEventBus, PutRule), checked one by one. */
export function checkTags(value: unknown, field = "Tags"): Tag[] {
  if (!Array.isArray(value))
    throw invalidField(field, `expected a list of {Key, Value}, got ${describeValue(value)}`);
  const tags: Tag[] = [];
  // A loop, not map: a sparse array's holes are tags to refuse, not to skip.
  for (let i = 0; i < value.length; i++) {
    const tag: unknown = value[i];
    if (typeof tag !== "object" || tag === null || Array.isArray(tag))
      throw invalidField(`${field}[${i}]`, `expected {Key, Value}, got ${describeValue(tag)}`);
    const { Key, Value } = tag as { Key?: unknown; Value?: unknown };
    checkTagKey(Key, `${field}[${i}].Key`);
    if (typeof Value !== "string" || Value.length > MAX_TAG_VALUE_LENGTH)
      throw invalidField(
        `${field}[${i}].Value`,
        `expected a tag value of 0-${MAX_TAG_VALUE_LENGTH} characters, got ${describeValue(Value)}`,
      );
    tags.push({ Key: Key as string, Value });
  }
  return tags;
}

/** UntagResource's `TagKeys`, checked one by one. */
export function checkTagKeys(value: unknown, field = "TagKeys"): string[] {
  if (!Array.isArray(value))
    throw invalidField(field, `expected a list of tag keys, got ${describeValue(value)}`);
  return (value as unknown[]).map((key, i) => checkTagKey(key, `${field}[${i}]`));
}

/**
 * `current` with `added` applied: a new key is appended, a key already there takes the new value
 * in its place. More than 50 keys in the result is refused, so rewriting the values of a resource
 * that has 50 tags still works.
 */
export function withTags(current: readonly Tag[], added: readonly Tag[], field = "Tags"): Tag[] {
  const merged = new Map(current.map((t) => [t.Key, t.Value]));
  for (const { Key, Value } of added) merged.set(Key, Value);
  if (merged.size > MAX_TAGS_PER_RESOURCE)
    throw invalidField(
      field,
      `a resource can have at most ${MAX_TAGS_PER_RESOURCE} tags; this would make ${merged.size}`,
    );
  return [...merged].map(([Key, Value]) => ({ Key, Value }));
}

/** `current` without the tags of these keys (keys it does not have are ignored). */
export function withoutTags(current: readonly Tag[], keys: readonly string[]): Tag[] {
  const removed = new Set(keys);
  return current.filter((t) => !removed.has(t.Key));
}
