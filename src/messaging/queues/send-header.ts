import type { PreparedSend } from "./durable-queue.js";
import type { MessageAttributeSet } from "./message-attribute-set.js";
import {
  type HeaderFields,
  type MessageHeader,
  headerFieldBytes,
  writeHeaderFields,
} from "./message-header.js";
import { MESSAGE_ID_CHARS, messageIdAt } from "./message-id.js";
import { utf8Length } from "../../engine/index.js";

/**
 * The header of the message a queue is sending, filled in again for each message (one object
 * per queue, not per message): the send's fields, the MessageId as its place in a MessageIds
 * buffer (or the id a moved message keeps). Encoded, it is byte for byte the header of the
 * MessageHeader `toHeader` gives.
 */
export class SendHeader implements HeaderFields {
  i: string | undefined = undefined;
  g: string | undefined = undefined;
  d: string | undefined = undefined;
  src: string | undefined = undefined;
  a: MessageAttributeSet | undefined = undefined;
  y: MessageAttributeSet | undefined = undefined;
  v: number | undefined = undefined;
  st: number | undefined = undefined;
  // Fields of carried messages (compaction's), never those of a send.
  readonly q = undefined;
  readonly rc = undefined;
  readonly fr = undefined;
  readonly rt = undefined;
  readonly due = undefined;
  /** The id's bytes (see MessageIds), or undefined when the send names its own id (`i`). */
  idBytes: Buffer | undefined = undefined;
  idAt = 0;

  /** Fills in the header of `send`, whose id is at `idAt` of `idBytes` unless it has its own. */
  fill(send: PreparedSend, idBytes: Buffer | undefined, idAt: number, visibleAt: number): this {
    this.i = send.messageId;
    this.idBytes = send.messageId === undefined ? idBytes : undefined;
    this.idAt = idAt;
    this.g = send.groupId;
    this.d = send.deduplicationId;
    this.a = send.attributes;
    this.y = send.systemAttributes;
    this.v = send.delayMs > 0 ? visibleAt : undefined;
    this.src = send.deadLetterSourceArn;
    this.st = send.sentAt;
    return this;
  }

  /** Bytes of the header encoded. */
  get bytes(): number {
    return headerFieldBytes(
      this,
      this.idBytes === undefined ? utf8Length(this.i ?? "") : MESSAGE_ID_CHARS,
    );
  }
}

/** Writes `header` encoded at `pos`; returns the position after it (see RecordBatchBuilder). */
export function writeSendHeader(out: Buffer, pos: number, header: SendHeader): number {
  return writeHeaderFields(out, pos, header, header.idBytes, header.idAt);
}

/**
 * The MessageHeader of a message sent as `send` (its id at `idAt` of `idBytes` unless it has its
 * own; `sentAt` the time it was sent), as the record `SendHeader` wrote for it decodes: what a
 * queue answers a hot message's readers with, made only when one is read.
 */
export function headerOfSend(
  send: PreparedSend,
  idBytes: Buffer | undefined,
  idAt: number,
  sentAt: number,
): MessageHeader {
  const header: { -readonly [K in keyof MessageHeader]: MessageHeader[K] } = {
    i: send.messageId ?? messageIdAt(idBytes!, idAt),
  };
  if (send.groupId !== undefined) header.g = send.groupId;
  if (send.deduplicationId !== undefined) header.d = send.deduplicationId;
  if (send.attributes !== undefined) header.a = send.attributes;
  if (send.systemAttributes !== undefined) header.y = send.systemAttributes;
  // A delayed send's visibility: its send time (sentAt is `now` unless the send names its own,
  // which only a move does, never with a delay: see `keepsHeader`) plus the delay.
  if (send.delayMs > 0) header.v = sentAt + send.delayMs;
  if (send.deadLetterSourceArn !== undefined) header.src = send.deadLetterSourceArn;
  if (send.sentAt !== undefined) header.st = send.sentAt;
  return header;
}

/**
 * Whether `headerOfSend` gives back the header `send` wrote: not for a delayed send with a send
 * time of its own (none is made today), whose visibility it could not tell.
 */
export function keepsHeader(send: PreparedSend): boolean {
  return !(send.delayMs > 0 && send.sentAt !== undefined);
}
