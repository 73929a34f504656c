/** JSON Schemas of the event store REST routes (also the OpenAPI document's). */

export const streamParams = {
  type: "object",
  required: ["stream"],
  properties: { stream: { type: "string", minLength: 1 } },
} as const;

const expectedVersion = {
  anyOf: [{ enum: ["any", "no_stream", "stream_exists"] }, { type: "integer", minimum: 0 }],
} as const;

export const append = {
  type: "object",
  required: ["events"],
  additionalProperties: false,
  properties: {
    expectedVersion,
    events: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["type", "data"],
        additionalProperties: false,
        properties: {
          id: { type: "string" },
          type: { type: "string" },
          data: {},
          metadata: { type: "object" },
          schemaVersion: { type: "integer", minimum: 1 },
        },
      },
    },
  },
} as const;

export const readStream = {
  type: "object",
  additionalProperties: false,
  properties: {
    direction: { enum: ["forward", "backward"] },
    fromVersion: { type: "integer", minimum: 0 },
    maxCount: { type: "integer", minimum: 1 },
    history: { type: "boolean" },
  },
} as const;

const csv = { type: "string", description: "comma-separated" } as const;

export const readAll = {
  type: "object",
  additionalProperties: false,
  properties: {
    direction: { enum: ["forward", "backward"] },
    fromPosition: { type: "integer", minimum: 0 },
    maxCount: { type: "integer", minimum: 1 },
    streamPrefixes: csv,
    types: csv,
    includeSystem: { type: "boolean" },
  },
} as const;

export const listStreams = {
  type: "object",
  additionalProperties: false,
  properties: { includeSystem: { type: "boolean" } },
} as const;

export const streamMetadata = {
  type: "object",
  additionalProperties: false,
  properties: {
    maxAgeMs: { type: "integer", minimum: 0 },
    maxCount: { type: "integer", minimum: 0 },
    truncateBefore: { type: "integer", minimum: 0 },
    custom: { type: "object" },
  },
} as const;

export const deleteStream = {
  type: "object",
  additionalProperties: false,
  properties: { expectedVersion, hard: { type: "boolean" } },
} as const;

export const positionAt = {
  type: "object",
  required: ["timestamp"],
  additionalProperties: false,
  properties: { timestamp: { type: "integer" } },
} as const;

export const audit = {
  type: "object",
  additionalProperties: false,
  properties: {
    stream: { type: "string" },
    type: { type: "string" },
    fromTime: { type: "integer" },
    toTime: { type: "integer" },
    limit: { type: "integer", minimum: 1, maximum: 10_000 },
  },
} as const;

export const waitForAppend = {
  type: "object",
  required: ["position"],
  additionalProperties: false,
  properties: {
    position: { type: "integer", minimum: -1 },
    waitMs: { type: "integer", minimum: 0, maximum: 20_000 },
  },
} as const;
