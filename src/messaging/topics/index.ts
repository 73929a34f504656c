export type * from "./topic-service.js";
export type * from "./topic-admin.js";
export type * from "./topic-producer.js";
export type * from "./topic-consumer.js";
export { TopicError, isTopicError } from "./topic-error.js";
export { EmbeddedTopicService } from "./embedded-topic-service.js";
export type { EmbeddedTopicServiceOptions } from "./embedded-topic-service.js";
export { partitionForKey, murmur2 } from "./murmur2.js";
export type { TopicErrorName } from "./topic-error.js";
