import { invalid } from "../errors/index.js";
import { checkDelay } from "./validate.js";

/**
 * A delay schedule. Stateless on purpose: the caller keeps the previous delay, so one backoff
 * can serve every concurrent call without allocating an iterator per call.
 */
export interface Backoff {
  /**
   * The delay before try number `retry` (1 = the first retry, or the first re-open of a
   * breaker), given the delay used before the previous one (0 the first time).
   */
  delayMs(retry: number, previousDelayMs: number): number;
}

/** How much randomness an exponential backoff mixes in (see AWS's "Exponential Backoff And Jitter"). */
export type Jitter = "none" | "full" | "half";

export interface ExponentialBackoffOptions {
  /** Delay before the first retry. Default 100. */
  readonly initialDelayMs?: number;
  /** Growth per retry. Default 2. */
  readonly factor?: number;
  /** Upper bound of any delay. Default 30,000. */
  readonly maxDelayMs?: number;
  /** `full`: uniform in [0, d]; `half`: uniform in [d/2, d]; `none`: d. Default `full`. */
  readonly jitter?: Jitter;
  /** Source of randomness in [0, 1); inject a seeded one for reproducible runs. */
  readonly random?: () => number;
}

export interface DecorrelatedJitterOptions {
  /** The smallest delay, and the first one's lower bound. Default 100. */
  readonly initialDelayMs?: number;
  /** Upper bound of any delay. Default 30,000. */
  readonly maxDelayMs?: number;
  readonly random?: () => number;
}

/** The same delay before every retry. */
export function constantBackoff(delayMs: number): Backoff {
  checkDelay("delayMs", delayMs);
  return { delayMs: () => delayMs };
}

/** `initialDelayMs * factor^(retry-1)`, capped at `maxDelayMs`, with optional jitter. */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  const initial = options.initialDelayMs ?? 100;
  const factor = options.factor ?? 2;
  const max = options.maxDelayMs ?? 30_000;
  const jitter = options.jitter ?? "full";
  const random = options.random ?? Math.random;
  checkDelay("initialDelayMs", initial);
  checkDelay("maxDelayMs", max);
  if (!Number.isFinite(factor) || factor < 1) throw invalid("factor", "a number >= 1", factor);
  if (jitter !== "none" && jitter !== "full" && jitter !== "half") {
    throw invalid("jitter", '"none", "full" or "half"', jitter);
  }
  return {
    delayMs(retry) {
      const base = Math.min(max, initial * Math.pow(factor, Math.max(0, retry - 1)));
      if (jitter === "none") return base;
      if (jitter === "full") return random() * base;
      return base / 2 + (random() * base) / 2;
    },
  };
}

/**
 * Decorrelated jitter (AWS's formula): each delay is uniform in [initial, 3 x previous], capped,
 * with the previous delay taken as `initial` before the first retry, so even the first delays
 * of many clients spread over [initial, 3 x initial] instead of landing together.
 */
export function decorrelatedJitterBackoff(options: DecorrelatedJitterOptions = {}): Backoff {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 30_000;
  const random = options.random ?? Math.random;
  checkDelay("initialDelayMs", initial);
  checkDelay("maxDelayMs", max);
  return {
    delayMs(_retry, previousDelayMs) {
      const upper = Math.max(initial, (previousDelayMs > 0 ? previousDelayMs : initial) * 3);
      return Math.min(max, initial + random() * (upper - initial));
    },
  };
}
