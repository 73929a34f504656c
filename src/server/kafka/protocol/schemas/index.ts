// The transcribed API schemas, one per Kafka API (Apache License 2.0, see NOTICE).
import type { ApiSchema } from "../schema.js";
import { produce } from "./produce.js";
import { fetch } from "./fetch.js";
import { listOffsets } from "./list-offsets.js";
import { metadata } from "./metadata.js";
import { offsetCommit } from "./offset-commit.js";
import { offsetFetch } from "./offset-fetch.js";
import { findCoordinator } from "./find-coordinator.js";
import { joinGroup } from "./join-group.js";
import { heartbeat } from "./heartbeat.js";
import { leaveGroup } from "./leave-group.js";
import { syncGroup } from "./sync-group.js";
import { describeGroups } from "./describe-groups.js";
import { listGroups } from "./list-groups.js";
import { saslHandshake } from "./sasl-handshake.js";
import { apiVersions } from "./api-versions.js";
import { createTopics } from "./create-topics.js";
import { deleteTopics } from "./delete-topics.js";
import { initProducerId } from "./init-producer-id.js";
import { addPartitionsToTxn } from "./add-partitions-to-txn.js";
import { addOffsetsToTxn } from "./add-offsets-to-txn.js";
import { endTxn } from "./end-txn.js";
import { txnOffsetCommit } from "./txn-offset-commit.js";
import { describeConfigs } from "./describe-configs.js";
import { saslAuthenticate } from "./sasl-authenticate.js";
import { createPartitions } from "./create-partitions.js";
import { deleteGroups } from "./delete-groups.js";
import { alterConfigs } from "./alter-configs.js";
import { incrementalAlterConfigs } from "./incremental-alter-configs.js";
import { deleteRecords } from "./delete-records.js";

export * from "./produce.js";
export * from "./fetch.js";
export * from "./list-offsets.js";
export * from "./metadata.js";
export * from "./offset-commit.js";
export * from "./offset-fetch.js";
export * from "./find-coordinator.js";
export * from "./join-group.js";
export * from "./heartbeat.js";
export * from "./leave-group.js";
export * from "./sync-group.js";
export * from "./describe-groups.js";
export * from "./list-groups.js";
export * from "./sasl-handshake.js";
export * from "./api-versions.js";
export * from "./create-topics.js";
export * from "./delete-topics.js";
export * from "./init-producer-id.js";
export * from "./add-partitions-to-txn.js";
export * from "./add-offsets-to-txn.js";
export * from "./end-txn.js";
export * from "./txn-offset-commit.js";
export * from "./describe-configs.js";
export * from "./sasl-authenticate.js";
export * from "./create-partitions.js";
export * from "./delete-groups.js";
export * from "./alter-configs.js";
export * from "./incremental-alter-configs.js";
export * from "./delete-records.js";
export * from "./headers.js";

/** Every transcribed API schema. */
export const API_SCHEMAS: readonly ApiSchema[] = [
  produce,
  fetch,
  listOffsets,
  metadata,
  offsetCommit,
  offsetFetch,
  findCoordinator,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
  saslHandshake,
  apiVersions,
  createTopics,
  deleteTopics,
  initProducerId,
  addPartitionsToTxn,
  addOffsetsToTxn,
  endTxn,
  txnOffsetCommit,
  describeConfigs,
  saslAuthenticate,
  createPartitions,
  deleteGroups,
  alterConfigs,
  incrementalAlterConfigs,
  deleteRecords,
];
