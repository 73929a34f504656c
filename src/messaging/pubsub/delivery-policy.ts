import { type Backoff, exponentialBackoff } from "../../resilience/index.js";
import { invalidParameter } from "./pubsub-error.js";
import type { SubscriptionProtocol } from "./pubsub-service.js";

/** How a subscription retries a failed delivery. */
export interface RetrySettings {
  /** Retries after the first try. */
  readonly numRetries: number;
  readonly backoff: Backoff;
  readonly maxDelayMs: number;
}

/** SNS's default for HTTP(S): 3 retries, 20 s apart. */
const HTTP_DEFAULT = { numRetries: 3, minDelayTarget: 20, maxDelayTarget: 20 };
/** Queues, topics and handlers are local: retry sooner and more often. */
const LOCAL_DEFAULT = { numRetries: 10, minDelayTarget: 0.1, maxDelayTarget: 20 };

/**
 * Reads SNS's DeliveryPolicy (`{"healthyRetryPolicy": {numRetries, minDelayTarget,
 * maxDelayTarget}}`, seconds) into retry settings: exponential backoff with jitter from the
 * resilience toolkit.
 */
export function retrySettings(
  protocol: SubscriptionProtocol,
  deliveryPolicy: string | undefined,
  random?: () => number,
): RetrySettings {
  const defaults = protocol === "http" || protocol === "https" ? HTTP_DEFAULT : LOCAL_DEFAULT;
  const policy = deliveryPolicy === undefined ? {} : parseDeliveryPolicy(deliveryPolicy);
  const numRetries = policy.numRetries ?? defaults.numRetries;
  const minDelayMs = (policy.minDelayTarget ?? defaults.minDelayTarget) * 1000;
  const maxDelayMs = Math.max(
    minDelayMs,
    (policy.maxDelayTarget ?? defaults.maxDelayTarget) * 1000,
  );
  return {
    numRetries,
    maxDelayMs,
    backoff: exponentialBackoff({
      initialDelayMs: minDelayMs,
      maxDelayMs,
      jitter: "half",
      ...(random === undefined ? {} : { random }),
    }),
  };
}

interface HealthyRetryPolicy {
  numRetries?: number;
  minDelayTarget?: number;
  maxDelayTarget?: number;
}

/** Validates a DeliveryPolicy attribute; throws InvalidParameter naming the field. */
export function parseDeliveryPolicy(text: string): HealthyRetryPolicy {
  const field = "DeliveryPolicy";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidParameter(field, "not valid JSON");
  }
  const healthy = (parsed as { healthyRetryPolicy?: unknown } | null)?.healthyRetryPolicy;
  if (healthy === undefined) return {};
  if (healthy === null || typeof healthy !== "object")
    throw invalidParameter(`${field}.healthyRetryPolicy`, "must be an object");
  const out: HealthyRetryPolicy = {};
  const h = healthy as Record<string, unknown>;
  const number = (name: keyof HealthyRetryPolicy, max: number): void => {
    const value = h[name];
    if (value === undefined) return;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > max)
      throw invalidParameter(
        `${field}.healthyRetryPolicy.${name}`,
        `must be a number from 0 to ${max}`,
      );
    out[name] = value;
  };
  number("numRetries", 100);
  number("minDelayTarget", 3600);
  number("maxDelayTarget", 3600);
  if (
    out.minDelayTarget !== undefined &&
    out.maxDelayTarget !== undefined &&
    out.minDelayTarget > out.maxDelayTarget
  )
    throw invalidParameter(
      `${field}.healthyRetryPolicy`,
      "minDelayTarget must not exceed maxDelayTarget",
    );
  return out;
}

/** Validates a RedrivePolicy attribute and returns its dead-letter queue ARN. */
export function parseRedrivePolicy(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidParameter("RedrivePolicy", "not valid JSON");
  }
  const arn = (parsed as { deadLetterTargetArn?: unknown } | null)?.deadLetterTargetArn;
  if (typeof arn !== "string" || !/^arn:aws:sqs:[^:]+:[^:]+:[A-Za-z0-9_.-]+$/.test(arn))
    throw invalidParameter("RedrivePolicy.deadLetterTargetArn", "must be the ARN of an SQS queue");
  return arn;
}
