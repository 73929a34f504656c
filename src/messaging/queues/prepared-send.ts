import type { Writable } from "./writable.js";
import { contentDeduplicationId, md5OfAttributes, md5OfBody } from "./message-digest.js";
import {
  checkBody,
  checkId,
  checkIntParameter,
  checkMessageAttributes,
  copyAttributes,
} from "./message-validation.js";
import type { PreparedSend } from "./durable-queue.js";
import type { QueueConfig } from "./queue-attributes.js";
import { QueueError, invalidParameter } from "./queue-error.js";
import type { SendMessageInput, SendMessageResult } from "./queue-service.js";
import { formatSequenceNumber } from "./received-message.js";

/**
 * Validates a send against its queue's settings (body, attributes, size, delay, FIFO group and
 * deduplication rules) and turns it into what the queue stores; `at` prefixes error fields
 * ("Entries[3].") in batch calls.
 */
export function prepareSend(
  config: QueueConfig,
  input: Omit<SendMessageInput, "QueueUrl">,
  at: string,
): PreparedSend {
  const body = checkBody(input.MessageBody, `${at}MessageBody`);
  const attributeBytes = checkMessageAttributes(input.MessageAttributes, `${at}MessageAttributes`);
  checkMessageAttributes(input.MessageSystemAttributes, `${at}MessageSystemAttributes`, true);
  const size = Buffer.byteLength(body, "utf8") + attributeBytes;
  if (size > config.maximumMessageSize)
    throw invalidParameter(
      `${at}MessageBody`,
      `a message of at most ${config.maximumMessageSize} bytes (body and attributes), got ${size}`,
    );
  let delaySeconds = config.delaySeconds;
  if (input.DelaySeconds !== undefined) {
    if (config.fifo)
      throw invalidParameter(
        `${at}DelaySeconds`,
        "no per-message delay on a FIFO queue (set the queue's DelaySeconds)",
      );
    delaySeconds = checkIntParameter(input.DelaySeconds, `${at}DelaySeconds`, 0, 900);
  }
  const send: Writable<PreparedSend> = {
    body,
    // Answered to the sender, and again on receive while the message is in memory.
    bodyMd5: md5OfBody(body),
    delayMs: delaySeconds * 1000,
  };
  if (input.MessageAttributes !== undefined)
    send.attributes = copyAttributes(input.MessageAttributes);
  if (input.MessageSystemAttributes !== undefined)
    send.systemAttributes = copyAttributes(input.MessageSystemAttributes);
  if (input.MessageGroupId !== undefined)
    send.groupId = checkId(input.MessageGroupId, `${at}MessageGroupId`);
  if (config.fifo) {
    if (input.MessageGroupId === undefined)
      throw new QueueError(
        "MissingParameter",
        `${at}MessageGroupId: required on a FIFO queue`,
        `${at}MessageGroupId`,
      );
    if (input.MessageDeduplicationId !== undefined)
      send.deduplicationId = checkId(input.MessageDeduplicationId, `${at}MessageDeduplicationId`);
    else if (config.contentBasedDeduplication) send.deduplicationId = contentDeduplicationId(body);
    else
      throw invalidParameter(
        `${at}MessageDeduplicationId`,
        "a deduplication id (the queue has no ContentBasedDeduplication)",
      );
  } else if (input.MessageDeduplicationId !== undefined)
    throw invalidParameter(
      `${at}MessageDeduplicationId`,
      "no deduplication id on a standard queue",
    );
  return send;
}

/** What SQS answers a send with: the id, the digests and, on FIFO queues, the sequence number. */
export function sendResult(
  fifo: boolean,
  send: PreparedSend,
  outcome: { messageId: string; seq: number },
): SendMessageResult {
  const result: Writable<SendMessageResult> = {
    MessageId: outcome.messageId,
    MD5OfMessageBody: send.bodyMd5 ?? md5OfBody(send.body),
  };
  const attributesDigest =
    send.attributes === undefined ? undefined : md5OfAttributes(send.attributes);
  if (attributesDigest !== undefined) result.MD5OfMessageAttributes = attributesDigest;
  const systemDigest =
    send.systemAttributes === undefined ? undefined : md5OfAttributes(send.systemAttributes);
  if (systemDigest !== undefined) result.MD5OfMessageSystemAttributes = systemDigest;
  if (fifo) result.SequenceNumber = formatSequenceNumber(outcome.seq);
  return result;
}
