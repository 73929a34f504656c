import { invalidTopicInput } from "./topic-error.js";
import type { TopicPartition } from "./topic-admin.js";
/** True when a value typed as a list really is an array (input from JavaScript callers may not be). */
export function isList<T>(value: readonly T[]): boolean {
  const unknownValue: unknown = value;
  return Array.isArray(unknownValue);
}

/**
 * Checks a list of partitions from a caller: an array whose every element (holes of a sparse
 * array included) is `{ topic: string, partition: integer >= 0 }`.
 */
export function checkPartitionList(value: unknown, field = "partitions"): TopicPartition[] {
  if (!Array.isArray(value))
    throw invalidTopicInput(field, "an array of { topic, partition }", value);
  const out: TopicPartition[] = [];
  for (let i = 0; i < value.length; i++) out.push(checkTopicPartition(value[i], `${field}[${i}]`));
  return out;
}

/** Checks one `{ topic, partition }` from a caller. */
export function checkTopicPartition(value: unknown, field = "partition"): TopicPartition {
  if (typeof value !== "object" || value === null)
    throw invalidTopicInput(field, "{ topic, partition }", value);
  const { topic, partition } = value as { topic?: unknown; partition?: unknown };
  if (typeof topic !== "string") throw invalidTopicInput(`${field}.topic`, "a topic name", topic);
  if (!Number.isSafeInteger(partition) || (partition as number) < 0)
    throw invalidTopicInput(`${field}.partition`, "an integer >= 0", partition);
  return { topic, partition: partition as number };
}

/** Checks an options argument: undefined means none; null or a non-object is refused. */
export function checkTopicOptions<T extends object>(value: T | undefined, field = "options"): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalidTopicInput(field, "an options object", value);
  return value;
}

/** Checks a consumer group id from a caller: a string. */
export function checkGroupId(value: unknown, field = "groupId"): string {
  if (typeof value !== "string") throw invalidTopicInput(field, "a group id", value);
  return value;
}
