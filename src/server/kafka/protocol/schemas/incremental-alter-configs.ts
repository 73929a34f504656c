// Transcribed from Apache Kafka's IncrementalAlterConfigsRequest.json and IncrementalAlterConfigsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's IncrementalAlterConfigs API (key 44). */
export const incrementalAlterConfigs: ApiSchema = {
  apiKey: 44,
  name: "IncrementalAlterConfigs",
  request: {
    validVersions: "0-1",
    flexibleVersions: "1+",
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
              { name: "configOperation", type: "int8", versions: "0+" },
              { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
      { name: "validateOnly", type: "bool", versions: "0+" },
    ],
  },
  response: {
    validVersions: "0-1",
    flexibleVersions: "1+",
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

/** A decoded IncrementalAlterConfigs request: every field of every version, defaults where absent. */
export interface IncrementalAlterConfigsRequest {
  resources: Array<{
    resourceType: number;
    resourceName: string;
    configs: Array<{
      name: string;
      configOperation: number;
      value: string | null;
    }>;
  }>;
  validateOnly: boolean;
}

/** A IncrementalAlterConfigs response to encode: fields left out take their schema defaults. */
export interface IncrementalAlterConfigsResponse {
  throttleTimeMs?: number;
  responses?: Array<{
    errorCode?: number;
    errorMessage?: string | null;
    resourceType?: number;
    resourceName?: string;
  }>;
}
