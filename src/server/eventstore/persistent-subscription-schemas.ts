/** JSON Schemas of the persistent subscription routes (also the OpenAPI document's). */

export const groupParams = {
  type: "object",
  required: ["group"],
  properties: { group: { type: "string", minLength: 1 } },
} as const;

const names = { type: "array", items: { type: "string" } } as const;

export const create = {
  type: "object",
  required: ["group"],
  additionalProperties: false,
  properties: {
    group: { type: "string", minLength: 1 },
    stream: { type: "string", minLength: 1 },
    startAfter: { anyOf: [{ type: "integer", minimum: -1 }, { const: "end" }] },
    filter: {
      type: "object",
      additionalProperties: false,
      properties: { streamPrefixes: names, types: names },
    },
    maxRetryCount: { type: "integer", minimum: 0 },
    messageTimeoutMs: { type: "integer", minimum: 1 },
    bufferSize: { type: "integer", minimum: 1 },
  },
} as const;

export const connect = {
  type: "object",
  additionalProperties: false,
  properties: { maxInFlight: { type: "integer", minimum: 1 } },
} as const;
