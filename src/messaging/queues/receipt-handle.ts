import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { QueueError } from "./queue-error.js";

/** What a receipt handle names: one receive of one message of one queue incarnation. */
export interface Receipt {
  readonly queueUid: string;
  readonly seq: number;
  readonly receiveCount: number;
}

/** Bytes of the MAC at the end of a signed handle (128 bits: not guessable). */
const MAC_BYTES = 16;
/** Bytes of a new signing key. */
export const RECEIPT_KEY_BYTES = 32;

/** A fresh random key for {@link ReceiptHandles}. */
export function newReceiptKey(): Buffer {
  return randomBytes(RECEIPT_KEY_BYTES);
}

/**
 * Issues and checks receipt handles signed with a key of the service, so a handle that was
 * never issued is refused instead of acting on whatever message its predictable fields happen
 * to name. The MAC is SHA-256 over key || fields, truncated to 128 bits: the key is a fixed
 * 32-byte prefix and only half the digest is shown, so the length extension that breaks an
 * untruncated secret-prefix hash has no state to extend; it is one one-shot hash call, where
 * an HMAC object per handle cost a fifth of a receive.
 */
export class ReceiptHandles {
  constructor(private readonly key: Buffer) {
    if (key.length !== RECEIPT_KEY_BYTES) throw new RangeError("a receipt key is 32 bytes");
  }

  /** An opaque, URL-safe, signed handle; a new one for every receive of a message. */
  encode(receipt: Receipt): string {
    const text = fieldsText(receipt);
    const handle = Buffer.allocUnsafe(text.length + MAC_BYTES);
    handle.write(text, 0, "latin1"); // the fields are ASCII
    this.sign(handle.subarray(0, text.length)).copy(handle, text.length, 0, MAC_BYTES);
    return handle.toString("base64url");
  }

  /** Parses a handle this service issued, or throws ReceiptHandleIsInvalid. */
  decode(handle: unknown, field = "ReceiptHandle"): Receipt {
    if (typeof handle === "string" && handle.length > 0 && handle.length <= 1024) {
      const bytes = Buffer.from(handle, "base64url");
      if (bytes.length > MAC_BYTES) {
        const fields = bytes.subarray(0, bytes.length - MAC_BYTES);
        const mac = bytes.subarray(bytes.length - MAC_BYTES);
        if (timingSafeEqual(mac, this.sign(fields).subarray(0, MAC_BYTES))) {
          const receipt = parseFields(fields.toString("utf8"));
          if (receipt !== undefined) return receipt;
        }
      }
    }
    throw invalidHandle(handle, field);
  }

  /**
   * The fields of a well-formed handle, unverified: only for finding the message whose issued
   * handle it may equal (an exact match needs no MAC); anything else goes through `decode`.
   */
  peek(handle: string): Receipt | undefined {
    const bytes = Buffer.from(handle, "base64url");
    if (bytes.length <= MAC_BYTES) return undefined;
    return parseFields(bytes.toString("utf8", 0, bytes.length - MAC_BYTES));
  }

  /** The full keyed digest of `fields` (callers keep its first MAC_BYTES). */
  private sign(fields: Buffer): Buffer {
    const keyed = Buffer.allocUnsafe(RECEIPT_KEY_BYTES + fields.length);
    this.key.copy(keyed, 0);
    fields.copy(keyed, RECEIPT_KEY_BYTES);
    return hash("sha256", keyed, "buffer");
  }
}

/**
 * An unsigned handle (plain base64url of the fields). Anyone can forge one: prefer
 * {@link ReceiptHandles}.
 */
export function encodeReceipt(receipt: Receipt): string {
  return Buffer.from(fieldsText(receipt), "utf8").toString("base64url");
}

/** Parses an unsigned handle from {@link encodeReceipt}, or throws ReceiptHandleIsInvalid. */
export function decodeReceipt(handle: unknown, field = "ReceiptHandle"): Receipt {
  if (typeof handle === "string" && handle.length > 0 && handle.length <= 1024) {
    const receipt = parseFields(Buffer.from(handle, "base64url").toString("utf8"));
    if (receipt !== undefined) return receipt;
  }
  throw invalidHandle(handle, field);
}

function fieldsText(receipt: Receipt): string {
  return `${receipt.queueUid}.${receipt.seq.toString(36)}.${receipt.receiveCount.toString(36)}`;
}

function parseFields(text: string): Receipt | undefined {
  const parts = text.split(".");
  if (parts.length !== 3 || !/^[0-9a-f]{16}$/.test(parts[0]!)) return undefined;
  if (!/^[0-9a-z]+$/.test(parts[1]!) || !/^[0-9a-z]+$/.test(parts[2]!)) return undefined;
  const seq = parseInt(parts[1]!, 36);
  const receiveCount = parseInt(parts[2]!, 36);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(receiveCount) || receiveCount <= 0)
    return undefined;
  return { queueUid: parts[0]!, seq, receiveCount };
}

function invalidHandle(handle: unknown, field: string): QueueError {
  return new QueueError(
    "ReceiptHandleIsInvalid",
    `${field}: the receipt handle ${JSON.stringify(typeof handle === "string" ? handle.slice(0, 60) : handle)} was not issued by this queue service`,
    field,
  );
}
