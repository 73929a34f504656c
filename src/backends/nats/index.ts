export { NatsQueueService } from "./nats-queue-service.js";
export type { NatsQueueServiceOptions } from "./nats-queue-service.js";
export { NatsTopicService } from "./nats-topic-service.js";
export type { NatsTopicServiceOptions } from "./nats-topic-service.js";
