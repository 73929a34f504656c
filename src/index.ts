// The package's public face: explicit named exports, one block per capability.
export * from "./errors/index.js";
export * from "./time/index.js";
export * from "./observability/index.js";
export * from "./engine/index.js";
export * from "./resilience/index.js";
export * from "./messaging/queues/index.js";
export * from "./backends/nats/index.js";
export * from "./server/index.js";
export * from "./client/index.js";
export * from "./messaging/pubsub/index.js";
export * from "./messaging/bus/index.js";
export * from "./messaging/topics/index.js";
export * from "./sluice/index.js";
export * from "./eventstore/index.js";
export * from "./backends/postgres/index.js";
