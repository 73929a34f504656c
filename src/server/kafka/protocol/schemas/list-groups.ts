// Transcribed from Apache Kafka's ListGroupsRequest.json and ListGroupsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's ListGroups API (key 16). */
export const listGroups: ApiSchema = {
  apiKey: 16,
  name: "ListGroups",
  request: {
    validVersions: "0-5",
    flexibleVersions: "3+",
    fields: [
      { name: "statesFilter", type: "[]string", versions: "4+" },
      { name: "typesFilter", type: "[]string", versions: "5+" },
    ],
  },
  response: {
    validVersions: "0-5",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "groups",
        type: "[]ListedGroup",
        versions: "0+",
        fields: [
          { name: "groupId", type: "string", versions: "0+" },
          { name: "protocolType", type: "string", versions: "0+" },
          { name: "groupState", type: "string", versions: "4+" },
          { name: "groupType", type: "string", versions: "5+" },
        ],
      },
    ],
  },
};

/** A decoded ListGroups request: every field of every version, defaults where absent. */
export interface ListGroupsRequest {
  statesFilter: string[];
  typesFilter: string[];
}

/** A ListGroups response to encode: fields left out take their schema defaults. */
export interface ListGroupsResponse {
  throttleTimeMs?: number;
  errorCode?: number;
  groups?: Array<{
    groupId?: string;
    protocolType?: string;
    groupState?: string;
    groupType?: string;
  }>;
}
