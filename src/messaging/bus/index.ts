import { EmbeddedEventBus, type EmbeddedEventBusOptions } from "./embedded-event-bus.js";

export type * from "./event-bus-service.js";
export { EmbeddedEventBus, MAX_RULES_PER_BUS, MAX_TARGETS_PER_RULE } from "./embedded-event-bus.js";
export type { EmbeddedEventBusOptions } from "./embedded-event-bus.js";
export { BusError, isBusError } from "./bus-error.js";
export type { BusErrorName } from "./bus-error.js";
export type { BusAddressing } from "./bus-address.js";
export { MAX_PUT_EVENTS_BYTES, MAX_PUT_EVENTS_ENTRIES } from "./bus-event.js";
export {
  MAX_TAGS_PER_RESOURCE,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
} from "./resource-tags.js";
export { parseSchedule } from "./schedule-expression.js";
export type { Schedule } from "./schedule-expression.js";
export {
  PatternError,
  PatternIndex,
  parseEventPattern,
  testEventPattern,
  MAX_EVENT_PATTERN_CHARS,
} from "./patterns/index.js";
export type { Pattern, PatternLanguage } from "./patterns/index.js";

/** Opens the event bus service stored in `dir` (the `bus/` directory of a data directory). */
export function openEventBus(
  dir: string,
  options: EmbeddedEventBusOptions = {},
): Promise<EmbeddedEventBus> {
  return EmbeddedEventBus.open(dir, options);
}
