import { isSluiceError } from "../../errors/index.js";

/** A deterministic random source in [0, 1) (mulberry32), for reproducible jitter and models. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Tracked<T> =
  | { readonly state: "pending" }
  | { readonly state: "fulfilled"; readonly value: T }
  | { readonly state: "rejected"; readonly error: unknown };

/**
 * Watches a promise without awaiting it, so a test can advance virtual time and then look at
 * whether it settled (and the rejection never counts as unhandled).
 */
export function track<T>(promise: Promise<T>): { readonly current: Tracked<T> } {
  const box: { current: Tracked<T> } = { current: { state: "pending" } };
  promise.then(
    (value) => (box.current = { state: "fulfilled", value }),
    (error: unknown) => (box.current = { state: "rejected", error }),
  );
  return box;
}

/** The error code of a rejected tracked promise, or its state when it did not reject with a SluiceError. */
export function codeOf(tracked: { readonly current: Tracked<unknown> }): string {
  const c = tracked.current;
  if (c.state !== "rejected") return c.state;
  return isSluiceError(c.error) ? c.error.code : "rejected (not a SluiceError)";
}

/** A function that fails `failures` times, then returns `value`; counts its calls. */
export function flaky<T>(failures: number, value: T): { (): Promise<T>; calls: number } {
  const fn = async (): Promise<T> => {
    fn.calls++;
    if (fn.calls <= failures) throw new Error(`failure ${fn.calls}`);
    return value;
  };
  fn.calls = 0;
  return fn;
}
