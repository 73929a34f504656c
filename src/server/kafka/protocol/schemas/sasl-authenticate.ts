// Transcribed from Apache Kafka's SaslAuthenticateRequest.json and SaslAuthenticateResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's SaslAuthenticate API (key 36). */
export const saslAuthenticate: ApiSchema = {
  apiKey: 36,
  name: "SaslAuthenticate",
  request: {
    validVersions: "0-2",
    flexibleVersions: "2+",
    fields: [{ name: "authBytes", type: "bytes", versions: "0+" }],
  },
  response: {
    validVersions: "0-2",
    flexibleVersions: "2+",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      { name: "authBytes", type: "bytes", versions: "0+" },
      { name: "sessionLifetimeMs", type: "int64", versions: "1+", default: "0" },
    ],
  },
};

/** A decoded SaslAuthenticate request: every field of every version, defaults where absent. */
export interface SaslAuthenticateRequest {
  authBytes: Buffer;
}

/** A SaslAuthenticate response to encode: fields left out take their schema defaults. */
export interface SaslAuthenticateResponse {
  errorCode?: number;
  errorMessage?: string | null;
  authBytes?: Buffer;
  sessionLifetimeMs?: number;
}
