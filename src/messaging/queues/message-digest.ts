import { createHash, hash } from "node:crypto";
import type { MessageAttributeValue } from "./queue-service.js";

/** Hex MD5 of the UTF-8 body, as SQS reports it in MD5OfMessageBody. */
export function md5OfBody(body: string): string {
  return hash("md5", body, "hex");
}

/**
 * SQS's MD5 of message attributes: attributes sorted by name, each as length-prefixed name,
 * length-prefixed data type, a transport byte (1 string/number, 2 binary) and the
 * length-prefixed value. Clients recompute it to check what they received.
 */
export function md5OfAttributes(
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash("md5");
  for (const name of names) {
    const attribute = attributes[name]!;
    hash.update(lengthPrefixed(Buffer.from(name, "utf8")));
    hash.update(lengthPrefixed(Buffer.from(attribute.DataType, "utf8")));
    if (attribute.BinaryValue !== undefined) {
      hash.update(Buffer.of(2));
      hash.update(lengthPrefixed(Buffer.from(attribute.BinaryValue)));
    } else {
      hash.update(Buffer.of(1));
      hash.update(lengthPrefixed(Buffer.from(attribute.StringValue ?? "", "utf8")));
    }
  }
  return hash.digest("hex");
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

/** SHA-256 of the body: the deduplication id under ContentBasedDeduplication. */
export function contentDeduplicationId(body: string): string {
  return hash("sha256", body, "hex");
}
