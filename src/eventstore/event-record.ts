import type { LogRecord, RecordInput } from "../engine/index.js";
import { SluiceError } from "../errors/index.js";
import type { EventMetadata, JsonValue, RecordedEvent } from "./event-store.js";
import type { PreparedEvent } from "./event-validation.js";

/**
 * How the embedded store lays an event into an engine record. The key holds everything the
 * stream index needs (`stream \n version \n type \n schemaVersion \n id \n idGiven`), so
 * rebuilding the index on open never parses event data; the value is `{"d":data,"m":metadata}`.
 * Names and ids cannot hold control characters, so the newline separator is unambiguous.
 */
export interface EventKey {
  readonly stream: string;
  readonly version: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly id: string;
  readonly idGiven: boolean;
}

/** The engine record for one prepared event. */
export function encodeEvent(
  stream: string,
  version: number,
  event: PreparedEvent,
  timestamp: number,
): RecordInput {
  const key = `${stream}\n${version}\n${event.type}\n${event.schemaVersion}\n${event.id}\n${event.idGiven ? 1 : 0}`;
  return {
    key: Buffer.from(key),
    value: Buffer.from(`{"d":${event.dataJson},"m":${event.metadataJson}}`),
    timestamp,
  };
}

/** The index fields of a stored record, without touching its data. */
export function decodeKey(record: LogRecord): EventKey {
  const parts = record.key?.toString().split("\n");
  if (parts?.length !== 6) throw corrupt(record, "key");
  const version = Number(parts[1]);
  const schemaVersion = Number(parts[3]);
  if (!Number.isSafeInteger(version) || !Number.isSafeInteger(schemaVersion))
    throw corrupt(record, "key");
  return {
    stream: parts[0]!,
    version,
    type: parts[2]!,
    schemaVersion,
    id: parts[4]!,
    idGiven: parts[5] === "1",
  };
}

/** The recorded event a stored record holds. */
export function decodeEvent(record: LogRecord, key: EventKey = decodeKey(record)): RecordedEvent {
  let body: { d: JsonValue; m: EventMetadata };
  try {
    body = JSON.parse(record.value?.toString() ?? "") as { d: JsonValue; m: EventMetadata };
  } catch {
    throw corrupt(record, "value");
  }
  return {
    id: key.id,
    stream: key.stream,
    type: key.type,
    schemaVersion: key.schemaVersion,
    data: body.d,
    metadata: body.m,
    version: key.version,
    position: record.offset,
    timestamp: record.timestamp,
  };
}

function corrupt(record: LogRecord, part: string): SluiceError {
  return new SluiceError(
    "SLUICE_CORRUPT",
    `event at position ${record.offset}: unreadable ${part} (not written by the event store?)`,
    { details: { position: record.offset } },
  );
}
