import { isSluiceError } from "../../../errors/index.js";

/**
 * Retries `call` while a queue is being reopened after a failed write or read (it answers
 * SLUICE_IO meanwhile), a turn of the event loop apart, at most 50 times.
 */
export async function once<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 50 || !isSluiceError(error, "SLUICE_IO")) throw error;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
