import { SluiceError, invalid } from "../errors/index.js";
import type { EventStore, JsonValue, RecordedEvent } from "./event-store.js";
import type { Aggregate } from "./aggregates/aggregate.js";
import { aggregateStream, stateAsJson } from "./aggregates/aggregate-stream.js";

export interface AuditQuery {
  /** One stream; or leave out and use `type` and/or a time range over `$all`. */
  readonly stream?: string;
  readonly type?: string;
  /** Inclusive bounds, ms since the epoch. */
  readonly fromTime?: number;
  readonly toTime?: number;
  /**
   * Folds each event into its stream's state to show the state before and after it (its
   * `initialState` and `evolve`; the state as JSON, `undefined` as null). Without one, entries
   * have no `before` and `after`.
   */
  readonly aggregate?: Aggregate<unknown, unknown>;
  /** At most this many entries (default 10,000). */
  readonly limit?: number;
}

/** One line of an audit trail: who did what, when, and what it changed. */
export interface AuditEntry {
  readonly position: number;
  readonly time: string;
  readonly stream: string;
  readonly version: number;
  readonly type: string;
  /** `metadata.user`, else `metadata.actor`, else null. */
  readonly who: string | null;
  readonly data: JsonValue;
  readonly metadata: JsonValue;
  /** With an aggregate: the stream's state before and after the event. */
  readonly before?: JsonValue;
  readonly after?: JsonValue;
}

function who(event: RecordedEvent): string | null {
  const candidate = event.metadata.user ?? event.metadata.actor;
  return typeof candidate === "string" ? candidate : null;
}

/** A state as an entry shows it: as JSON, `undefined` (no state) as null. */
function json(state: unknown, when: string): JsonValue {
  if (state === undefined) return null;
  try {
    return stateAsJson(state);
  } catch (cause) {
    throw new SluiceError(
      "SLUICE_VALIDATION",
      `aggregate: the state ${when} is not JSON (${(cause as Error).message})`,
      { field: "aggregate", cause },
    );
  }
}

/** The audit trail of a stream, an event type or a time range, oldest first. */
export async function auditTrail(store: EventStore, query: AuditQuery): Promise<AuditEntry[]> {
  const limit = query.limit ?? 10_000;
  if (!Number.isSafeInteger(limit) || limit < 1) throw invalid("limit", "an integer >= 1", limit);
  const { aggregate } = query;
  if (
    aggregate !== undefined &&
    (typeof aggregate?.initialState !== "function" || typeof aggregate.evolve !== "function")
  )
    throw invalid("aggregate", "an aggregate with initialState and evolve functions", aggregate);
  const from = query.fromTime === undefined ? 0 : (await store.positionAt(query.fromTime - 1)) + 1;
  const to = query.toTime === undefined ? Infinity : await store.positionAt(query.toTime);
  const events: RecordedEvent[] = [];
  if (query.stream !== undefined) {
    let next: number | undefined = 0;
    while (next !== undefined && events.length < limit) {
      const page = await store.readStream(query.stream, { fromVersion: next, maxCount: 1000 });
      for (const e of page.events)
        if (
          e.position >= from &&
          e.position <= to &&
          (query.type === undefined || e.type === query.type)
        )
          events.push(e);
      next = page.nextVersion;
    }
  } else {
    let next: number | undefined = from;
    while (next !== undefined && next <= to && events.length < limit) {
      const page = await store.readAll({
        fromPosition: next,
        maxCount: 1000,
        ...(query.type === undefined ? {} : { filter: { types: [query.type] } }),
      });
      for (const e of page.events) if (e.position <= to) events.push(e);
      next = page.nextPosition;
    }
  }
  const entries: AuditEntry[] = [];
  const states = new Map<string, { state: unknown; version: number }>();
  for (const event of events.slice(0, limit)) {
    const entry: AuditEntry = {
      position: event.position,
      time: new Date(event.timestamp).toISOString(),
      stream: event.stream,
      version: event.version,
      type: event.type,
      who: who(event),
      data: event.data,
      metadata: event.metadata,
    };
    if (aggregate === undefined) {
      entries.push(entry);
      continue;
    }
    let current = states.get(event.stream);
    if (current?.version !== event.version - 1) {
      const loaded = await aggregateStream(store, event.stream, aggregate, {
        asOf: { version: event.version - 1 },
      });
      current = { state: loaded.state, version: loaded.version };
    }
    const after = aggregate.evolve(current.state, event);
    states.set(event.stream, { state: after, version: event.version });
    entries.push({
      ...entry,
      before: json(current.state, `before ${event.stream}@${event.version}`),
      after: json(after, `after ${event.stream}@${event.version}`),
    });
  }
  return entries;
}

export type AuditFormat = "json" | "csv" | "markdown";

const COLUMNS = [
  "position",
  "time",
  "stream",
  "version",
  "type",
  "who",
  "data",
  "metadata",
  "before",
  "after",
] as const;

function cell(entry: AuditEntry, column: (typeof COLUMNS)[number]): string {
  const value = entry[column];
  if (value === undefined || value === null) return "";
  return typeof value === "string" || typeof value === "number"
    ? String(value)
    : JSON.stringify(value);
}

/** Renders an audit trail as JSON, CSV (RFC 4180 quoting) or a Markdown table. */
export function formatAudit(entries: readonly AuditEntry[], format: AuditFormat): string {
  const columns = COLUMNS.filter(
    (c) => (c !== "before" && c !== "after") || entries.some((e) => e[c] !== undefined),
  );
  switch (format) {
    case "json":
      return `${JSON.stringify(entries, null, 2)}\n`;
    case "csv": {
      const quote = (text: string): string =>
        /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
      const lines = [
        columns.join(","),
        ...entries.map((e) => columns.map((c) => quote(cell(e, c))).join(",")),
      ];
      return `${lines.join("\r\n")}\r\n`;
    }
    case "markdown": {
      const escape = (text: string): string => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
      const lines = [
        `| ${columns.join(" | ")} |`,
        `| ${columns.map(() => "---").join(" | ")} |`,
        ...entries.map((e) => `| ${columns.map((c) => escape(cell(e, c))).join(" | ")} |`),
      ];
      return `${lines.join("\n")}\n`;
    }
    default:
      throw invalid("format", "json, csv or markdown", format);
  }
}
