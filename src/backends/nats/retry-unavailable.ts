import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { constantBackoff, handleWhen, retry } from "../../resilience/index.js";
import { type Clock, systemClock } from "../../time/index.js";

/**
 * JetStream's 503 "JetStream system temporarily unavailable": nats-server 2.10 gives it to API
 * requests on a server that has lost contact with its cluster's meta leader (just resumed or
 * restarted, or during a meta election) until it finds one again, even for requests another
 * server, such as a stream's leader, would answer.
 */
export function isTemporarilyUnavailable(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.status === 503;
}

/** "stream not found", which a server that has not applied a stream's creation yet answers. */
function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}

/**
 * "error creating store for stream" (500): nats-server's one sentence for any failure to make a
 * stream's store, the cause going to its own log only. It has come and gone while a paused
 * server caught up (a bucket created a moment later was made), and other projects retry it
 * when a stream is made again soon after one was deleted.
 */
function isStoreCreationFailure(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    error.status === 500 &&
    error.message.includes("error creating store for stream")
  );
}

export interface RetryUnavailableOptions {
  /** How long to keep trying, in all. Default 10 s. */
  readonly timeoutMs?: number;
  /** The pause between tries. Default 250 ms. */
  readonly pauseMs?: number;
  /** Also try again on "stream not found": the call reads a stream this process just created. */
  readonly streamJustCreated?: boolean;
  /**
   * Also try again on "error creating store for stream": the call creates a stream (or bucket)
   * with a fixed configuration, so a second try finds or makes the same one.
   */
  readonly creatingStream?: boolean;
  readonly clock?: Clock;
}

/**
 * Runs `call` again while JetStream answers "temporarily unavailable" (and, with
 * `streamJustCreated`, "stream not found"; with `creatingStream`, "error creating store for
 * stream"), for up to `timeoutMs`, and then throws the last answer. Only for calls that may be
 * repeated: reads, and creates that find what an earlier one made.
 */
export function retryWhileUnavailable<T>(
  call: () => Promise<T>,
  options: RetryUnavailableOptions = {},
): Promise<T> {
  const {
    timeoutMs = 10_000,
    pauseMs = 250,
    streamJustCreated = false,
    creatingStream = false,
  } = options;
  const transient = handleWhen(
    (error) =>
      isTemporarilyUnavailable(error) ||
      (streamJustCreated && isStreamNotFound(error)) ||
      (creatingStream && isStoreCreationFailure(error)),
  );
  return retry(transient, {
    maxAttempts: 1 + Math.floor(timeoutMs / pauseMs),
    backoff: constantBackoff(pauseMs),
    clock: options.clock ?? systemClock,
  }).execute(() => call());
}
