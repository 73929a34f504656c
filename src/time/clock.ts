import { SluiceError } from "../errors/index.js";

/** A cancellable timer; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
  /**
   * Changes whether the pending timer holds the process open, cheaper than cancelling and
   * re-arming it (a clock whose timers never hold a process may omit it).
   */
  setKeepAlive?(keepAlive: boolean): void;
}

/** Whether a timer holds the process open while it is pending. */
export interface TimerOptions {
  /**
   * True for a timer that an awaited promise depends on (a long poll's deadline, a backoff, a
   * timeout): without it a plain script would exit in the middle of its own `await`. Background
   * timers (fsync interval, sweeps, retention) leave it false.
   */
  readonly keepAlive?: boolean;
}

/**
 * The source of time for everything with a timeout. Inject a `VirtualClock` in tests and
 * simulations to run hours of visibility timeouts, breakers and windows in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Runs `callback` once after `delayMs`. A background timer (the default) never keeps the
   * process alive alone; pass `{ keepAlive: true }` when an awaited promise depends on it.
   */
  setTimer(delayMs: number, callback: () => void, options?: TimerOptions): Timer;
  /**
   * Resolves after `delayMs`, or rejects with SLUICE_ABORTED when `signal` aborts first. The
   * sleep is awaited, so it keeps the process alive unless `{ keepAlive: false }`.
   */
  sleep(delayMs: number, signal?: AbortSignal, options?: TimerOptions): Promise<void>;
}

/** Shared sleep on top of `setTimer`, so both clocks honour AbortSignal the same way. */
export function sleepOn(
  clock: Clock,
  delayMs: number,
  signal?: AbortSignal,
  options?: TimerOptions,
): Promise<void> {
  const keepAlive = options?.keepAlive ?? true;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(abortError(signal));
    };
    const timer = clock.setTimer(
      delayMs,
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      { keepAlive },
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function abortError(signal?: AbortSignal): SluiceError {
  return new SluiceError("SLUICE_ABORTED", "operation aborted", { cause: signal?.reason });
}

/** The longest delay of one Node timer: a longer one would run after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Wall-clock time from `Date.now()` and Node timers. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimer(delayMs: number, callback: () => void, options?: TimerOptions): Timer {
    if (delayMs > MAX_TIMER_MS) return longTimer(delayMs, callback, options?.keepAlive === true);
    const handle = setTimeout(callback, Math.max(0, delayMs));
    if (options?.keepAlive !== true) handle.unref();
    return {
      cancel: () => clearTimeout(handle),
      setKeepAlive: (keepAlive) => void (keepAlive ? handle.ref() : handle.unref()),
    };
  }

  sleep(delayMs: number, signal?: AbortSignal, options?: TimerOptions): Promise<void> {
    return sleepOn(this, delayMs, signal, options);
  }
}

/** A timer for more than MAX_TIMER_MS (a breaker open for 30 days, say): Node timers in a chain. */
function longTimer(delayMs: number, callback: () => void, keepAlive: boolean): Timer {
  const due = performance.now() + delayMs;
  let handle: NodeJS.Timeout;
  const arm = (): void => {
    const left = due - performance.now();
    handle = setTimeout(left > MAX_TIMER_MS ? arm : callback, Math.min(left, MAX_TIMER_MS));
    if (!keepAlive) handle.unref();
  };
  arm();
  return {
    cancel: () => clearTimeout(handle),
    setKeepAlive: (hold) => {
      keepAlive = hold;
      if (hold) handle.ref();
      else handle.unref();
    },
  };
}

/** The process-wide real clock. */
export const systemClock: Clock = new SystemClock();
