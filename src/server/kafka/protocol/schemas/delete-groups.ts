// Transcribed from Apache Kafka's DeleteGroupsRequest.json and DeleteGroupsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's DeleteGroups API (key 42). */
export const deleteGroups: ApiSchema = {
  apiKey: 42,
  name: "DeleteGroups",
  request: {
    validVersions: "0-2",
    flexibleVersions: "2+",
    fields: [{ name: "groupsNames", type: "[]string", versions: "0+" }],
  },
  response: {
    validVersions: "0-2",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "results",
        type: "[]DeletableGroupResult",
        versions: "0+",
        fields: [
          { name: "groupId", type: "string", versions: "0+" },
          { name: "errorCode", type: "int16", versions: "0+" },
        ],
      },
    ],
  },
};

/** A decoded DeleteGroups request: every field of every version, defaults where absent. */
export interface DeleteGroupsRequest {
  groupsNames: string[];
}

/** A DeleteGroups response to encode: fields left out take their schema defaults. */
export interface DeleteGroupsResponse {
  throttleTimeMs?: number;
  results?: Array<{
    groupId?: string;
    errorCode?: number;
  }>;
}
