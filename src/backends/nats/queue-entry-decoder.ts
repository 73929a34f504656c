import { SluiceError } from "../../errors/index.js";
import type { MessageMeta } from "../../messaging/queues/message-record.js";
import type { StreamMessage } from "./leader-reads.js";
import type { QueueEntry } from "./replicated-queue.js";

/**
 * The entry a queue stream's message holds, as `QueueStream` writes it: its kind in header "k";
 * a message's metadata as JSON in header "m" and its body as the payload; any other entry as a
 * JSON object. Anything else (written by hand to the stream's subject, or damaged) is refused
 * with SLUICE_CORRUPT naming the stream and the sequence.
 */
export function decodeEntry(m: StreamMessage, stream: string): QueueEntry {
  const kind = m.headers?.get("k");
  if (kind === "m") {
    const header = m.headers?.get("m") ?? "";
    const meta = header === "" ? null : (parsed(header, m, stream, "metadata") as MessageMeta);
    if (!isObject(meta)) throw corruptEntry(m, stream, "a message without its metadata");
    const bytes = header.length + m.data.byteLength;
    return { kind, meta, body: Buffer.from(m.data).toString("utf8"), bytes };
  }
  if (kind === "r" || kind === "d" || kind === "c" || kind === "p" || kind === "y") {
    const entry = parsed(Buffer.from(m.data).toString("utf8"), m, stream, "entry");
    if (!isObject(entry)) throw corruptEntry(m, stream, "not an entry");
    // The kind set on the parsed object: a spread adding it is V8's slow path (about 1 µs).
    (entry as { kind: string }).kind = kind;
    return entry as QueueEntry;
  }
  if (kind === undefined || kind === "") throw corruptEntry(m, stream, "an entry without a kind");
  throw corruptEntry(m, stream, `an entry of unknown kind ${JSON.stringify(kind)}`);
}

export function corruptEntry(m: StreamMessage, stream: string, what: string): SluiceError {
  return new SluiceError("SLUICE_CORRUPT", `queue stream ${stream} seq ${m.seq}: ${what}`);
}

function parsed(text: string, m: StreamMessage, stream: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw corruptEntry(m, stream, `${what} that is not JSON`);
  }
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
