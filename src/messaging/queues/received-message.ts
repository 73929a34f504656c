import type { Writable } from "./writable.js";
import { md5OfBody } from "./message-digest.js";
import { DELAYED, INFLIGHT } from "./queue-state.js";
import type { StoredMessage } from "./durable-queue.js";
import type {
  Message,
  MessageSystemAttributeName,
  PeekedMessage,
  ReceiveMessageInput,
} from "./queue-service.js";

/** Which attributes a receive asked for. */
export interface ReceiveProjection {
  readonly system: ReadonlySet<string>;
  readonly allSystem: boolean;
  readonly attributes: (name: string) => boolean;
  readonly anyAttributes: boolean;
}

/** A receive that asks for no attribute (most of them): one projection shared by all. */
const NO_ATTRIBUTES: ReceiveProjection = {
  system: new Set(),
  allSystem: false,
  attributes: () => false,
  anyAttributes: false,
};

export function projectionOf(input: ReceiveMessageInput): ReceiveProjection {
  if (
    input.MessageSystemAttributeNames === undefined &&
    input.AttributeNames === undefined &&
    input.MessageAttributeNames === undefined
  )
    return NO_ATTRIBUTES;
  const system = new Set<string>([
    ...(input.MessageSystemAttributeNames ?? []),
    ...(input.AttributeNames ?? []),
  ]);
  const names = input.MessageAttributeNames ?? [];
  const all = names.some((n) => n === "All" || n === ".*");
  const exact = new Set(names.filter((n) => !n.endsWith(".*")));
  const prefixes = names.filter((n) => n.endsWith(".*") && n !== ".*").map((n) => n.slice(0, -1));
  return {
    system,
    allSystem: system.has("All"),
    attributes: (name) => all || exact.has(name) || prefixes.some((p) => name.startsWith(p)),
    anyAttributes: names.length > 0,
  };
}

/** Sequence numbers as SQS prints them: decimal strings that sort as they increase. */
export function formatSequenceNumber(seq: number): string {
  return String(seq + 1).padStart(20, "0");
}

/** The internal sequence number of a printed one, or undefined if it is not one. */
export function parseSequenceNumber(text: unknown): number | undefined {
  if (typeof text !== "string" || !/^\d{1,20}$/.test(text)) return undefined;
  const n = Number(text) - 1;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export interface MessageContext {
  readonly receiptHandle: string;
  readonly senderId: string;
  readonly fifo: boolean;
}

/** The Message a receive returns, from the stored record and the in-memory state. */
export function buildMessage(
  state: StoredMessage["state"],
  meta: StoredMessage["meta"],
  body: string,
  bodyMd5: string | undefined,
  projection: ReceiveProjection,
  context: MessageContext,
): Message {
  const message: Writable<Message> = {
    MessageId: meta.i,
    ReceiptHandle: context.receiptHandle,
    MD5OfBody: bodyMd5 ?? md5OfBody(body),
    Body: body,
  };
  // Most receives ask for no system attribute: they skip the lookups below.
  if (projection.allSystem || projection.system.size > 0) {
    const attributes = systemAttributes(state, meta, projection, context);
    if (Object.keys(attributes).length > 0) message.Attributes = attributes;
  }
  if (projection.anyAttributes && meta.a !== undefined) {
    const selected = meta.a.select(projection.attributes);
    if (selected !== undefined) {
      message.MessageAttributes = selected.attributes;
      message.MD5OfMessageAttributes = selected.md5;
    }
  }
  return message;
}

/** The system attributes a receive asked for. */
function systemAttributes(
  state: StoredMessage["state"],
  meta: StoredMessage["meta"],
  projection: ReceiveProjection,
  context: MessageContext,
): Partial<Record<MessageSystemAttributeName, string>> {
  const wanted = (name: MessageSystemAttributeName): boolean =>
    projection.allSystem || projection.system.has(name);
  const attributes: Partial<Record<MessageSystemAttributeName, string>> = {};
  if (wanted("SentTimestamp")) attributes.SentTimestamp = String(state.sentAt);
  if (wanted("ApproximateReceiveCount"))
    attributes.ApproximateReceiveCount = String(state.receiveCount);
  if (wanted("ApproximateFirstReceiveTimestamp"))
    attributes.ApproximateFirstReceiveTimestamp = String(state.firstReceiveAt);
  if (wanted("SenderId")) attributes.SenderId = context.senderId;
  if (meta.g !== undefined && wanted("MessageGroupId")) attributes.MessageGroupId = meta.g;
  if (meta.d !== undefined && context.fifo && wanted("MessageDeduplicationId"))
    attributes.MessageDeduplicationId = meta.d;
  if (context.fifo && wanted("SequenceNumber"))
    attributes.SequenceNumber = formatSequenceNumber(state.seq);
  if (meta.src !== undefined && wanted("DeadLetterQueueSourceArn"))
    attributes.DeadLetterQueueSourceArn = meta.src;
  if (meta.y !== undefined && wanted("AWSTraceHeader")) {
    const trace = meta.y.stringValue("AWSTraceHeader");
    if (trace !== undefined) attributes.AWSTraceHeader = trace;
  }
  return attributes;
}

/** A message as peekMessages shows it: its state and attributes, nothing changed. */
export function buildPeekedMessage({ state, meta, body }: StoredMessage): PeekedMessage {
  const attributes: PeekedMessage["Attributes"] & Record<string, string> = {
    SentTimestamp: String(state.sentAt),
    ApproximateReceiveCount: String(state.receiveCount),
  };
  if (state.firstReceiveAt > 0)
    attributes.ApproximateFirstReceiveTimestamp = String(state.firstReceiveAt);
  if (meta.g !== undefined) attributes.MessageGroupId = meta.g;
  if (meta.d !== undefined) attributes.MessageDeduplicationId = meta.d;
  if (meta.src !== undefined) attributes.DeadLetterQueueSourceArn = meta.src;
  const peeked: Writable<PeekedMessage> = {
    MessageId: meta.i,
    Body: body,
    SequenceNumber: formatSequenceNumber(state.seq),
    State: state.state === INFLIGHT ? "inflight" : state.state === DELAYED ? "delayed" : "visible",
    Attributes: attributes,
  };
  if (meta.a !== undefined) peeked.MessageAttributes = meta.a.toAttributes();
  return peeked;
}
