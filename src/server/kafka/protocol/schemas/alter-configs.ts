// Transcribed from Apache Kafka's AlterConfigsRequest.json and AlterConfigsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's AlterConfigs API (key 33). */
export const alterConfigs: ApiSchema = {
  apiKey: 33,
  name: "AlterConfigs",
  request: {
    validVersions: "0-2",
    flexibleVersions: "2+",
    fields: [
      {
        name: "resources",
        type: "[]AlterConfigsResource",
        versions: "0+",
        fields: [
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
          {
            name: "configs",
            type: "[]AlterableConfig",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
      { name: "validateOnly", type: "bool", versions: "0+" },
    ],
  },
  response: {
    validVersions: "0-2",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "responses",
        type: "[]AlterConfigsResourceResponse",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
        ],
      },
    ],
  },
};

/** A decoded AlterConfigs request: every field of every version, defaults where absent. */
export interface AlterConfigsRequest {
  resources: Array<{
    resourceType: number;
    resourceName: string;
    configs: Array<{
      name: string;
      value: string | null;
    }>;
  }>;
  validateOnly: boolean;
}

/** A AlterConfigs response to encode: fields left out take their schema defaults. */
export interface AlterConfigsResponse {
  throttleTimeMs?: number;
  responses?: Array<{
    errorCode?: number;
    errorMessage?: string | null;
    resourceType?: number;
    resourceName?: string;
  }>;
}
