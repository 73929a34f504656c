import { type ErrorCode, SluiceError } from "../../errors/index.js";

/** SNS's error names, so callers (and an SNS-compatible API) can branch on them. */
export type PubSubErrorName =
  | "InvalidParameter"
  | "InvalidParameterValue"
  | "NotFound"
  | "ResourceNotFound"
  | "TagLimitExceeded"
  | "AuthorizationError"
  | "FilterPolicyLimitExceeded"
  | "SubscriptionLimitExceeded"
  | "TooManyEntriesInBatchRequest"
  | "BatchEntryIdsNotDistinct"
  | "EmptyBatchRequest"
  | "InvalidBatchEntryId"
  | "BatchRequestTooLong";

const CODES: Record<PubSubErrorName, ErrorCode> = {
  InvalidParameter: "SLUICE_VALIDATION",
  InvalidParameterValue: "SLUICE_VALIDATION",
  NotFound: "SLUICE_NOT_FOUND",
  ResourceNotFound: "SLUICE_NOT_FOUND",
  TagLimitExceeded: "SLUICE_VALIDATION",
  AuthorizationError: "SLUICE_VALIDATION",
  FilterPolicyLimitExceeded: "SLUICE_VALIDATION",
  SubscriptionLimitExceeded: "SLUICE_VALIDATION",
  TooManyEntriesInBatchRequest: "SLUICE_VALIDATION",
  BatchEntryIdsNotDistinct: "SLUICE_VALIDATION",
  EmptyBatchRequest: "SLUICE_VALIDATION",
  InvalidBatchEntryId: "SLUICE_VALIDATION",
  BatchRequestTooLong: "SLUICE_VALIDATION",
};

/** A pub/sub error: `snsError` is SNS's name for it, `code` the Sluice-wide code. */
export class PubSubError extends SluiceError {
  constructor(
    readonly snsError: PubSubErrorName,
    message: string,
    field?: string,
  ) {
    super(CODES[snsError], message, field === undefined ? {} : { field });
  }
}

export function isPubSubError(error: unknown, name?: PubSubErrorName): error is PubSubError {
  return error instanceof PubSubError && (name === undefined || error.snsError === name);
}

/** SNS's "Invalid parameter: <field> Reason: ..." naming the field and what was expected. */
export function invalidParameter(field: string, reason: string): PubSubError {
  return new PubSubError(
    "InvalidParameter",
    `Invalid parameter: ${field} Reason: ${reason}`,
    field,
  );
}
