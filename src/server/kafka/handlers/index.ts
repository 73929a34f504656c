import { initProducerIdApi } from "./init-producer-id.js";
import type { ApiHandler } from "../api-handler.js";
import { alterConfigsApi, incrementalAlterConfigsApi } from "./alter-configs.js";
import { createPartitionsApi } from "./create-partitions.js";
import { createTopicsApi } from "./create-topics.js";
import { deleteRecordsApi } from "./delete-records.js";
import { deleteTopicsApi } from "./delete-topics.js";
import { describeConfigsApi } from "./describe-configs.js";
import { fetchApi } from "./fetch.js";
import {
  deleteGroupsApi,
  describeGroupsApi,
  findCoordinatorApi,
  heartbeatApi,
  joinGroupApi,
  leaveGroupApi,
  listGroupsApi,
  offsetCommitApi,
  offsetFetchApi,
  syncGroupApi,
} from "./group-apis.js";
import { listOffsetsApi } from "./list-offsets.js";
import { metadataApi } from "./metadata.js";
import { produceApi } from "./produce.js";
import {
  addOffsetsToTxnApi,
  addPartitionsToTxnApi,
  endTxnApi,
  txnOffsetCommitApi,
} from "./transactions.js";

/** Phase 1: topics, produce and fetch (ApiVersions is part of every table). */
export function phaseOneHandlers(): ApiHandler<never, object>[] {
  return [
    produceApi,
    fetchApi,
    listOffsetsApi,
    metadataApi,
    createTopicsApi,
    deleteTopicsApi,
    describeConfigsApi,
    alterConfigsApi,
    incrementalAlterConfigsApi,
    createPartitionsApi,
    deleteRecordsApi,
  ] as ApiHandler<never, object>[];
}

/** Phase 3: idempotent producers (InitProducerId refuses transactional ids without a coordinator). */
export function producerHandlers(): ApiHandler<never, object>[] {
  return [initProducerIdApi] as ApiHandler<never, object>[];
}

/** Phase 3: transactional producers, for backends with a transaction coordinator. */
export function transactionHandlers(): ApiHandler<never, object>[] {
  return [addPartitionsToTxnApi, addOffsetsToTxnApi, txnOffsetCommitApi, endTxnApi] as ApiHandler<
    never,
    object
  >[];
}

/** Phase 2: consumer groups. */
export function groupHandlers(): ApiHandler<never, object>[] {
  return [
    offsetCommitApi,
    offsetFetchApi,
    findCoordinatorApi,
    joinGroupApi,
    heartbeatApi,
    leaveGroupApi,
    syncGroupApi,
    describeGroupsApi,
    listGroupsApi,
    deleteGroupsApi,
  ] as ApiHandler<never, object>[];
}
