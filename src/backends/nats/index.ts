export { NatsQueueService } from "./nats-queue-service.js";
export type { NatsQueueServiceOptions } from "./nats-queue-service.js";
