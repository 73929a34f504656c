import { setTimeout as sleep } from "node:timers/promises";

/** Retries `call` until it succeeds (another process's change arriving), for up to `ms`. */
export async function eventually<T>(call: () => Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}
