import { SluiceError } from "../errors/index.js";

/** A cancellable timer; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

/**
 * The source of time for everything with a timeout. Inject a `VirtualClock` in tests and
 * simulations to run hours of visibility timeouts, breakers and windows in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `callback` once after `delayMs`; the timer never keeps the process alive alone. */
  setTimer(delayMs: number, callback: () => void): Timer;
  /** Resolves after `delayMs`, or rejects with SLUICE_ABORTED when `signal` aborts first. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

/** Shared sleep on top of `setTimer`, so both clocks honour AbortSignal the same way. */
export function sleepOn(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(abortError(signal));
    };
    const timer = clock.setTimer(delayMs, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function abortError(signal?: AbortSignal): SluiceError {
  return new SluiceError("SLUICE_ABORTED", "operation aborted", { cause: signal?.reason });
}

/** Wall-clock time from `Date.now()` and Node timers. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }
}

/** The process-wide real clock. */
export const systemClock: Clock = new SystemClock();
