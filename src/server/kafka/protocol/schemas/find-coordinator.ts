// Transcribed from Apache Kafka's FindCoordinatorRequest.json and FindCoordinatorResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's FindCoordinator API (key 10). */
export const findCoordinator: ApiSchema = {
  apiKey: 10,
  name: "FindCoordinator",
  request: {
    validVersions: "0-6",
    flexibleVersions: "3+",
    fields: [
      { name: "key", type: "string", versions: "0-3" },
      { name: "keyType", type: "int8", versions: "1+", default: "0" },
      { name: "coordinatorKeys", type: "[]string", versions: "4+" },
    ],
  },
  response: {
    validVersions: "0-6",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      { name: "errorCode", type: "int16", versions: "0-3" },
      { name: "errorMessage", type: "string", versions: "1-3", nullableVersions: "1-3" },
      { name: "nodeId", type: "int32", versions: "0-3" },
      { name: "host", type: "string", versions: "0-3" },
      { name: "port", type: "int32", versions: "0-3" },
      {
        name: "coordinators",
        type: "[]Coordinator",
        versions: "4+",
        fields: [
          { name: "key", type: "string", versions: "4+" },
          { name: "nodeId", type: "int32", versions: "4+" },
          { name: "host", type: "string", versions: "4+" },
          { name: "port", type: "int32", versions: "4+" },
          { name: "errorCode", type: "int16", versions: "4+" },
          { name: "errorMessage", type: "string", versions: "4+", nullableVersions: "4+" },
        ],
      },
    ],
  },
};

/** A decoded FindCoordinator request: every field of every version, defaults where absent. */
export interface FindCoordinatorRequest {
  key: string;
  keyType: number;
  coordinatorKeys: string[];
}

/** A FindCoordinator response to encode: fields left out take their schema defaults. */
export interface FindCoordinatorResponse {
  throttleTimeMs?: number;
  errorCode?: number;
  errorMessage?: string | null;
  nodeId?: number;
  host?: string;
  port?: number;
  coordinators?: Array<{
    key?: string;
    nodeId?: number;
    host?: string;
    port?: number;
    errorCode?: number;
    errorMessage?: string | null;
  }>;
}
