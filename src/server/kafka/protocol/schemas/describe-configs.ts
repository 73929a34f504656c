// Transcribed from Apache Kafka's DescribeConfigsRequest.json and DescribeConfigsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's DescribeConfigs API (key 32). */
export const describeConfigs: ApiSchema = {
  apiKey: 32,
  name: "DescribeConfigs",
  request: {
    validVersions: "0-4",
    flexibleVersions: "4+",
    fields: [
      {
        name: "resources",
        type: "[]DescribeConfigsResource",
        versions: "0+",
        fields: [
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
          { name: "configurationKeys", type: "[]string", versions: "0+", nullableVersions: "0+" },
        ],
      },
      { name: "includeSynonyms", type: "bool", versions: "1+", default: "false" },
      { name: "includeDocumentation", type: "bool", versions: "3+", default: "false" },
    ],
  },
  response: {
    validVersions: "0-4",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "results",
        type: "[]DescribeConfigsResult",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
          {
            name: "configs",
            type: "[]DescribeConfigsResourceResult",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
              { name: "readOnly", type: "bool", versions: "0+" },
              { name: "isDefault", type: "bool", versions: "0" },
              { name: "configSource", type: "int8", versions: "1+", default: "-1" },
              { name: "isSensitive", type: "bool", versions: "0+" },
              {
                name: "synonyms",
                type: "[]DescribeConfigsSynonym",
                versions: "1+",
                fields: [
                  { name: "name", type: "string", versions: "1+" },
                  { name: "value", type: "string", versions: "1+", nullableVersions: "0+" },
                  { name: "source", type: "int8", versions: "1+" },
                ],
              },
              { name: "configType", type: "int8", versions: "3+", default: "0" },
              { name: "documentation", type: "string", versions: "3+", nullableVersions: "0+" },
            ],
          },
        ],
      },
    ],
  },
};

/** A decoded DescribeConfigs request: every field of every version, defaults where absent. */
export interface DescribeConfigsRequest {
  resources: Array<{
    resourceType: number;
    resourceName: string;
    configurationKeys: string[] | null;
  }>;
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}

/** A DescribeConfigs response to encode: fields left out take their schema defaults. */
export interface DescribeConfigsResponse {
  throttleTimeMs?: number;
  results?: Array<{
    errorCode?: number;
    errorMessage?: string | null;
    resourceType?: number;
    resourceName?: string;
    configs?: Array<{
      name?: string;
      value?: string | null;
      readOnly?: boolean;
      isDefault?: boolean;
      configSource?: number;
      isSensitive?: boolean;
      synonyms?: Array<{
        name?: string;
        value?: string | null;
        source?: number;
      }>;
      configType?: number;
      documentation?: string | null;
    }>;
  }>;
}
