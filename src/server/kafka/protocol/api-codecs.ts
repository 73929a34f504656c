import { compileMessage, type MessageCodec } from "./message-codec.js";
import type { ApiSchema, MessageSchema } from "./schema.js";
import { requestHeader, responseHeader } from "./schemas/headers.js";
import { inRange } from "./version-range.js";

const cache = new WeakMap<MessageSchema, Map<number, MessageCodec>>();

/** The codec of `schema` at `version`, compiled on first use and kept. */
export function codecFor(schema: MessageSchema, version: number): MessageCodec {
  let byVersion = cache.get(schema);
  if (byVersion === undefined) {
    byVersion = new Map();
    cache.set(schema, byVersion);
  }
  let codec = byVersion.get(version);
  if (codec === undefined) {
    codec = compileMessage(schema, version);
    byVersion.set(version, codec);
  }
  return codec;
}

/** The request header codec an API's request uses at `version` (v2 when flexible, else v1). */
export function requestHeaderCodec(api: ApiSchema, version: number): MessageCodec {
  return codecFor(requestHeader, inRange(api.request.flexibleVersions, version) ? 2 : 1);
}

/**
 * The response header codec for an API's response at `version`: v1 when flexible, else v0, and
 * always v0 for ApiVersions (a client must read it before it knows what the broker speaks).
 */
export function responseHeaderCodec(api: ApiSchema, version: number): MessageCodec {
  const flexible =
    api.apiKey !== API_VERSIONS_KEY && inRange(api.response.flexibleVersions, version);
  return codecFor(responseHeader, flexible ? 1 : 0);
}

export const API_VERSIONS_KEY = 18;
