import { SluiceError } from "../../errors/index.js";
import type { Clock } from "../../time/index.js";

/** Sends one HTTP POST and reports the status code (the seam tests and chaos runs replace). */
export interface HttpPoster {
  post(url: string, headers: Record<string, string>, body: string): Promise<number>;
}

/** POSTs with `fetch`, giving up after `timeoutMs` on the injected clock. */
export function fetchPoster(clock: Clock, timeoutMs = 15_000): HttpPoster {
  return {
    async post(url, headers, body) {
      const controller = new AbortController();
      const timer = clock.setTimer(timeoutMs, () => controller.abort());
      try {
        const response = await fetch(url, {
          method: "POST",
          headers,
          body,
          signal: controller.signal,
        });
        await discardBody(response);
        return response.status;
      } catch (error) {
        throw new SluiceError(
          controller.signal.aborted ? "SLUICE_TIMEOUT" : "SLUICE_IO",
          `POST ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      } finally {
        timer.cancel();
      }
    },
  };
}

/** What of an endpoint's answer is read (and dropped) so that its connection can be reused. */
const MAX_BODY_READ = 64 * 1024;

/**
 * Reads and drops an answer's body, up to MAX_BODY_READ bytes; a longer one is cancelled (its
 * connection closed). SNS ignores what an endpoint answers, and an endpoint answering without
 * end must cost neither memory nor the delivery's time.
 */
async function discardBody(response: Response): Promise<void> {
  const body = response.body;
  if (body === null) return;
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
    if (read > MAX_BODY_READ) {
      await reader.cancel();
      return;
    }
  }
}
