export type * from "./queue-service.js";
export { EmbeddedQueueService } from "./embedded-queue-service.js";
export { sendInBulk } from "./bulk-send.js";
export type { EmbeddedQueueServiceOptions } from "./embedded-queue-service.js";
export { QueueError, isQueueError } from "./queue-error.js";
export type { QueueErrorName } from "./queue-error.js";
export type { QueueAddressing } from "./queue-address.js";
export { md5OfAttributes, md5OfBody } from "./message-digest.js";
export { MessageAttributeSet } from "./message-attribute-set.js";
