// Transcribed from Apache Kafka's SaslHandshakeRequest.json and SaslHandshakeResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's SaslHandshake API (key 17). */
export const saslHandshake: ApiSchema = {
  apiKey: 17,
  name: "SaslHandshake",
  request: {
    validVersions: "0-1",
    flexibleVersions: "none",
    fields: [{ name: "mechanism", type: "string", versions: "0+" }],
  },
  response: {
    validVersions: "0-1",
    flexibleVersions: "none",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "mechanisms", type: "[]string", versions: "0+" },
    ],
  },
};

/** A decoded SaslHandshake request: every field of every version, defaults where absent. */
export interface SaslHandshakeRequest {
  mechanism: string;
}

/** A SaslHandshake response to encode: fields left out take their schema defaults. */
export interface SaslHandshakeResponse {
  errorCode?: number;
  mechanisms?: string[];
}
