import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
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
 * Issues and checks receipt handles signed with a key of the service (HMAC-SHA256 over the
 * handle's fields), so a handle that was never issued is refused instead of acting on whatever
 * message its predictable fields happen to name.
 */
export class ReceiptHandles {
  constructor(private readonly key: Buffer) {}

  /** An opaque, URL-safe, signed handle; a new one for every receive of a message. */
  encode(receipt: Receipt): string {
    const fields = Buffer.from(fieldsText(receipt), "utf8");
    return Buffer.concat([fields, this.mac(fields)]).toString("base64url");
  }

  /** Parses a handle this service issued, or throws ReceiptHandleIsInvalid. */
  decode(handle: unknown, field = "ReceiptHandle"): Receipt {
    if (typeof handle === "string" && handle.length > 0 && handle.length <= 1024) {
      const bytes = Buffer.from(handle, "base64url");
      if (bytes.length > MAC_BYTES) {
        const fields = bytes.subarray(0, bytes.length - MAC_BYTES);
        const mac = bytes.subarray(bytes.length - MAC_BYTES);
        if (timingSafeEqual(mac, this.mac(fields))) {
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

  private mac(fields: Buffer): Buffer {
    return createHmac("sha256", this.key).update(fields).digest().subarray(0, MAC_BYTES);
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
