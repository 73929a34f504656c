// Transcribed from Apache Kafka's RequestHeader.json and ResponseHeader.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { MessageSchema } from "../schema.js";

/** The request header: v1 for rigid requests, v2 (flexible) for flexible ones. */
export const requestHeader: MessageSchema = {
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "requestApiKey", type: "int16", versions: "0+" },
    { name: "requestApiVersion", type: "int16", versions: "0+" },
    { name: "correlationId", type: "int32", versions: "0+" },
    {
      name: "clientId",
      type: "string",
      versions: "1+",
      nullableVersions: "1+",
      flexibleVersions: "none",
    },
  ],
};

/** The response header: v0 for rigid responses (and every ApiVersions response), v1 for flexible ones. */
export const responseHeader: MessageSchema = {
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [{ name: "correlationId", type: "int32", versions: "0+" }],
};
