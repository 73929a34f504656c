import { describeValue } from "../../errors/index.js";
import { QueueError, invalidParameter } from "./queue-error.js";
import type {
  QueueAttributeName,
  QueueAttributes,
  WritableQueueAttributeName,
} from "./queue-service.js";
import { setOwnEntry } from "../own-entry.js";

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

export interface RedriveAllowPolicy {
  readonly redrivePermission: "allowAll" | "denyAll" | "byQueue";
  readonly sourceQueueArns: readonly string[];
}

/** A queue's settings, parsed from its SQS attribute strings. */
export interface QueueConfig {
  readonly fifo: boolean;
  readonly delaySeconds: number;
  readonly maximumMessageSize: number;
  readonly messageRetentionPeriod: number;
  readonly receiveMessageWaitTimeSeconds: number;
  readonly visibilityTimeout: number;
  readonly redrivePolicy: RedrivePolicy | undefined;
  readonly redriveAllowPolicy: RedriveAllowPolicy | undefined;
  readonly contentBasedDeduplication: boolean;
  readonly deduplicationScope: "queue" | "messageGroup";
  readonly fifoThroughputLimit: "perQueue" | "perMessageGroupId";
}

export const MAX_VISIBILITY_TIMEOUT_S = 43_200;
export const MAX_MESSAGE_SIZE = 1_048_576;

const RANGES: Partial<Record<WritableQueueAttributeName, readonly [number, number]>> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, MAX_MESSAGE_SIZE],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, MAX_VISIBILITY_TIMEOUT_S],
};

const CHOICES: Partial<Record<WritableQueueAttributeName, readonly string[]>> = {
  FifoQueue: ["true", "false"],
  ContentBasedDeduplication: ["true", "false"],
  DeduplicationScope: ["queue", "messageGroup"],
  FifoThroughputLimit: ["perQueue", "perMessageGroupId"],
};

const FIFO_ONLY = new Set<string>([
  "ContentBasedDeduplication",
  "DeduplicationScope",
  "FifoThroughputLimit",
]);
const WRITABLE = new Set<string>([
  ...Object.keys(RANGES),
  ...Object.keys(CHOICES),
  "RedrivePolicy",
  "RedriveAllowPolicy",
  // Stored and returned, not enforced: SNS-to-SQS tutorials set it before subscribing a queue.
  "Policy",
]);

/** The attributes a new queue starts with (SQS's defaults). */
export function defaultAttributes(fifo: boolean): Record<string, string> {
  const attributes: Record<string, string> = {
    DelaySeconds: "0",
    MaximumMessageSize: "262144",
    MessageRetentionPeriod: "345600",
    ReceiveMessageWaitTimeSeconds: "0",
    VisibilityTimeout: "30",
  };
  if (fifo) {
    attributes.FifoQueue = "true";
    attributes.ContentBasedDeduplication = "false";
    attributes.DeduplicationScope = "queue";
    attributes.FifoThroughputLimit = "perQueue";
  }
  return attributes;
}

/**
 * Validates `changes` (names, ranges, JSON policies) and returns the merged attributes.
 * `creating` allows FifoQueue, which cannot change later. An empty RedrivePolicy,
 * RedriveAllowPolicy or Policy removes it, as in SQS.
 */
export function mergeAttributes(
  current: Readonly<Record<string, string>>,
  changes: QueueAttributes | undefined,
  fifo: boolean,
  creating: boolean,
): Record<string, string> {
  const merged = { ...current };
  if (changes === undefined || changes === null) return merged;
  if (typeof changes !== "object" || Array.isArray(changes))
    throw new QueueError(
      "InvalidParameterValue",
      "Attributes: expected an object of attribute strings",
      "Attributes",
    );
  for (const [name, raw] of Object.entries(changes as Record<string, unknown>)) {
    const field = `Attributes.${name}`;
    if (!WRITABLE.has(name) || (name === "FifoQueue" && !creating))
      throw new QueueError(
        "InvalidAttributeName",
        `${field}: unknown or read-only queue attribute ${name}`,
        field,
      );
    if (FIFO_ONLY.has(name) && !fifo)
      throw new QueueError(
        "InvalidAttributeName",
        `${field}: ${name} applies to FIFO queues only`,
        field,
      );
    // SQS attribute values are strings ("30", "true"), never numbers or booleans.
    if (typeof raw !== "string") throw invalidValue(field, "a string value", raw);
    const value = raw;
    const range = RANGES[name as WritableQueueAttributeName];
    const choices = CHOICES[name as WritableQueueAttributeName];
    if (range !== undefined) {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < range[0] || n > range[1])
        throw invalidValue(field, `an integer from ${range[0]} to ${range[1]}`, value);
      merged[name] = String(n);
    } else if (choices !== undefined) {
      if (!choices.includes(value))
        throw invalidValue(field, choices.map((c) => `"${c}"`).join(" or "), value);
      merged[name] = value;
    } else if (value === "") {
      delete merged[name];
    } else if (name === "Policy") {
      merged[name] = checkAccessPolicy(field, value);
    } else {
      merged[name] =
        name === "RedrivePolicy"
          ? JSON.stringify(parseRedrivePolicy(value))
          : JSON.stringify(parseRedriveAllowPolicy(value));
    }
  }
  return merged;
}

/** Parses validated attribute strings into typed settings. */
export function parseConfig(attributes: Readonly<Record<string, string>>): QueueConfig {
  const number = (name: string): number => Number(attributes[name] ?? "0");
  return {
    fifo: attributes.FifoQueue === "true",
    delaySeconds: number("DelaySeconds"),
    maximumMessageSize: number("MaximumMessageSize"),
    messageRetentionPeriod: number("MessageRetentionPeriod"),
    receiveMessageWaitTimeSeconds: number("ReceiveMessageWaitTimeSeconds"),
    visibilityTimeout: number("VisibilityTimeout"),
    redrivePolicy:
      attributes.RedrivePolicy === undefined
        ? undefined
        : parseRedrivePolicy(attributes.RedrivePolicy),
    redriveAllowPolicy:
      attributes.RedriveAllowPolicy === undefined
        ? undefined
        : parseRedriveAllowPolicy(attributes.RedriveAllowPolicy),
    contentBasedDeduplication: attributes.ContentBasedDeduplication === "true",
    deduplicationScope: attributes.DeduplicationScope === "messageGroup" ? "messageGroup" : "queue",
    fifoThroughputLimit:
      attributes.FifoThroughputLimit === "perMessageGroupId" ? "perMessageGroupId" : "perQueue",
  };
}

function parseJsonObject(field: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidPolicy(field, "a JSON object", text);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw invalidPolicy(field, "a JSON object", text);
  return parsed as Record<string, unknown>;
}

export function parseRedrivePolicy(text: string): RedrivePolicy {
  const field = "Attributes.RedrivePolicy";
  const policy = parseJsonObject(field, text);
  const arn = policy.deadLetterTargetArn;
  const count = Number(policy.maxReceiveCount);
  if (typeof arn !== "string" || !arn.startsWith("arn:aws:sqs:"))
    throw invalidPolicy(`${field}.deadLetterTargetArn`, "an SQS queue ARN", arn);
  if (!Number.isInteger(count) || count < 1 || count > 1000)
    throw invalidPolicy(
      `${field}.maxReceiveCount`,
      "an integer from 1 to 1000",
      policy.maxReceiveCount,
    );
  return { deadLetterTargetArn: arn, maxReceiveCount: count };
}

export function parseRedriveAllowPolicy(text: string): RedriveAllowPolicy {
  const field = "Attributes.RedriveAllowPolicy";
  const policy = parseJsonObject(field, text);
  const permission = policy.redrivePermission;
  if (permission !== "allowAll" && permission !== "denyAll" && permission !== "byQueue")
    throw invalidPolicy(
      `${field}.redrivePermission`,
      `"allowAll", "denyAll" or "byQueue"`,
      permission,
    );
  const arns = policy.sourceQueueArns ?? [];
  if (!Array.isArray(arns) || arns.some((a) => typeof a !== "string") || arns.length > 10)
    throw invalidPolicy(`${field}.sourceQueueArns`, "an array of at most 10 queue ARNs", arns);
  if (permission === "byQueue" && arns.length === 0)
    throw invalidPolicy(
      `${field}.sourceQueueArns`,
      "at least one ARN when redrivePermission is byQueue",
      arns,
    );
  if (permission !== "byQueue" && arns.length > 0)
    throw invalidPolicy(
      `${field}.sourceQueueArns`,
      "no ARNs unless redrivePermission is byQueue",
      arns,
    );
  return { redrivePermission: permission, sourceQueueArns: arns as string[] };
}

/** An access policy: a JSON object (an IAM policy document), kept as given. */
function checkAccessPolicy(field: string, text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidValue(field, "a JSON policy document", text);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw invalidValue(field, "a JSON policy document", text);
  return text;
}

function invalidValue(field: string, expected: string, got: unknown): QueueError {
  return new QueueError(
    "InvalidAttributeValue",
    `${field}: expected ${expected}, got ${describeValue(got)}`,
    field,
  );
}

/** SQS reports a bad redrive policy as InvalidParameterValue, naming the policy field. */
function invalidPolicy(field: string, expected: string, got: unknown): QueueError {
  return new QueueError(
    "InvalidParameterValue",
    `${field}: expected ${expected}, got ${describeValue(got)}`,
    field,
  );
}

const READ_ONLY = new Set<string>([
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
  "QueueArn",
]);

/** Whether `name` is an attribute getQueueAttributes knows (writable or read-only). */
export function isQueueAttributeName(name: unknown): name is QueueAttributeName {
  return typeof name === "string" && (WRITABLE.has(name) || READ_ONLY.has(name));
}

/** Validates tags (keys 1-128, values up to 256 characters, 50 a queue) merged over `current`. */
export function checkTags(
  tags: unknown,
  current: Readonly<Record<string, string>>,
  field = "Tags",
): Record<string, string> {
  if (typeof tags !== "object" || tags === null || Array.isArray(tags) || Buffer.isBuffer(tags))
    throw invalidParameter(field, "an object of tag key -> value");
  const merged = { ...current };
  for (const [key, value] of Object.entries(tags as Record<string, unknown>)) {
    if (key.length < 1 || key.length > 128)
      throw invalidParameter(`${field}.${key}`, "a key of 1-128 characters");
    if (typeof value !== "string" || value.length > 256)
      throw invalidParameter(`${field}.${key}`, "a value of at most 256 characters");
    setOwnEntry(merged, key, value);
  }
  if (Object.keys(merged).length > 50) throw invalidParameter(field, "at most 50 tags on a queue");
  return merged;
}
