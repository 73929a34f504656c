export { MemoryIdempotencyStore } from "./idempotency-store.js";
export type {
  IdempotencyRecord,
  IdempotencyStore,
  MemoryIdempotencyStoreOptions,
} from "./idempotency-store.js";
export { idempotent } from "./idempotent.js";
export type { DuplicateEvent, IdempotentHandler, IdempotentOptions } from "./idempotent.js";
export { DuplicateDetector } from "./duplicate-detector.js";
export type { DuplicateDetectorOptions, DuplicateDetectorStats } from "./duplicate-detector.js";
export { BloomFilter } from "./bloom-filter.js";
export { DurableIdempotencyStore } from "./durable-idempotency-store.js";
export type { DurableIdempotencyStoreOptions } from "./durable-idempotency-store.js";
