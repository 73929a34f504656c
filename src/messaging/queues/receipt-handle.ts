import { describeValue } from "../../errors/index.js";
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
/** Longest fields text: a 16-digit uid and two safe integers in base 36, with two dots. */
const MAX_FIELDS_BYTES = 16 + 1 + 11 + 1 + 11;
/** Base64 characters of the longest signed handle. */
const PEEKABLE_HANDLE_CHARS = Math.ceil(((MAX_FIELDS_BYTES + MAC_BYTES) * 4) / 3);
const DOT = 0x2e;
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
  /** key || fields: signing writes the fields after the key and hashes, allocating no input. */
  private readonly keyed = Buffer.allocUnsafe(RECEIPT_KEY_BYTES + MAX_FIELDS_BYTES);
  /** fields || MAC, encoded to text. */
  private readonly handle = Buffer.allocUnsafe(MAX_FIELDS_BYTES + MAC_BYTES);
  /** The MAC a handle being decoded should carry. */
  private readonly expected = Buffer.allocUnsafe(MAC_BYTES);
  /** key || fields for each length of fields, made once (a view per call costs an object). */
  private readonly keyedViews: Buffer[] = [];

  constructor(key: Buffer) {
    if (key.length !== RECEIPT_KEY_BYTES) throw new RangeError("a receipt key is 32 bytes");
    key.copy(this.keyed, 0);
  }

  /** An opaque, URL-safe, signed handle; a new one for every receive of a message. */
  encode(receipt: Receipt): string {
    return this.encodeFields(receipt.queueUid, receipt.seq, receipt.receiveCount);
  }

  /** `encode` of a receipt given by its fields (a receive makes no object per message). */
  encodeFields(queueUid: string, seq: number, receiveCount: number): string {
    const handle = this.handle;
    let length = handle.write(queueUid, 0, "latin1"); // the fields are ASCII
    handle[length++] = DOT;
    length = writeBase36(handle, length, seq);
    handle[length++] = DOT;
    length = writeBase36(handle, length, receiveCount);
    this.sign(handle, length, handle, length);
    return handle.toString("base64url", 0, length + MAC_BYTES);
  }

  /** Parses a handle this service issued, or throws ReceiptHandleIsInvalid. */
  decode(handle: unknown, field = "ReceiptHandle"): Receipt {
    if (typeof handle === "string" && handle.length > 0 && handle.length <= 1024) {
      const bytes = Buffer.from(handle, "base64url");
      const length = bytes.length - MAC_BYTES;
      if (length > 0 && length <= MAX_FIELDS_BYTES) {
        const mac = bytes.subarray(length);
        this.sign(bytes, length, this.expected, 0);
        if (timingSafeEqual(mac, this.expected)) {
          const receipt = parseFields(bytes.toString("latin1", 0, length));
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
    if (handle.length > PEEKABLE_HANDLE_CHARS) return undefined;
    const length = this.handle.write(handle, 0, "base64url") - MAC_BYTES;
    if (length <= 0) return undefined;
    return parseFields(this.handle.toString("latin1", 0, length));
  }

  /**
   * The sequence number a well-formed handle names, unverified, or -1; read from the handle's
   * bytes without making strings or objects. Only for finding the message whose issued handle
   * the caller then compares with this one.
   */
  peekSeq(handle: string): number {
    if (handle.length > PEEKABLE_HANDLE_CHARS) return -1;
    const bytes = this.handle;
    const length = bytes.write(handle, 0, "base64url") - MAC_BYTES;
    if (length <= 17 || bytes[16] !== DOT) return -1;
    let seq = 0;
    for (let i = 17; i < length; i++) {
      const c = bytes[i]!;
      if (c === DOT) return i > 17 && Number.isSafeInteger(seq) ? seq : -1;
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
      if (digit < 0) return -1;
      seq = seq * 36 + digit;
    }
    return -1;
  }

  /** Writes the MAC of the first `length` bytes of `fields` into `out` at `at`. */
  private sign(fields: Buffer, length: number, out: Buffer, at: number): void {
    fields.copy(this.keyed, RECEIPT_KEY_BYTES, 0, length);
    const input = (this.keyedViews[length] ??= this.keyed.subarray(0, RECEIPT_KEY_BYTES + length));
    // The digest as a "binary" (latin1) string, one byte a character, copied into place: a "buffer"
    // digest costs Node an allocation that takes twice as long as the hash itself.
    out.write(hash("sha256", input, "binary"), at, MAC_BYTES, "latin1");
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

/** Writes `n` (a safe integer >= 0) in base 36 as `toString(36)` does, returning the end. */
function writeBase36(out: Buffer, at: number, n: number): number {
  let digits = 1;
  for (let rest = Math.floor(n / 36); rest > 0; rest = Math.floor(rest / 36)) digits++;
  let rest = n;
  for (let i = at + digits - 1; i >= at; i--) {
    const digit = rest % 36;
    out[i] = digit < 10 ? 48 + digit : 87 + digit;
    rest = Math.floor(rest / 36);
  }
  return at + digits;
}

function fieldsText(receipt: Receipt): string {
  return `${receipt.queueUid}.${receipt.seq.toString(36)}.${receipt.receiveCount.toString(36)}`;
}

function parseFields(text: string): Receipt | undefined {
  const first = text.indexOf(".");
  const second = text.indexOf(".", first + 1);
  if (first !== 16 || second < 0 || text.indexOf(".", second + 1) >= 0) return undefined;
  const queueUid = text.slice(0, 16);
  if (!UID.test(queueUid)) return undefined;
  const seq = parseBase36(text, first + 1, second);
  const receiveCount = parseBase36(text, second + 1, text.length);
  if (seq === undefined || receiveCount === undefined || receiveCount <= 0) return undefined;
  return { queueUid, seq, receiveCount };
}

const UID = /^[0-9a-f]{16}$/;

/** The base-36 number (digits and lower-case letters only) in text[from, to), if it is one. */
function parseBase36(text: string, from: number, to: number): number | undefined {
  if (to <= from) return undefined;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
    if (digit < 0) return undefined;
    n = n * 36 + digit;
  }
  return Number.isSafeInteger(n) ? n : undefined;
}

function invalidHandle(handle: unknown, field: string): QueueError {
  return new QueueError(
    "ReceiptHandleIsInvalid",
    `${field}: the receipt handle ${typeof handle === "string" ? JSON.stringify(handle.slice(0, 60)) : describeValue(handle)} was not issued by this queue service`,
    field,
  );
}
