import { QueueError } from "./queue-error.js";

/** What a receipt handle names: one receive of one message of one queue incarnation. */
export interface Receipt {
  readonly queueUid: string;
  readonly seq: number;
  readonly receiveCount: number;
}

/** An opaque, URL-safe handle; a new one for every receive of a message. */
export function encodeReceipt(receipt: Receipt): string {
  const text = `${receipt.queueUid}.${receipt.seq.toString(36)}.${receipt.receiveCount.toString(36)}`;
  return Buffer.from(text, "utf8").toString("base64url");
}

/** Parses a handle, or throws ReceiptHandleIsInvalid. */
export function decodeReceipt(handle: unknown, field = "ReceiptHandle"): Receipt {
  if (typeof handle === "string" && handle.length > 0 && handle.length <= 1024) {
    const parts = Buffer.from(handle, "base64url").toString("utf8").split(".");
    if (parts.length === 3 && /^[0-9a-f]{16}$/.test(parts[0]!)) {
      const seq = parseInt(parts[1]!, 36);
      const receiveCount = parseInt(parts[2]!, 36);
      if (
        /^[0-9a-z]+$/.test(parts[1]!) &&
        /^[0-9a-z]+$/.test(parts[2]!) &&
        Number.isSafeInteger(seq) &&
        Number.isSafeInteger(receiveCount) &&
        receiveCount > 0
      )
        return { queueUid: parts[0]!, seq, receiveCount };
    }
  }
  throw new QueueError(
    "ReceiptHandleIsInvalid",
    `${field}: the receipt handle ${JSON.stringify(typeof handle === "string" ? handle.slice(0, 60) : handle)} is not valid`,
    field,
  );
}
