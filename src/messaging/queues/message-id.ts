import { randomFillSync } from "node:crypto";

/** Ids drawn at a time from one call for random bytes. */
const IDS_PER_DRAW = 256;
/** Bytes of an id's binary form. */
const ID_BYTES = 16;
/** Characters of a UUID as text (Latin-1, one byte each). */
export const MESSAGE_ID_CHARS = 36;

const HEX = Buffer.from("0123456789abcdef", "latin1");

/**
 * Random (version 4) UUIDs for new messages, as SQS's MessageIds and SNS's are, drawn a few
 * hundred at a time into a buffer of random bytes that is never written again: an id is its
 * place in that buffer, formatted as text only where it is written (a message header) or asked
 * for as a string. A queue keeps a recent send's id as that place (the buffer lies outside the
 * JavaScript heap), so a fan-out's hundreds of thousands of unread messages hold no id string
 * each for every young-generation collection to copy. (Node's `crypto.randomUUID()` builds
 * each id from a dozen string pieces.)
 */
export class MessageIds {
  /** The latest draw's ids, 16 bytes each; ids handed out keep the buffer they were drawn in. */
  bytes: Buffer = Buffer.alloc(0);
  private next = IDS_PER_DRAW;

  /** A new id: the 16 bytes at the returned position of `bytes`. */
  reserve(): number {
    if (this.next === IDS_PER_DRAW) this.draw();
    return this.next++ * ID_BYTES;
  }

  private draw(): void {
    const bytes = Buffer.allocUnsafeSlow(IDS_PER_DRAW * ID_BYTES);
    randomFillSync(bytes);
    for (let at = 0; at < bytes.length; at += ID_BYTES) {
      bytes[at + 6] = (bytes[at + 6]! & 0x0f) | 0x40; // version 4
      bytes[at + 8] = (bytes[at + 8]! & 0x3f) | 0x80; // RFC 4122 variant
    }
    this.bytes = bytes;
    this.next = 0;
  }
}

/** The ids of this process's new messages. */
export const messageIds = new MessageIds();

/**
 * Writes the id at `at` of `bytes` (see MessageIds) as MESSAGE_ID_CHARS characters of
 * lower-case UUID text at `pos` of `out`; returns the position after it.
 */
export function writeMessageId(out: Buffer, pos: number, bytes: Buffer, at: number): number {
  for (let i = 0; i < ID_BYTES; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[pos++] = 0x2d; // "-"
    const byte = bytes[at + i]!;
    out[pos++] = HEX[byte >> 4]!;
    out[pos++] = HEX[byte & 15]!;
  }
  return pos;
}

const text = Buffer.allocUnsafeSlow(MESSAGE_ID_CHARS);

/** The id at `at` of `bytes` (see MessageIds) as a string. */
export function messageIdAt(bytes: Buffer, at: number): string {
  writeMessageId(text, 0, bytes, at);
  return text.toString("latin1");
}

/** A new message id as a string. */
export function newMessageId(): string {
  const at = messageIds.reserve();
  return messageIdAt(messageIds.bytes, at);
}
