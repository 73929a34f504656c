// Transcribed from Apache Kafka's DescribeGroupsRequest.json and DescribeGroupsResponse.json
// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.
import type { ApiSchema } from "../schema.js";

/** Kafka's DescribeGroups API (key 15). */
export const describeGroups: ApiSchema = {
  apiKey: 15,
  name: "DescribeGroups",
  request: {
    validVersions: "0-5",
    flexibleVersions: "5+",
    fields: [
      { name: "groups", type: "[]string", versions: "0+" },
      { name: "includeAuthorizedOperations", type: "bool", versions: "3+" },
    ],
  },
  response: {
    validVersions: "0-5",
    flexibleVersions: "5+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      {
        name: "groups",
        type: "[]DescribedGroup",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "groupId", type: "string", versions: "0+" },
          { name: "groupState", type: "string", versions: "0+" },
          { name: "protocolType", type: "string", versions: "0+" },
          { name: "protocolData", type: "string", versions: "0+" },
          {
            name: "members",
            type: "[]DescribedGroupMember",
            versions: "0+",
            fields: [
              { name: "memberId", type: "string", versions: "0+" },
              {
                name: "groupInstanceId",
                type: "string",
                versions: "4+",
                nullableVersions: "4+",
                default: "null",
              },
              { name: "clientId", type: "string", versions: "0+" },
              { name: "clientHost", type: "string", versions: "0+" },
              { name: "memberMetadata", type: "bytes", versions: "0+" },
              { name: "memberAssignment", type: "bytes", versions: "0+" },
            ],
          },
          { name: "authorizedOperations", type: "int32", versions: "3+", default: "-2147483648" },
        ],
      },
    ],
  },
};

/** A decoded DescribeGroups request: every field of every version, defaults where absent. */
export interface DescribeGroupsRequest {
  groups: string[];
  includeAuthorizedOperations: boolean;
}

/** A DescribeGroups response to encode: fields left out take their schema defaults. */
export interface DescribeGroupsResponse {
  throttleTimeMs?: number;
  groups?: Array<{
    errorCode?: number;
    groupId?: string;
    groupState?: string;
    protocolType?: string;
    protocolData?: string;
    members?: Array<{
      memberId?: string;
      groupInstanceId?: string | null;
      clientId?: string;
      clientHost?: string;
      memberMetadata?: Buffer;
      memberAssignment?: Buffer;
    }>;
    authorizedOperations?: number;
  }>;
}
