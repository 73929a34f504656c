import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

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
 * Runs `call` again while JetStream answers "temporarily unavailable" (and, with
 * `streamJustCreated`, "stream not found"), for up to `timeoutMs`. Only for calls that may be
 * repeated: reads, and creates that find what an earlier one made.
 */
export async function retryWhileUnavailable<T>(
  call: () => Promise<T>,
  timeoutMs = 10_000,
  pauseMs = 250,
  streamJustCreated = false,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const transient =
        isTemporarilyUnavailable(error) || (streamJustCreated && isStreamNotFound(error));
      if (!transient || Date.now() + pauseMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
