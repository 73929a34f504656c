// Kafka's topic config names and Sluice's TopicConfig fields, both ways.
import type { TopicConfig } from "../../../messaging/topics/index.js";
import {
  DEFAULT_TOPIC_CONFIG,
  resolveTopicConfig,
} from "../../../messaging/topics/topic-config.js";
import { invalidTopicInput } from "../../../messaging/topics/topic-error.js";

type NumericField = Exclude<keyof TopicConfig, "cleanupPolicy">;

/** Kafka's ConfigResource types that Sluice's listener knows. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4 } as const;

const NUMERIC: Record<string, NumericField> = {
  "retention.ms": "retentionMs",
  "retention.bytes": "retentionBytes",
  "segment.bytes": "segmentBytes",
  "max.message.bytes": "maxMessageBytes",
  "min.compaction.lag.ms": "minCompactionLagMs",
};

/**
 * Kafka topic configs accepted and ignored: they concern replication or broker choices that a
 * single-node Sluice has no use for, and clients set them routinely.
 */
const ACCEPTED_UNUSED = new Set([
  "min.insync.replicas",
  "unclean.leader.election.enable",
  "compression.type",
  "message.downconversion.enable",
  "preallocate",
  "flush.messages",
  "flush.ms",
  "segment.ms",
  "segment.index.bytes",
  "index.interval.bytes",
  "delete.retention.ms",
  "file.delete.delay.ms",
  "min.cleanable.dirty.ratio",
  "max.compaction.lag.ms",
]);

/** Kafka's config names for the topic settings Sluice keeps. */
export const TOPIC_CONFIG_NAMES = ["cleanup.policy", ...Object.keys(NUMERIC)];

/** TopicConfig fields from Kafka config name/value pairs; INVALID_CONFIG for names or values it cannot take. */
export function topicConfigFromKafka(
  entries: ReadonlyArray<{ name: string; value: string | null }>,
): Partial<TopicConfig> {
  const out: { -readonly [K in keyof TopicConfig]?: TopicConfig[K] } = {};
  for (const { name, value } of entries) {
    if (value === null || ACCEPTED_UNUSED.has(name)) continue;
    // Records keep the producer's time: LogAppendTime (the broker's time) is not built, and
    // taking it silently would hand consumers other timestamps than the topic promises.
    if (name === "message.timestamp.type") {
      if (value !== "CreateTime")
        throw invalidTopicInput(
          name,
          "CreateTime (LogAppendTime is not supported)",
          value,
          "INVALID_CONFIG",
        );
      continue;
    }
    if (name === "cleanup.policy") {
      const parts = value
        .split(",")
        .map((p) => p.trim())
        .sort();
      const policy = parts.join(",");
      if (policy !== "delete" && policy !== "compact" && policy !== "compact,delete")
        throw invalidTopicInput(name, "delete, compact or compact,delete", value, "INVALID_CONFIG");
      out.cleanupPolicy = policy;
      continue;
    }
    const field = NUMERIC[name];
    if (field === undefined)
      throw invalidTopicInput(name, "a topic config Sluice knows", value, "INVALID_CONFIG");
    const number = Number(value);
    if (value.trim() === "" || !Number.isSafeInteger(number))
      throw invalidTopicInput(name, "an integer", value, "INVALID_CONFIG");
    out[field] = number;
  }
  return out;
}

/** A topic's settings as Kafka config name/value pairs. */
export function topicConfigToKafka(config: TopicConfig): Array<{ name: string; value: string }> {
  return [
    { name: "cleanup.policy", value: config.cleanupPolicy },
    ...Object.entries(NUMERIC).map(([name, field]) => ({ name, value: String(config[field]) })),
  ];
}

/**
 * AlterConfigs' answer to "what is this topic's config now": the entries given, every other
 * setting back to its default (AlterConfigs replaces a resource's whole dynamic config).
 */
export function replacedTopicConfig(
  entries: ReadonlyArray<{ name: string; value: string | null }>,
): TopicConfig {
  return resolveTopicConfig(topicConfigFromKafka(entries), DEFAULT_TOPIC_CONFIG);
}

/** IncrementalAlterConfigs' operations (KIP-339). */
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

/**
 * IncrementalAlterConfigs: `current` with each operation applied in order. SET takes the value,
 * DELETE brings the default back, APPEND and SUBTRACT add to or take from a list config (only
 * cleanup.policy is one). INVALID_CONFIG for what a config cannot take, INVALID_REQUEST for an
 * unknown operation.
 */
export function incrementedTopicConfig(
  current: TopicConfig,
  operations: ReadonlyArray<{ name: string; configOperation: number; value: string | null }>,
): TopicConfig {
  let config = current;
  for (const { name, configOperation, value } of operations) {
    if (configOperation === SET) {
      if (value === null) throw invalidTopicInput(name, "a value to set", value, "INVALID_CONFIG");
      config = resolveTopicConfig(topicConfigFromKafka([{ name, value }]), config);
    } else if (configOperation === DELETE) {
      if (ACCEPTED_UNUSED.has(name)) continue;
      const field = fieldOf(name);
      config = { ...config, [field]: DEFAULT_TOPIC_CONFIG[field] };
    } else if (configOperation === APPEND || configOperation === SUBTRACT) {
      if (name !== "cleanup.policy")
        throw invalidTopicInput(
          name,
          "a list config (only cleanup.policy is one) for APPEND or SUBTRACT",
          value,
          "INVALID_CONFIG",
        );
      const given = (value ?? "").split(",").map((p) => p.trim());
      const parts = new Set(config.cleanupPolicy.split(","));
      for (const part of given) {
        if (configOperation === APPEND) parts.add(part);
        else parts.delete(part);
      }
      config = resolveTopicConfig(
        topicConfigFromKafka([{ name, value: [...parts].join(",") }]),
        config,
      );
    } else
      throw invalidTopicInput(
        `${name} configOperation`,
        "0 (SET), 1 (DELETE), 2 (APPEND) or 3 (SUBTRACT)",
        configOperation,
      );
  }
  return config;
}

function fieldOf(name: string): keyof TopicConfig {
  if (name === "cleanup.policy") return "cleanupPolicy";
  const field = NUMERIC[name];
  if (field === undefined)
    throw invalidTopicInput(name, "a topic config Sluice knows", undefined, "INVALID_CONFIG");
  return field;
}
