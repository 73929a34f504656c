import { type PubSubErrorName, isPubSubError } from "../../messaging/pubsub/index.js";
import { AwsError, commonAwsError, fieldOf } from "../aws/aws-error.js";

/** The HTTP status SNS answers each error with; names not listed are 400. */
const STATUS: Partial<Record<PubSubErrorName, number>> = {
  NotFound: 404,
  ResourceNotFound: 404,
  AuthorizationError: 403,
  FilterPolicyLimitExceeded: 403,
  SubscriptionLimitExceeded: 403,
};

/** A pub/sub error as SNS reports it; undefined for an error that is not the caller's fault. */
export function toSnsError(error: unknown): AwsError | undefined {
  if (isPubSubError(error))
    return new AwsError(error.snsError, error.message, {
      status: STATUS[error.snsError] ?? 400,
      ...fieldOf(error),
    });
  return commonAwsError(error, "InvalidParameter");
}

/** SNS's refusal of a parameter, naming it and what was expected. */
export function snsInvalidParameter(field: string, reason: string): AwsError {
  return new AwsError("InvalidParameter", `Invalid parameter: ${field} Reason: ${reason}`, {
    field,
  });
}

/**
 * SNS's refusal of a request without a parameter it requires, in SNS's own words
 * (`Invalid parameter: TopicArn Reason: no value for required parameter`).
 */
export function snsMissingParameter(field: string): AwsError {
  return snsInvalidParameter(field, "no value for required parameter");
}
