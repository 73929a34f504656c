import { describeValue } from "../../errors/index.js";
import { QueueError, invalidParameter } from "./queue-error.js";

/** A request must be an object of parameters (plain JavaScript may pass anything). */
export function checkRequest<T>(input: T): T {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw invalidParameter("request", "an object of request parameters");
  return input;
}

const LIST_TOKEN_PREFIX = "after:";

/** The listQueues NextToken that continues after `lastName`. */
export function encodeListToken(lastName: string): string {
  return Buffer.from(LIST_TOKEN_PREFIX + lastName, "utf8").toString("base64url");
}

/** The queue name a listQueues NextToken continues after, or InvalidParameterValue. */
export function decodeListToken(token: unknown): string {
  if (typeof token === "string" && /^[A-Za-z0-9_-]{1,200}$/.test(token)) {
    const text = Buffer.from(token, "base64url").toString("utf8");
    const name = text.slice(LIST_TOKEN_PREFIX.length);
    if (text.startsWith(LIST_TOKEN_PREFIX) && /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name))
      return name;
  }
  throw invalidParameter("NextToken", "a token from an earlier listQueues call");
}

/** `getQueueUrl`'s QueueName, which must name a queue that `exists`. */
export function existingQueueName(name: unknown, exists: (name: string) => boolean): string {
  if (typeof name !== "string" || !exists(name))
    throw new QueueError(
      "QueueDoesNotExist",
      `QueueName: no queue named ${describeValue(name)}`,
      "QueueName",
    );
  return name;
}
