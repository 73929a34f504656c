import { randomUUID } from "node:crypto";
import type { BusEvent, PutEventsRequestEntry } from "./event-bus-service.js";

/** EventBridge's limits on PutEvents. */
export const MAX_PUT_EVENTS_ENTRIES = 10;
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;

/** Why one entry was refused: EventBridge's per-entry code and message. */
export interface EntryError {
  readonly ErrorCode: string;
  readonly ErrorMessage: string;
}

/**
 * EventBridge's size of an entry: 14 bytes for Time when given, plus the UTF-8 bytes of
 * Source, DetailType, Detail and each resource.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time === undefined ? 0 : 14;
  for (const text of [entry.Source, entry.DetailType, entry.Detail])
    if (typeof text === "string") size += Buffer.byteLength(text, "utf8");
  for (const resource of entry.Resources ?? [])
    if (typeof resource === "string") size += Buffer.byteLength(resource, "utf8");
  return size;
}

/** Builds the event of one entry, or says why the entry is refused. */
export function buildEvent(
  entry: PutEventsRequestEntry,
  nowMs: number,
  region: string,
  account: string,
): BusEvent | EntryError {
  const invalid = (name: string, reason: string): EntryError => ({
    ErrorCode: "InvalidArgument",
    ErrorMessage: `Parameter ${name} is not valid. Reason: ${reason}`,
  });
  if (typeof entry?.Source !== "string" || entry.Source === "")
    return invalid("Source", "Source is a required argument.");
  if (entry.Source.length > 256) return invalid("Source", "at most 256 characters.");
  if (typeof entry.DetailType !== "string" || entry.DetailType === "")
    return invalid("DetailType", "DetailType is a required argument.");
  if (entry.DetailType.length > 128) return invalid("DetailType", "at most 128 characters.");
  if (typeof entry.Detail !== "string") return invalid("Detail", "Detail is a required argument.");
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
  }
  if (detail === null || typeof detail !== "object" || Array.isArray(detail))
    return {
      ErrorCode: "MalformedDetail",
      ErrorMessage: "Detail is malformed: it must be a JSON object.",
    };
  const resources: readonly string[] = entry.Resources ?? [];
  if (!isList(resources) || resources.some((r) => typeof r !== "string" || r.length > 2048))
    return invalid("Resources", "a list of strings of at most 2048 characters.");
  let time = nowMs;
  if (entry.Time !== undefined) {
    time = entry.Time instanceof Date ? entry.Time.getTime() : Date.parse(entry.Time);
    if (!Number.isFinite(time)) return invalid("Time", "not a time.");
  }
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": entry.DetailType,
    source: entry.Source,
    account,
    time: eventTime(time),
    region,
    resources: [...resources],
    detail,
  };
}

/** The last second formatted, for events put in the same second (most of a busy bus's). */
let formatted = { second: Number.NaN, text: "" };

/** EventBridge's event time: whole seconds, `2026-01-01T00:00:00Z`. */
function eventTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== formatted.second)
    formatted = { second, text: new Date(second * 1000).toISOString().replace(".000Z", "Z") };
  return formatted.text;
}

export function isEntryError(value: BusEvent | EntryError): value is EntryError {
  return "ErrorCode" in value;
}

/** Whether `value` is an array (without narrowing it to any[]). */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}
