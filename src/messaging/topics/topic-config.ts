import type { LogOptions } from "../../engine/index.js";
import type { CreateTopicInput, TopicConfig } from "./topic-admin.js";
import { invalidTopicInput } from "./topic-error.js";

/** Kafka's defaults, except segments of 128 MiB (one machine, many topics). */
export const DEFAULT_TOPIC_CONFIG: TopicConfig = {
  retentionBytes: -1,
  retentionMs: 7 * 24 * 3600_000,
  cleanupPolicy: "delete",
  segmentBytes: 128 * 1024 * 1024,
  maxMessageBytes: 1_048_588,
  minCompactionLagMs: 0,
};

export const MAX_PARTITIONS = 10_000;
const LEGAL_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const POLICIES: readonly string[] = ["delete", "compact", "compact,delete"];

/** Kafka's topic name rules: 1-249 of [a-zA-Z0-9._-], not "." or "..". */
export function checkTopicName(name: unknown, field = "name"): string {
  if (typeof name !== "string" || !LEGAL_NAME.test(name) || name === "." || name === "..")
    throw invalidTopicInput(
      field,
      `a topic name of 1-249 characters from [a-zA-Z0-9._-], not "." or ".."`,
      name,
      "INVALID_TOPIC_EXCEPTION",
    );
  return name;
}

/** A partition count between 1 and MAX_PARTITIONS. */
export function checkPartitionCount(value: unknown, field = "partitions"): number {
  if (
    typeof value !== "number" ||
    !Number.isSafeInteger(value) ||
    value < 1 ||
    value > MAX_PARTITIONS
  )
    throw invalidTopicInput(
      field,
      `an integer from 1 to ${MAX_PARTITIONS}`,
      value,
      "INVALID_PARTITIONS",
    );
  return value;
}

function intConfig(
  config: Partial<TopicConfig>,
  name: keyof TopicConfig,
  min: number,
  allowUnbounded: boolean,
): number | undefined {
  const value: unknown = config[name];
  if (value === undefined) return undefined;
  const ok =
    typeof value === "number" &&
    Number.isSafeInteger(value) &&
    (value >= min || (allowUnbounded && value === -1));
  if (!ok)
    throw invalidTopicInput(
      name,
      `an integer >= ${min}${allowUnbounded ? " or -1 (unbounded)" : ""}`,
      value,
      "INVALID_CONFIG",
    );
  return value;
}

/** Validates a (partial) config and fills in what is missing from `base`. */
export function resolveTopicConfig(
  config: Partial<TopicConfig>,
  base: TopicConfig = DEFAULT_TOPIC_CONFIG,
): TopicConfig {
  const cleanupPolicy: unknown = config.cleanupPolicy;
  if (
    cleanupPolicy !== undefined &&
    (typeof cleanupPolicy !== "string" || !POLICIES.includes(cleanupPolicy))
  )
    throw invalidTopicInput(
      "cleanupPolicy",
      `"delete", "compact" or "compact,delete"`,
      cleanupPolicy,
      "INVALID_CONFIG",
    );
  return {
    retentionBytes: intConfig(config, "retentionBytes", 0, true) ?? base.retentionBytes,
    retentionMs: intConfig(config, "retentionMs", 0, true) ?? base.retentionMs,
    cleanupPolicy: config.cleanupPolicy ?? base.cleanupPolicy,
    segmentBytes: intConfig(config, "segmentBytes", 14, false) ?? base.segmentBytes,
    maxMessageBytes: intConfig(config, "maxMessageBytes", 1, false) ?? base.maxMessageBytes,
    minCompactionLagMs:
      intConfig(config, "minCompactionLagMs", 0, false) ?? base.minCompactionLagMs,
  };
}

/** Only the config fields of a create request. */
export function configOf(input: CreateTopicInput): Partial<TopicConfig> {
  const { name: _name, partitions: _partitions, ...config } = input;
  return config;
}

/** Batch overhead Kafka counts in max.message.bytes beyond the records themselves. */
const BATCH_OVERHEAD_BYTES = 61;

/**
 * The engine options of one partition's log: the engine enforces segment size, retention,
 * cleanup and the minimum compaction lag.
 */
export function logOptionsFor(config: TopicConfig): LogOptions {
  return {
    segmentBytes: Math.max(1024, config.segmentBytes),
    cleanupPolicy: config.cleanupPolicy,
    minCompactionLagMs: config.minCompactionLagMs,
    // -1 is unbounded; 0 (keep nothing past the active segment, as Kafka allows) is 1 to the
    // engine, whose limits start at 1.
    ...(config.retentionMs < 0 ? {} : { retentionMs: Math.max(1, config.retentionMs) }),
    ...(config.retentionBytes < 0 ? {} : { retentionBytes: Math.max(1, config.retentionBytes) }),
    maxRecordBytes: Math.max(1, config.maxMessageBytes),
    maxBatchBytes: Math.max(16 * 1024 * 1024, config.maxMessageBytes + BATCH_OVERHEAD_BYTES),
  };
}
