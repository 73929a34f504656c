import { CheckedSend } from "./checked-send.js";
import { MessageAttributeSet } from "./message-attribute-set.js";
import type {
  BulkQueueSender,
  BulkSendEntry,
  BulkSendResult,
  QueueService,
  SendMessageBatchRequestEntry,
} from "./queue-service.js";
import { QueueError } from "./queue-error.js";

/** SQS's most entries in one SendMessageBatch call. */
const SQS_BATCH_ENTRIES = 10;

function hasBulkSend(queues: QueueService): queues is QueueService & BulkQueueSender {
  return typeof (queues as Partial<BulkQueueSender>).sendMessagesInBulk === "function";
}

/**
 * Sends `entries` to one queue, in order: in one durable write when the backend can
 * (`BulkQueueSender`), otherwise in SendMessageBatch calls of 10. Throws when the queue cannot
 * be reached at all; entries it refused come back by index.
 */
export async function sendInBulk(
  queues: QueueService,
  queueUrl: string,
  entries: readonly BulkSendEntry[],
): Promise<BulkSendResult> {
  if (entries.length === 0) return { failed: [] };
  if (hasBulkSend(queues)) return queues.sendMessagesInBulk(queueUrl, entries);
  const failed: { index: number; error: Error }[] = [];
  for (let start = 0; start < entries.length; start += SQS_BATCH_ENTRIES) {
    const chunk = entries.slice(start, start + SQS_BATCH_ENTRIES);
    const result = await queues.sendMessageBatch({
      QueueUrl: queueUrl,
      Entries: chunk.map((entry, i) => batchEntry(entry, String(i))),
    });
    for (const f of result.Failed)
      failed.push({
        index: start + Number(f.Id),
        error: new QueueError("InvalidParameterValue", `${f.Code}: ${f.Message}`),
      });
  }
  return { failed };
}

/** An entry as SendMessageBatch takes it: plain attributes. */
function batchEntry(entry: BulkSendEntry, id: string): SendMessageBatchRequestEntry {
  if (entry instanceof CheckedSend) return entry.toBatchEntry(id);
  const { MessageAttributes, ...rest } = entry;
  if (MessageAttributes === undefined) return { ...rest, Id: id };
  return {
    ...rest,
    Id: id,
    MessageAttributes:
      MessageAttributes instanceof MessageAttributeSet
        ? MessageAttributes.toAttributes()
        : MessageAttributes,
  };
}
