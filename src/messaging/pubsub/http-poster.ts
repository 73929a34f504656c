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
        await response.arrayBuffer();
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
