export { PostgresEventStore } from "./postgres-event-store.js";
export type { PostgresEventStoreOptions } from "./postgres-event-store.js";
export { PostgresReadModel } from "./postgres-read-model.js";
export { PostgresPersistentSubscriptions } from "./postgres-persistent-subscriptions.js";
