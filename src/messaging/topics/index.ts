export type * from "./topic-service.js";
export type * from "./topic-admin.js";
export type * from "./topic-producer.js";
export type * from "./topic-consumer.js";
export { TopicError, ProducerFencedError, isTopicError } from "./topic-error.js";
export { OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from "./internal-topics.js";
export {
  TransactionCoordinator,
  MAX_TRANSACTION_TIMEOUT_MS,
  DEFAULT_TRANSACTION_TIMEOUT_MS,
} from "./transaction-coordinator.js";
export type {
  TransactionMetadata,
  TransactionState,
  ProducerIdAndEpoch,
} from "./transaction-coordinator.js";
export type { AbortedTransaction, PartitionRead } from "./partition-log.js";
export { EmbeddedTopicService } from "./embedded-topic-service.js";
export { warmUpTopics } from "./warm-up.js";
export type { TopicWarmUpOptions, TopicWarmUpReport } from "./warm-up.js";
export type { EmbeddedTopicServiceOptions } from "./embedded-topic-service.js";
export { partitionForKey, murmur2 } from "./murmur2.js";
export type { TopicErrorName } from "./topic-error.js";
