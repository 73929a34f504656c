import { isSluiceError } from "../../../errors/index.js";
import { isTopicError } from "../../../messaging/topics/index.js";
import { KafkaErrorCode, kafkaErrorCode } from "../protocol/error-codes.js";

/** The Kafka error code to answer a failed call with. */
export function errorCodeOf(error: unknown): number {
  if (isTopicError(error)) return kafkaErrorCode(error.kafkaError);
  if (isSluiceError(error, "SLUICE_NOT_FOUND")) return KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  if (isSluiceError(error, "SLUICE_OFFSET_OUT_OF_RANGE")) return KafkaErrorCode.OFFSET_OUT_OF_RANGE;
  if (isSluiceError(error, "SLUICE_CORRUPT")) return KafkaErrorCode.CORRUPT_MESSAGE;
  if (isSluiceError(error, "SLUICE_VALIDATION")) return KafkaErrorCode.INVALID_REQUEST;
  // A write the disk refused (full, failing): retriable, as Kafka's own answer is.
  if (isSluiceError(error, "SLUICE_IO")) return KafkaErrorCode.KAFKA_STORAGE_ERROR;
  return KafkaErrorCode.UNKNOWN_SERVER_ERROR;
}

/** The message to send beside an error code (only the errors Sluice raises on purpose say why). */
export function errorMessageOf(error: unknown): string | null {
  return isSluiceError(error) ? error.message : null;
}

/** Runs `call`, giving Kafka's error code (0 on success) and the error's message. */
export async function attempt<T>(
  call: () => Promise<T>,
): Promise<
  | { value: T; errorCode: 0; errorMessage: null }
  | { value: undefined; errorCode: number; errorMessage: string | null }
> {
  try {
    return { value: await call(), errorCode: 0, errorMessage: null };
  } catch (error) {
    return { value: undefined, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error) };
  }
}

/**
 * The error code for a producer's call at a version that may predate PRODUCER_FENCED (KIP-588
 * added it at `fencedFrom`): older clients are told INVALID_PRODUCER_EPOCH, as Kafka tells them.
 */
export function producerErrorCode(error: unknown, apiVersion: number, fencedFrom: number): number {
  const code = errorCodeOf(error);
  return code === KafkaErrorCode.PRODUCER_FENCED && apiVersion < fencedFrom
    ? KafkaErrorCode.INVALID_PRODUCER_EPOCH
    : code;
}
