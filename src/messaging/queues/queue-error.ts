import { type ErrorCode, SluiceError } from "../../errors/index.js";

/** SQS's error names, so callers (and the SQS-compatible API) can branch on them. */
export type QueueErrorName =
  | "QueueDoesNotExist"
  | "QueueNameExists"
  | "QueueDeletedRecently"
  | "ReceiptHandleIsInvalid"
  | "MessageNotInflight"
  | "InvalidMessageContents"
  | "TooManyEntriesInBatchRequest"
  | "BatchEntryIdsNotDistinct"
  | "BatchRequestTooLong"
  | "EmptyBatchRequest"
  | "InvalidBatchEntryId"
  | "InvalidAttributeName"
  | "InvalidAttributeValue"
  | "InvalidParameterValue"
  | "MissingParameter"
  | "PurgeQueueInProgress"
  | "OverLimit"
  | "ResourceNotFoundException"
  | "UnsupportedOperation";

const CODES: Record<QueueErrorName, ErrorCode> = {
  QueueDoesNotExist: "SLUICE_NOT_FOUND",
  QueueNameExists: "SLUICE_ALREADY_EXISTS",
  QueueDeletedRecently: "SLUICE_QUEUE",
  ReceiptHandleIsInvalid: "SLUICE_VALIDATION",
  MessageNotInflight: "SLUICE_QUEUE",
  InvalidMessageContents: "SLUICE_VALIDATION",
  TooManyEntriesInBatchRequest: "SLUICE_VALIDATION",
  BatchEntryIdsNotDistinct: "SLUICE_VALIDATION",
  BatchRequestTooLong: "SLUICE_VALIDATION",
  EmptyBatchRequest: "SLUICE_VALIDATION",
  InvalidBatchEntryId: "SLUICE_VALIDATION",
  InvalidAttributeName: "SLUICE_VALIDATION",
  InvalidAttributeValue: "SLUICE_VALIDATION",
  InvalidParameterValue: "SLUICE_VALIDATION",
  MissingParameter: "SLUICE_VALIDATION",
  PurgeQueueInProgress: "SLUICE_QUEUE",
  OverLimit: "SLUICE_QUEUE",
  ResourceNotFoundException: "SLUICE_NOT_FOUND",
  UnsupportedOperation: "SLUICE_QUEUE",
};

/** A queue error: `sqsError` is SQS's name for it, `code` the Sluice-wide code. */
export class QueueError extends SluiceError {
  constructor(
    readonly sqsError: QueueErrorName,
    message: string,
    field?: string,
    code: ErrorCode = CODES[sqsError],
  ) {
    super(code, message, field === undefined ? {} : { field });
  }

  /** A call on a closed queue service: SLUICE_CLOSED, as every closed Sluice service says. */
  static serviceClosed(): QueueError {
    return new QueueError(
      "UnsupportedOperation",
      "the queue service is closed",
      undefined,
      "SLUICE_CLOSED",
    );
  }
}

export function isQueueError(error: unknown, name?: QueueErrorName): error is QueueError {
  return error instanceof QueueError && (name === undefined || error.sqsError === name);
}

/** InvalidParameterValue naming the field and what was expected. */
export function invalidParameter(field: string, expected: string): QueueError {
  return new QueueError("InvalidParameterValue", `${field}: expected ${expected}`, field);
}
