import { describe, expect, it } from "vitest";
import { resolveConsumerOptions } from "./consumer-options.js";
import { resolveProducerOptions } from "./embedded-producer.js";
import { MAX_TIMER_MS } from "../../time/index.js";
import { TopicError } from "./topic-error.js";

const TIMER_OPTIONS = {
  consumer: ["sessionTimeoutMs", "rebalanceTimeoutMs", "autoCommitIntervalMs"],
  producer: ["lingerMs", "transactionTimeoutMs"],
} as const;

function refusal(resolve: () => unknown): TopicError | undefined {
  try {
    resolve();
    return undefined;
  } catch (error) {
    return error as TopicError;
  }
}

describe("options that set a timer", () => {
  // Node runs a timer of more than 2^31 - 1 ms after 1 ms: a linger of 25 days would send at once.
  it.each([
    ...TIMER_OPTIONS.consumer.map((field) => ["consumer", field] as const),
    ...TIMER_OPTIONS.producer.map((field) => ["producer", field] as const),
  ])("%s %s beyond what a timer holds is INVALID_CONFIG naming it", (kind, field) => {
    const resolve = (value: number) => () =>
      kind === "consumer"
        ? resolveConsumerOptions({ groupId: "g", [field]: value })
        : resolveProducerOptions({ [field]: value });
    const error = refusal(resolve(MAX_TIMER_MS + 1));
    expect(error).toBeInstanceOf(TopicError);
    expect(error?.kafkaError).toBe("INVALID_CONFIG");
    expect(error?.field).toBe(field);
    expect(error?.message).toContain(field);
    expect(error?.message).toContain(
      `from ${field === "autoCommitIntervalMs" || field === "lingerMs" ? 0 : 1} to ${MAX_TIMER_MS}`,
    );
    expect(refusal(resolve(MAX_TIMER_MS - 1))).toBeUndefined();
  });
});
