import { describeValue, SluiceError, type ErrorCode } from "../../errors/index.js";

/**
 * Kafka's error names (as the protocol and its clients spell them), so callers, the Kafka
 * listener and the NATS backend branch on the same values.
 */
export type TopicErrorName =
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "TOPIC_ALREADY_EXISTS"
  | "INVALID_TOPIC_EXCEPTION"
  | "INVALID_PARTITIONS"
  | "INVALID_REPLICATION_FACTOR"
  | "INVALID_CONFIG"
  | "INVALID_REQUEST"
  | "INVALID_RECORD"
  | "MESSAGE_TOO_LARGE"
  | "RECORD_LIST_TOO_LARGE"
  | "CORRUPT_MESSAGE"
  /** A write whose acknowledgement did not come: it may or may not be stored. */
  | "REQUEST_TIMED_OUT"
  | "UNSUPPORTED_COMPRESSION_TYPE"
  | "OFFSET_OUT_OF_RANGE"
  | "OUT_OF_ORDER_SEQUENCE_NUMBER"
  | "DUPLICATE_SEQUENCE_NUMBER"
  | "INVALID_PRODUCER_EPOCH"
  | "PRODUCER_FENCED"
  | "UNKNOWN_PRODUCER_ID"
  | "INVALID_TXN_STATE"
  | "INVALID_TRANSACTION_TIMEOUT"
  | "TRANSACTION_ABORTED"
  | "TRANSACTIONAL_ID_NOT_FOUND"
  | "GROUP_ID_NOT_FOUND"
  | "INVALID_GROUP_ID"
  | "NON_EMPTY_GROUP"
  | "UNKNOWN_MEMBER_ID"
  | "ILLEGAL_GENERATION"
  | "REBALANCE_IN_PROGRESS"
  | "INCONSISTENT_GROUP_PROTOCOL"
  | "INVALID_SESSION_TIMEOUT"
  | "COMMIT_FAILED"
  | "ILLEGAL_STATE";

const CODES: Record<TopicErrorName, ErrorCode> = {
  UNKNOWN_TOPIC_OR_PARTITION: "SLUICE_NOT_FOUND",
  TOPIC_ALREADY_EXISTS: "SLUICE_ALREADY_EXISTS",
  INVALID_TOPIC_EXCEPTION: "SLUICE_VALIDATION",
  INVALID_PARTITIONS: "SLUICE_VALIDATION",
  INVALID_REPLICATION_FACTOR: "SLUICE_VALIDATION",
  INVALID_CONFIG: "SLUICE_VALIDATION",
  INVALID_REQUEST: "SLUICE_VALIDATION",
  INVALID_RECORD: "SLUICE_VALIDATION",
  MESSAGE_TOO_LARGE: "SLUICE_VALIDATION",
  RECORD_LIST_TOO_LARGE: "SLUICE_VALIDATION",
  CORRUPT_MESSAGE: "SLUICE_VALIDATION",
  REQUEST_TIMED_OUT: "SLUICE_TIMEOUT",
  UNSUPPORTED_COMPRESSION_TYPE: "SLUICE_VALIDATION",
  OFFSET_OUT_OF_RANGE: "SLUICE_OFFSET_OUT_OF_RANGE",
  OUT_OF_ORDER_SEQUENCE_NUMBER: "SLUICE_CONCURRENCY",
  DUPLICATE_SEQUENCE_NUMBER: "SLUICE_CONCURRENCY",
  INVALID_PRODUCER_EPOCH: "SLUICE_CONCURRENCY",
  PRODUCER_FENCED: "SLUICE_CONCURRENCY",
  UNKNOWN_PRODUCER_ID: "SLUICE_NOT_FOUND",
  INVALID_TXN_STATE: "SLUICE_TOPIC",
  INVALID_TRANSACTION_TIMEOUT: "SLUICE_VALIDATION",
  TRANSACTION_ABORTED: "SLUICE_TOPIC",
  TRANSACTIONAL_ID_NOT_FOUND: "SLUICE_NOT_FOUND",
  GROUP_ID_NOT_FOUND: "SLUICE_NOT_FOUND",
  INVALID_GROUP_ID: "SLUICE_VALIDATION",
  NON_EMPTY_GROUP: "SLUICE_TOPIC",
  UNKNOWN_MEMBER_ID: "SLUICE_CONCURRENCY",
  ILLEGAL_GENERATION: "SLUICE_CONCURRENCY",
  REBALANCE_IN_PROGRESS: "SLUICE_CONCURRENCY",
  INCONSISTENT_GROUP_PROTOCOL: "SLUICE_VALIDATION",
  INVALID_SESSION_TIMEOUT: "SLUICE_VALIDATION",
  COMMIT_FAILED: "SLUICE_CONCURRENCY",
  ILLEGAL_STATE: "SLUICE_TOPIC",
};

/** A topics or consumer-group error: `kafkaError` is Kafka's name for it, `code` Sluice's. */
export class TopicError extends SluiceError {
  constructor(
    readonly kafkaError: TopicErrorName,
    message: string,
    field?: string,
    details?: Readonly<Record<string, unknown>>,
    code: ErrorCode = CODES[kafkaError],
  ) {
    super(code, message, {
      ...(field === undefined ? {} : { field }),
      ...(details === undefined ? {} : { details }),
    });
  }

  /** A call on a closed topic service: SLUICE_CLOSED, as every closed Sluice service says. */
  static serviceClosed(): TopicError {
    return new TopicError(
      "ILLEGAL_STATE",
      "the topic service is closed",
      undefined,
      undefined,
      "SLUICE_CLOSED",
    );
  }
}

/**
 * A producer whose transactional id was taken over by a newer instance (a higher epoch), or
 * whose transaction the coordinator aborted after its timeout: it can do nothing more; close it
 * and, to go on, create a new one with the same transactional id.
 */
export class ProducerFencedError extends TopicError {
  constructor(message: string, details?: Readonly<Record<string, unknown>>) {
    super("PRODUCER_FENCED", message, "producerEpoch", details);
  }
}

/** True when `error` is a TopicError (of the given Kafka name, if one is given). */
export function isTopicError(error: unknown, name?: TopicErrorName): error is TopicError {
  return error instanceof TopicError && (name === undefined || error.kafkaError === name);
}

/** An INVALID_REQUEST (or the given name) naming the field and what was expected. */
export function invalidTopicInput(
  field: string,
  expected: string,
  got?: unknown,
  name: TopicErrorName = "INVALID_REQUEST",
): TopicError {
  const shown = got === undefined ? "" : `, got ${describeValue(got)}`;
  return new TopicError(name, `${field}: expected ${expected}${shown}`, field);
}

/** UNKNOWN_TOPIC_OR_PARTITION naming the topic (and partition). */
export function unknownTopic(topic: string, partition?: number, field = "topic"): TopicError {
  const what =
    partition === undefined ? `topic ${JSON.stringify(topic)}` : `partition ${topic}-${partition}`;
  return new TopicError("UNKNOWN_TOPIC_OR_PARTITION", `${field}: no ${what}`, field, {
    topic,
    ...(partition === undefined ? {} : { partition }),
  });
}
