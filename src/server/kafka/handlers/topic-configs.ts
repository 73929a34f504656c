// Kafka's topic config names and Sluice's TopicConfig fields, both ways.
import type { TopicConfig } from "../../../messaging/topics/index.js";
import { invalidTopicInput } from "../../../messaging/topics/topic-error.js";

type NumericField = Exclude<keyof TopicConfig, "cleanupPolicy">;

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
  "message.timestamp.type",
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
