// Transcribed from Apache Kafka's ApiVersionsRequest.json and ApiVersionsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's ApiVersions API (key 18). */
export const apiVersions: ApiSchema = {
  apiKey: 18,
  name: "ApiVersions",
  request: {
    validVersions: "0-4",
    flexibleVersions: "3+",
    fields: [
      { name: "clientSoftwareName", type: "string", versions: "3+" },
      { name: "clientSoftwareVersion", type: "string", versions: "3+" },
    ],
  },
  response: {
    validVersions: "0-4",
    flexibleVersions: "3+",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "apiKeys",
        type: "[]ApiVersion",
        versions: "0+",
        fields: [
          { name: "apiKey", type: "int16", versions: "0+" },
          { name: "minVersion", type: "int16", versions: "0+" },
          { name: "maxVersion", type: "int16", versions: "0+" },
        ],
      },
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      {
        name: "supportedFeatures",
        type: "[]SupportedFeatureKey",
        versions: "3+",
        taggedVersions: "3+",
        tag: 0,
        fields: [
          { name: "name", type: "string", versions: "3+" },
          { name: "minVersion", type: "int16", versions: "3+" },
          { name: "maxVersion", type: "int16", versions: "3+" },
        ],
      },
      {
        name: "finalizedFeaturesEpoch",
        type: "int64",
        versions: "3+",
        taggedVersions: "3+",
        tag: 1,
        default: "-1",
      },
      {
        name: "finalizedFeatures",
        type: "[]FinalizedFeatureKey",
        versions: "3+",
        taggedVersions: "3+",
        tag: 2,
        fields: [
          { name: "name", type: "string", versions: "3+" },
          { name: "maxVersionLevel", type: "int16", versions: "3+" },
          { name: "minVersionLevel", type: "int16", versions: "3+" },
        ],
      },
      {
        name: "zkMigrationReady",
        type: "bool",
        versions: "3+",
        taggedVersions: "3+",
        tag: 3,
        default: "false",
      },
    ],
  },
};

/** A decoded ApiVersions request: every field of every version, defaults where absent. */
export interface ApiVersionsRequest {
  clientSoftwareName: string;
  clientSoftwareVersion: string;
}

/** A ApiVersions response to encode: fields left out take their schema defaults. */
export interface ApiVersionsResponse {
  errorCode?: number;
  apiKeys?: Array<{
    apiKey?: number;
    minVersion?: number;
    maxVersion?: number;
  }>;
  throttleTimeMs?: number;
  supportedFeatures?: Array<{
    name?: string;
    minVersion?: number;
    maxVersion?: number;
  }>;
  finalizedFeaturesEpoch?: number;
  finalizedFeatures?: Array<{
    name?: string;
    maxVersionLevel?: number;
    minVersionLevel?: number;
  }>;
  zkMigrationReady?: boolean;
}
