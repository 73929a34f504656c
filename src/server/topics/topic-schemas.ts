/** JSON Schemas of the topics and consumer-group REST routes (also the OpenAPI document's). */

export const topicParams = {
  type: "object",
  required: ["topic"],
  properties: { topic: { type: "string", minLength: 1, maxLength: 249 } },
} as const;

export const partitionParams = {
  type: "object",
  required: ["topic", "partition"],
  properties: {
    topic: { type: "string", minLength: 1, maxLength: 249 },
    partition: { type: "integer", minimum: 0 },
  },
} as const;

export const groupParams = {
  type: "object",
  required: ["group"],
  properties: { group: { type: "string", minLength: 1 } },
} as const;

const configProperties = {
  retentionBytes: { type: "integer" },
  retentionMs: { type: "integer" },
  cleanupPolicy: { enum: ["delete", "compact", "compact,delete"] },
  segmentBytes: { type: "integer" },
  maxMessageBytes: { type: "integer" },
  minCompactionLagMs: { type: "integer" },
} as const;

export const topicConfig = {
  type: "object",
  additionalProperties: false,
  properties: configProperties,
} as const;

export const createTopic = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: { name: { type: "string" }, partitions: { type: "integer" }, ...configProperties },
} as const;

export const createPartitions = {
  type: "object",
  required: ["count"],
  additionalProperties: false,
  properties: { count: { type: "integer", minimum: 1 } },
} as const;

/** Keys, values and header values: UTF-8 text, or base64 when `encoding` says so; null allowed. */
const bytes = { type: ["string", "null"] } as const;

export const produce = {
  type: "object",
  required: ["records"],
  additionalProperties: false,
  properties: {
    encoding: { enum: ["utf8", "base64"], description: "of keys, values and header values" },
    acks: { enum: [0, 1, -1, "all"] },
    records: {
      type: "array",
      minItems: 1,
      maxItems: 100_000,
      items: {
        type: "object",
        additionalProperties: false,
        properties: {
          key: bytes,
          value: bytes,
          partition: { type: "integer", minimum: 0 },
          timestamp: { type: "integer", minimum: 0 },
          headers: {
            type: "array",
            items: {
              type: "object",
              required: ["key"],
              additionalProperties: false,
              properties: { key: { type: "string" }, value: bytes },
            },
          },
        },
      },
    },
  },
} as const;

export const fetchQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    offset: { type: "integer", minimum: 0, description: "default: the log start" },
    maxRecords: { type: "integer", minimum: 1, maximum: 10_000 },
    waitMs: { type: "integer", minimum: 0, maximum: 20_000, description: "long poll" },
    encoding: { enum: ["utf8", "base64"] },
    isolationLevel: { enum: ["read_uncommitted", "read_committed"] },
  },
} as const;

export const offsetForTimestamp = {
  type: "object",
  required: ["timestamp"],
  additionalProperties: false,
  properties: { timestamp: { type: "integer", minimum: 0 } },
} as const;

export const deleteRecords = {
  type: "object",
  required: ["beforeOffset"],
  additionalProperties: false,
  properties: { beforeOffset: { type: "integer", minimum: 0 } },
} as const;

export const groupOffsets = {
  type: "object",
  required: ["offsets"],
  additionalProperties: false,
  properties: {
    offsets: {
      type: "array",
      items: {
        type: "object",
        required: ["topic", "partition", "offset"],
        additionalProperties: false,
        properties: {
          topic: { type: "string" },
          partition: { type: "integer", minimum: 0 },
          offset: { type: "integer", minimum: 0 },
          metadata: { type: "string" },
        },
      },
    },
  },
} as const;
