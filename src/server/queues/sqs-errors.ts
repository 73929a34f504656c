import { type QueueErrorName, isQueueError } from "../../messaging/queues/index.js";
import { AwsError, commonAwsError, fieldOf } from "../aws/aws-error.js";

/**
 * SQS's legacy query-protocol codes, which boto3 and older SDKs match on (e.g.
 * `AWS.SimpleQueueService.NonExistentQueue` for QueueDoesNotExist); names not listed keep
 * their own name as the code.
 */
const QUERY_CODES: Partial<Record<QueueErrorName, string>> = {
  QueueDoesNotExist: "AWS.SimpleQueueService.NonExistentQueue",
  QueueNameExists: "QueueAlreadyExists",
  QueueDeletedRecently: "AWS.SimpleQueueService.QueueDeletedRecently",
  MessageNotInflight: "AWS.SimpleQueueService.MessageNotInflight",
  TooManyEntriesInBatchRequest: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
  BatchEntryIdsNotDistinct: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
  BatchRequestTooLong: "AWS.SimpleQueueService.BatchRequestTooLong",
  EmptyBatchRequest: "AWS.SimpleQueueService.EmptyBatchRequest",
  InvalidBatchEntryId: "AWS.SimpleQueueService.InvalidBatchEntryId",
  PurgeQueueInProgress: "AWS.SimpleQueueService.PurgeQueueInProgress",
  UnsupportedOperation: "AWS.SimpleQueueService.UnsupportedOperation",
};

/** The legacy query code of an SQS error name. */
export function sqsQueryCode(name: QueueErrorName): string {
  return QUERY_CODES[name] ?? name;
}

/** A queue error as SQS reports it; undefined for an error that is not the caller's fault. */
export function toSqsError(error: unknown): AwsError | undefined {
  if (isQueueError(error))
    return new AwsError(error.sqsError, error.message, {
      queryCode: sqsQueryCode(error.sqsError),
      ...fieldOf(error),
    });
  return commonAwsError(error, "InvalidParameterValue");
}
