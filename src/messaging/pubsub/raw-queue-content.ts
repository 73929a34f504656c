import {
  type BulkSendInput,
  CheckedSend,
  type MessageAttributeValue,
  type MessageAttributes,
} from "../queues/index.js";
import type { PublishedMessage } from "./published-message.js";
import { setOwnEntry } from "../own-entry.js";

/**
 * What a raw delivery sends to a queue: the published body and its attributes as SQS takes
 * them (a String.Array becomes a String). Made once per published message and shared by all its
 * queue subscriptions, so a fan-out to N queues allocates none per queue.
 */
export interface RawQueueContent {
  /** For a standard queue (no group, no deduplication id). */
  readonly standardQueueEntry: CheckedSend | BulkSendInput;
  /** For a FIFO queue: with the message's group and deduplication id, if it has them. */
  readonly fifoQueueEntry: CheckedSend | BulkSendInput;
}

/**
 * The body and attributes are checked here once, as a queue's send checks them (a queue then
 * checks only its own limits); content SQS refuses is passed as it is, so that each queue's
 * send refuses it and reports its own failure.
 */
export function rawQueueContent(message: PublishedMessage): RawQueueContent {
  const names = Object.keys(message.MessageAttributes);
  let attributes: MessageAttributes | undefined;
  if (names.length > 0 && takenAsTheyAre(message.MessageAttributes, names))
    attributes = message.MessageAttributes;
  else if (names.length > 0) {
    const plain: Record<string, MessageAttributeValue> = {};
    for (const name of names) {
      const a = message.MessageAttributes[name]!;
      setOwnEntry(
        plain,
        name,
        a.BinaryValue === undefined
          ? {
              DataType: a.DataType === "String.Array" ? "String" : a.DataType,
              StringValue: a.StringValue ?? "",
            }
          : { DataType: a.DataType, BinaryValue: a.BinaryValue },
      );
    }
    attributes = plain;
  }
  const input: BulkSendInput =
    attributes === undefined
      ? { MessageBody: message.Message }
      : { MessageBody: message.Message, MessageAttributes: attributes };
  let standardQueueEntry: CheckedSend | BulkSendInput;
  try {
    standardQueueEntry = CheckedSend.of(input);
  } catch {
    standardQueueEntry = input;
  }
  const groupId = message.MessageGroupId;
  if (groupId === undefined) return { standardQueueEntry, fifoQueueEntry: standardQueueEntry };
  const deduplicationId = message.MessageDeduplicationId ?? message.MessageId;
  const fifoQueueEntry =
    standardQueueEntry instanceof CheckedSend
      ? standardQueueEntry.inGroup(groupId, deduplicationId)
      : { ...input, MessageGroupId: groupId, MessageDeduplicationId: deduplicationId };
  return { standardQueueEntry, fifoQueueEntry };
}

/**
 * Whether a queue takes these attributes as they are: each a string (not a String.Array) with
 * its value, or binary with no string value beside it, as SQS's shapes are. The set a queue
 * send makes of them copies what it keeps, so the message's own objects serve (no copy of
 * every attribute of every published message only to hand them over).
 */
function takenAsTheyAre(
  attributes: PublishedMessage["MessageAttributes"],
  names: string[],
): boolean {
  for (const name of names) {
    const a = attributes[name]!;
    if (
      a.BinaryValue === undefined
        ? a.StringValue === undefined || a.DataType === "String.Array"
        : a.StringValue !== undefined
    )
      return false;
  }
  return true;
}
