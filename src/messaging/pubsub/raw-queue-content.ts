import {
  type BulkSendEntry,
  MessageAttributeSet,
  type MessageAttributeValue,
  type MessageAttributes,
  md5OfBody,
} from "../queues/index.js";
import type { PublishedMessage } from "./published-message.js";

/**
 * What a raw delivery sends to a queue: the published body and its attributes as SQS takes
 * them (a String.Array becomes a String). Made once per published message and shared by all its
 * queue subscriptions: the attributes validated and encoded once, the body's MD5 computed once.
 */
export interface RawQueueContent {
  readonly body: string;
  readonly bodyMd5: string;
  /**
   * The attributes as a set; as plain attributes when SQS refuses them, so that each queue's
   * send reports its own failure.
   */
  readonly attributes: MessageAttributeSet | MessageAttributes | undefined;
  /**
   * The entry a standard queue's bulk send takes (no group, no deduplication id): one object
   * for every raw queue subscription of the message, so a fan-out to N queues allocates none.
   */
  readonly standardQueueEntry: BulkSendEntry;
  /** The same for a FIFO queue: with the message's group and deduplication id, if it has them. */
  readonly fifoQueueEntry: BulkSendEntry;
}

export function rawQueueContent(message: PublishedMessage): RawQueueContent {
  const names = Object.keys(message.MessageAttributes);
  let attributes: MessageAttributeSet | MessageAttributes | undefined;
  if (names.length > 0) {
    const plain: Record<string, MessageAttributeValue> = {};
    for (const name of names) {
      const a = message.MessageAttributes[name]!;
      plain[name] =
        a.BinaryValue === undefined
          ? {
              DataType: a.DataType === "String.Array" ? "String" : a.DataType,
              StringValue: a.StringValue ?? "",
            }
          : { DataType: a.DataType, BinaryValue: a.BinaryValue };
    }
    try {
      attributes = MessageAttributeSet.validated(plain, "MessageAttributes");
    } catch {
      attributes = plain;
    }
  }
  const bodyMd5 = md5OfBody(message.Message);
  const standardQueueEntry: BulkSendEntry =
    attributes === undefined
      ? { MessageBody: message.Message, MD5OfMessageBody: bodyMd5 }
      : { MessageBody: message.Message, MD5OfMessageBody: bodyMd5, MessageAttributes: attributes };
  const fifoQueueEntry: BulkSendEntry =
    message.MessageGroupId === undefined
      ? standardQueueEntry
      : {
          ...standardQueueEntry,
          MessageGroupId: message.MessageGroupId,
          MessageDeduplicationId: message.MessageDeduplicationId ?? message.MessageId,
        };
  return { body: message.Message, bodyMd5, attributes, standardQueueEntry, fifoQueueEntry };
}
