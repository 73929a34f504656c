import { invalid } from "../errors/index.js";
import { UnknownEventTypeError } from "./event-store-error.js";
import type { JsonValue, RecordedEvent } from "./event-store.js";

/** Lifts the data of one event type from `fromVersion` to `fromVersion + 1`. */
export type Upcast = (data: JsonValue, event: RecordedEvent) => JsonValue;

/**
 * Known event types with their current schema versions and the upcasters that bring older
 * versions up to date. Applied on read only: stored events are never rewritten by reading.
 */
export class EventSchema {
  private readonly current = new Map<string, number>();
  private readonly upcasters = new Map<string, Upcast>();

  /** Declares `type` with its current schema version; older versions need upcasters. */
  define(type: string, currentVersion = 1): this {
    if (!Number.isSafeInteger(currentVersion) || currentVersion < 1)
      throw invalid("currentVersion", "an integer >= 1", currentVersion);
    this.current.set(type, currentVersion);
    return this;
  }

  /** Registers the step `fromVersion` -> `fromVersion + 1` for `type`. */
  upcaster(type: string, fromVersion: number, upcast: Upcast): this {
    if (!Number.isSafeInteger(fromVersion) || fromVersion < 1)
      throw invalid("fromVersion", "an integer >= 1", fromVersion);
    this.upcasters.set(`${type}\n${fromVersion}`, upcast);
    return this;
  }

  /** The current version of `type`, or undefined when it is not defined. */
  versionOf(type: string): number | undefined {
    return this.current.get(type);
  }

  /** The event as its current schema version; throws UnknownEventTypeError when no chain leads there. */
  upcast(event: RecordedEvent): RecordedEvent {
    if (event.type.startsWith("$")) return event;
    const target = this.current.get(event.type);
    if (target === undefined || event.schemaVersion > target)
      throw new UnknownEventTypeError(event.type, event.schemaVersion, event.position);
    if (event.schemaVersion === target) return event;
    let data = event.data;
    for (let v = event.schemaVersion; v < target; v++) {
      const step = this.upcasters.get(`${event.type}\n${v}`);
      if (step === undefined) throw new UnknownEventTypeError(event.type, v, event.position);
      data = step(data, event);
    }
    return { ...event, data, schemaVersion: target };
  }
}
