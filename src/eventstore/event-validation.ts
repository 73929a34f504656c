import { randomUUID } from "node:crypto";
import { invalid } from "../errors/index.js";
import { ConcurrencyError } from "./event-store-error.js";
import type {
  EventData,
  EventFilter,
  ExpectedVersion,
  StreamMetadata,
  SubscribeOptions,
} from "./event-store.js";

/** Default largest event (data + metadata as JSON, in bytes). */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
/** Most events one append may carry. */
export const MAX_EVENTS_PER_APPEND = 10_000;
/** Most events one read may return. */
export const MAX_READ_COUNT = 10_000;
export const DEFAULT_READ_COUNT = 1_000;

// Names and ids end up in keys and SQL text columns: no control characters, bounded length.
const NAME = {
  test(value: string): boolean {
    if (value.length < 1 || value.length > 255) return false;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 || c === 0x7f) return false;
    }
    return true;
  },
};

/** An event checked and serialized once, ready for any backend to store. */
export interface PreparedEvent {
  readonly id: string;
  /** Whether the caller chose the id (only those take part in idempotent retries). */
  readonly idGiven: boolean;
  readonly type: string;
  readonly schemaVersion: number;
  readonly dataJson: string;
  readonly metadataJson: string;
}

/** Checks a stream name: 1-255 characters, no control characters. */
export function checkStreamName(stream: unknown, field = "stream"): string {
  if (typeof stream !== "string" || !NAME.test(stream))
    throw invalid(field, "a stream name of 1-255 characters without control characters", stream);
  return stream;
}

/** Checks an expected version: "any", "no_stream", "stream_exists" or an integer >= 0. */
export function checkExpectedVersion(value: unknown, field = "expectedVersion"): ExpectedVersion {
  if (value === "any" || value === "no_stream" || value === "stream_exists") return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw invalid(field, `"any", "no_stream", "stream_exists" or an integer >= 0`, value);
}

/**
 * Throws ConcurrencyError unless a stream whose last version is `current` (-1: no events) and
 * which `exists` (has live events and is not soft-deleted) satisfies `expected`.
 */
export function assertExpectedVersion(
  stream: string,
  expected: ExpectedVersion,
  current: number,
  exists: boolean,
): void {
  const ok =
    expected === "any" ||
    (expected === "no_stream" && !exists) ||
    (expected === "stream_exists" && exists) ||
    expected === current;
  if (!ok) throw new ConcurrencyError(stream, expected, current);
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isArray(value: unknown): boolean {
  return Array.isArray(value);
}

function toJson(value: unknown, field: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw invalid(field, `JSON-serializable data (${(error as Error).message})`);
  }
  if (json === undefined) throw invalid(field, "JSON-serializable data", value);
  return json;
}

/** Validates and serializes the events of one append; errors name `events[i].field`. */
export function prepareEvents(
  events: readonly EventData[],
  maxEventBytes = DEFAULT_MAX_EVENT_BYTES,
): PreparedEvent[] {
  if (!isArray(events) || events.length === 0)
    throw invalid("events", "a non-empty array of events", events);
  if (events.length > MAX_EVENTS_PER_APPEND)
    throw invalid("events", `at most ${MAX_EVENTS_PER_APPEND} events`, events);
  const seen = new Set<string>();
  const prepared = new Array<PreparedEvent>(events.length);
  // A loop, not `map`: a sparse array's holes are events to refuse, not to skip.
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const at = `events[${i}]`;
    if (!isPlainObject(event)) throw invalid(at, "an event object", event);
    const e = event!;
    if (typeof e.type !== "string" || !NAME.test(e.type) || e.type.startsWith("$"))
      throw invalid(
        `${at}.type`,
        "a type name of 1-255 characters, no control characters, not starting with $",
        e.type,
      );
    const idGiven = e.id !== undefined;
    if (idGiven && (typeof e.id !== "string" || !NAME.test(e.id)))
      throw invalid(`${at}.id`, "a string of 1-255 characters without control characters", e.id);
    const id = e.id ?? randomUUID();
    if (seen.has(id)) throw invalid(`${at}.id`, "an id not repeated within the append", id);
    seen.add(id);
    const schemaVersion = e.schemaVersion ?? 1;
    if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1)
      throw invalid(`${at}.schemaVersion`, "an integer >= 1", schemaVersion);
    if (e.metadata !== undefined && !isPlainObject(e.metadata))
      throw invalid(`${at}.metadata`, "a plain JSON object", e.metadata);
    const metadata = e.metadata ?? {};
    const dataJson = toJson(e.data, `${at}.data`);
    const metadataJson = toJson(metadata, `${at}.metadata`);
    const bytes = Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson);
    if (bytes > maxEventBytes)
      throw invalid(
        `${at}.data`,
        `data + metadata of at most ${maxEventBytes} bytes as JSON, got ${bytes} bytes`,
      );
    prepared[i] = { id, idGiven, type: e.type, schemaVersion, dataJson, metadataJson };
  }
  return prepared;
}

/** Checks stream metadata: positive integer limits, a plain object for `custom`. */
export function checkStreamMetadata(metadata: unknown): StreamMetadata {
  if (!isPlainObject(metadata)) throw invalid("metadata", "a stream metadata object", metadata);
  const out: {
    maxAgeMs?: number;
    maxCount?: number;
    truncateBefore?: number;
    custom?: NonNullable<StreamMetadata["custom"]>;
  } = {};
  for (const [key, value] of Object.entries(metadata as Record<string, unknown>)) {
    if (value === undefined) continue;
    switch (key) {
      case "maxAgeMs":
      case "maxCount":
        if (!Number.isSafeInteger(value) || (value as number) < 1)
          throw invalid(`metadata.${key}`, "an integer >= 1", value);
        out[key] = value as number;
        break;
      case "truncateBefore":
        if (!Number.isSafeInteger(value) || (value as number) < 0)
          throw invalid(`metadata.${key}`, "an integer >= 0", value);
        out[key] = value as number;
        break;
      case "custom":
        if (!isPlainObject(value)) throw invalid("metadata.custom", "a plain JSON object", value);
        out.custom = JSON.parse(toJson(value, "metadata.custom")) as NonNullable<
          StreamMetadata["custom"]
        >;
        break;
      default:
        throw invalid(`metadata.${key}`, "one of maxAgeMs, maxCount, truncateBefore, custom");
    }
  }
  return out;
}

/** Checks a read's maxCount: 1..10,000, default 1,000. */
export function checkMaxCount(value: unknown): number {
  if (value === undefined) return DEFAULT_READ_COUNT;
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_READ_COUNT)
    throw invalid("maxCount", `an integer from 1 to ${MAX_READ_COUNT}`, value);
  return value as number;
}

/** Checks an optional non-negative integer option such as `fromVersion`. */
export function checkOptionalIndex(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw invalid(field, "an integer >= 0", value);
  return value as number;
}

/** Checks a read direction. */
export function checkDirection(value: unknown): "forward" | "backward" {
  if (value === undefined || value === "forward") return "forward";
  if (value === "backward") return "backward";
  throw invalid("direction", `"forward" or "backward"`, value);
}

/** Checks the `history` flag of a stream read; history reads go forward only. */
export function checkHistory(value: unknown, direction: "forward" | "backward"): boolean {
  const history = checkFlag(value, "history");
  if (history && direction !== "forward")
    throw invalid("direction", `"forward" (history reads go forward)`, direction);
  return history;
}

/**
 * Checks an options argument: undefined means none; anything but an object (null, a string, an
 * array) is refused rather than read as if its fields were absent.
 */
export function checkOptions<T extends object>(value: T | undefined, field = "options"): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid(field, "an options object", value);
  return value;
}

/** Checks an optional flag: a boolean (false when absent), never a truthy string. */
export function checkFlag(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw invalid(field, "true or false", value);
  return value;
}

/** Checks a read's or subscription's filter: lists of strings for types and stream prefixes. */
export function checkEventFilter(value: unknown, field = "filter"): EventFilter | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw invalid(field, "an object with types or streamPrefixes", value);
  const filter = value as Record<string, unknown>;
  for (const key of ["types", "streamPrefixes"]) {
    const list = filter[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((x) => typeof x !== "string")))
      throw invalid(`${field}.${key}`, "an array of strings", list);
  }
  return value as EventFilter;
}

/** Checks a subscription's options (the stream, where it starts, its filter and signal). */
export function checkSubscribeOptions(value: SubscribeOptions | undefined): SubscribeOptions {
  const options = checkOptions(value);
  if (options.stream !== undefined) checkStreamName(options.stream);
  const after = options.after;
  if (after !== undefined && after !== "end" && !(Number.isSafeInteger(after) && after >= -1))
    throw invalid("after", `"end" or an integer >= -1`, after);
  checkEventFilter(options.filter);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw invalid("signal", "an AbortSignal", options.signal);
  return options;
}
