import { EmbeddedPubSubService, type EmbeddedPubSubOptions } from "./embedded-pubsub-service.js";

export type * from "./pubsub-service.js";
export { EmbeddedPubSubService } from "./embedded-pubsub-service.js";
export type { EmbeddedPubSubOptions } from "./embedded-pubsub-service.js";
export { PubSubError, isPubSubError } from "./pubsub-error.js";
export { notificationFromJson, notificationToJson } from "./notification-json.js";
export type { PubSubErrorName } from "./pubsub-error.js";
export type { PubSubAddressing } from "./topic-address.js";
export {
  parseFilterPolicy,
  MAX_FILTER_POLICY_CHARS,
  MAX_FILTER_POLICY_COMBINATIONS,
  MAX_FILTER_POLICY_KEYS,
} from "./filter-policy.js";
export type { FilterPolicyScope } from "./filter-policy.js";
export type { HttpPoster } from "./http-poster.js";

/** Opens the pub/sub service stored in `dir` (the `pubsub/` directory of a data directory). */
export function openPubSub(
  dir: string,
  options: EmbeddedPubSubOptions = {},
): Promise<EmbeddedPubSubService> {
  return EmbeddedPubSubService.open(dir, options);
}
