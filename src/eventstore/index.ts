export type {
  AppendOptions as EventAppendOptions,
  AppendResult as EventAppendResult,
  DeleteStreamOptions,
  Direction,
  EventData,
  EventFilter,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  JsonValue,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  StreamChange,
  StreamInfo,
  StreamMetadata,
  SubscribeOptions,
} from "./event-store.js";
export {
  ConcurrencyError,
  ProjectionError,
  StreamDeletedError,
  StreamNotFoundError,
  UnknownEventTypeError,
} from "./event-store-error.js";
export {
  DEFAULT_MAX_EVENT_BYTES,
  MAX_EVENTS_PER_APPEND,
  MAX_READ_COUNT,
} from "./event-validation.js";
export { EventSchema } from "./event-schema.js";
export type { Upcast } from "./event-schema.js";
export { EmbeddedEventStore } from "./embedded-event-store.js";
export type { EmbeddedEventStoreOptions, InlineProjection } from "./embedded-event-store.js";
export type { Aggregate, AggregateState, AsOf } from "./aggregates/aggregate.js";
export { aggregateStream } from "./aggregates/aggregate-stream.js";
export type { AggregateStreamOptions } from "./aggregates/aggregate-stream.js";
export { CommandHandler } from "./aggregates/command-handler.js";
export type { CommandHandlerOptions, CommandResult } from "./aggregates/command-handler.js";
export { given } from "./aggregates/given-when-then.js";
export type { CommandOutcome } from "./aggregates/given-when-then.js";
export {
  EventStoreSnapshotStore,
  MemorySnapshotStore,
  snapshotDue,
} from "./snapshots/snapshot-store.js";
export type {
  Snapshot,
  SnapshotPolicy,
  SnapshotQuery,
  SnapshotStore,
} from "./snapshots/snapshot-store.js";
export { BufferedTransaction, readModelName } from "./projections/projection.js";
export type {
  Projection,
  ProjectionTransaction,
  ReadModel,
  ReadModelWrites,
} from "./projections/projection.js";
export { MemoryReadModel } from "./projections/memory-read-model.js";
export { EmbeddedReadModel } from "./projections/embedded-read-model.js";
export type { EmbeddedReadModelOptions } from "./projections/embedded-read-model.js";
export { ProjectionRunner } from "./projections/projection-runner.js";
export type {
  ProjectionRunnerOptions,
  ProjectionState,
  ProjectionStatus,
  RebuildProgress,
} from "./projections/projection-runner.js";
export { BlueGreenProjection } from "./projections/blue-green.js";
export { projectionStateAsOf, saveProjectionSnapshot } from "./projections/projection-snapshots.js";
export type { ProjectionAsOf } from "./projections/projection-snapshots.js";
export { evaluateAsOf } from "./temporal.js";
export { auditTrail, formatAudit } from "./audit.js";
export type { AuditEntry, AuditFormat, AuditQuery } from "./audit.js";
export { PersistentSubscriptions } from "./persistent/persistent-subscriptions.js";
export type {
  ConnectOptions as PersistentConnectOptions,
  GroupSettings as PersistentGroupSettings,
  NackAction,
  ParkedEvent,
  PersistentDelivery,
  PersistentSubscriptionGroups,
  PersistentSubscriptionInfo,
  PersistentSubscriptionSettings,
  PersistentSubscriptionStateStore,
} from "./persistent/persistent-subscription.js";
export { migrateStream, migrationCheckpoint } from "./migration/migrate-stream.js";
export type {
  MigratedFrom,
  MigrateStreamOptions,
  MigrationCheckpoint,
  MigrationProgress,
} from "./migration/migrate-stream.js";
