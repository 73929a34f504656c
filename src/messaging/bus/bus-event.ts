import { randomUUID } from "node:crypto";
import { isCanonicalJsonObject } from "./canonical-json.js";
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
  // Any value at all: entries are checked after the request's size is.
  if (typeof entry !== "object" || entry === null) return 0;
  let size = entry.Time === undefined ? 0 : 14;
  for (const text of [entry.Source, entry.DetailType, entry.Detail])
    if (typeof text === "string") size += Buffer.byteLength(text, "utf8");
  if (isList(entry.Resources))
    for (const resource of entry.Resources!)
      if (typeof resource === "string") size += Buffer.byteLength(resource, "utf8");
  return size;
}

/**
 * An event ready to append: its id, and its JSON text exactly as `JSON.stringify` writes the
 * event; `detailStart` is where its detail (the last member) begins in the text, or -1.
 */
export interface PreparedEvent {
  readonly id: string;
  readonly text: string;
  readonly detailStart: number;
}

/**
 * Builds the event of one entry as JSON text, or says why the entry is refused. A Detail already
 * written as `JSON.stringify` would write it (as most are, being its output) goes into the text
 * as it is, unparsed; any other is parsed and the event serialised, with the same result.
 */
export function prepareEvent(
  entry: PutEventsRequestEntry,
  nowMs: number,
  region: string,
  account: string,
): PreparedEvent | EntryError {
  const checked = checkEntry(entry, nowMs);
  if ("ErrorCode" in checked) return checked;
  const id = randomUUID();
  if (checked.detail !== undefined) {
    const text = JSON.stringify(envelope(entry, id, checked, region, account));
    return { id, text, detailStart: -1 };
  }
  // The members in the order of `envelope` below, so the text is what JSON.stringify gives.
  // Joined, not concatenated: one flat string, where `+` would leave a rope that every later
  // read of the text (the write into the log batch, the match's walk) goes through.
  const parts = [
    '{"version":"0","id":"',
    id,
    '","detail-type":',
    JSON.stringify(entry.DetailType),
    ',"source":',
    JSON.stringify(entry.Source),
    ',"account":',
    JSON.stringify(account),
    ',"time":"',
    eventTime(checked.timeMs),
    '","region":',
    JSON.stringify(region),
    ',"resources":',
    checked.resources.length === 0 ? "[]" : JSON.stringify(checked.resources),
    ',"detail":',
  ];
  let detailStart = 0;
  for (const part of parts) detailStart += part.length;
  parts.push(entry.Detail, "}");
  return { id, text: parts.join(""), detailStart };
}

function envelope(
  entry: PutEventsRequestEntry,
  id: string,
  checked: CheckedEntry,
  region: string,
  account: string,
): BusEvent {
  return {
    version: "0",
    id,
    "detail-type": entry.DetailType,
    source: entry.Source,
    account,
    time: eventTime(checked.timeMs),
    region,
    resources: checked.resources,
    detail: checked.detail,
  };
}

interface CheckedEntry {
  readonly detail: unknown;
  readonly resources: string[];
  readonly timeMs: number;
}

/**
 * Checks an entry in EventBridge's order. Its detail is parsed unless the Detail text is already
 * in canonical form (then `detail` is undefined: the text is the detail).
 */
function checkEntry(entry: PutEventsRequestEntry, nowMs: number): CheckedEntry | EntryError {
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
  if (!isCanonicalJsonObject(entry.Detail)) {
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
  }
  const resources: readonly string[] = entry.Resources ?? [];
  if (!isList(resources) || resources.some((r) => typeof r !== "string" || r.length > 2048))
    return invalid("Resources", "a list of strings of at most 2048 characters.");
  let timeMs = nowMs;
  if (entry.Time !== undefined) {
    const time: unknown = entry.Time;
    timeMs =
      time instanceof Date ? time.getTime() : typeof time === "string" ? Date.parse(time) : NaN;
    if (!Number.isFinite(timeMs)) return invalid("Time", "not a time.");
  }
  return { detail, resources: [...resources], timeMs };
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

/** Whether `value` is an array (without narrowing it to any[]). */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}
