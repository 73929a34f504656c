import { invalid, isSluiceError } from "../../errors/index.js";
import { type Event, EventEmitter } from "../events.js";
import { checkPositiveMs } from "../validate.js";
import {
  type IdempotencyRecord,
  type IdempotencyStore,
  MemoryIdempotencyStore,
} from "./idempotency-store.js";

export interface IdempotentOptions<A extends unknown[]> {
  /** The idempotency key of a delivery, e.g. `(message) => message.id`. */
  readonly key: (...args: A) => string;
  /** Where completed results live. Default: a new in-memory store. */
  readonly store?: IdempotencyStore;
  /** How long a completed key is remembered. Default 24 h. */
  readonly ttlMs?: number;
}

export interface DuplicateEvent {
  readonly key: string;
  /** `completed`: answered from the store; `in-flight`: joined a concurrent first delivery. */
  readonly kind: "completed" | "in-flight";
}

/** A handler that runs at most once per key (within the TTL). */
export interface IdempotentHandler<A extends unknown[], R> {
  (...args: A): Promise<R>;
  readonly store: IdempotencyStore;
  /** Keys being handled right now. */
  readonly inFlight: number;
  /** A duplicate delivery was answered without running the handler. */
  readonly onDuplicate: Event<DuplicateEvent>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === "function";
}

/**
 * Turns at-least-once delivery into one run of `handler` per key: the first delivery runs it
 * and stores the result; a duplicate that arrives later gets the stored result; one that
 * arrives while the first is still running waits for it and gets the same outcome. Failures
 * are not stored, so a redelivery after a failure runs the handler again.
 *
 * The effect is exactly-once only if the handler's effect and the stored result cannot be
 * separated by a crash (same transaction or log), or the effect is itself idempotent; otherwise
 * a crash between the two can still repeat the effect once.
 */
export function idempotent<A extends unknown[], R>(
  handler: (...args: A) => R | PromiseLike<R>,
  options: IdempotentOptions<A>,
): IdempotentHandler<A, R> {
  const store: IdempotencyStore = options.store ?? new MemoryIdempotencyStore();
  const ttlMs = options.ttlMs ?? DAY_MS;
  checkPositiveMs("ttlMs", ttlMs);
  // Refused here, not after the side effect: a store that cannot keep the key that long would
  // fail every delivery after running it.
  if (store.maxTtlMs !== undefined && ttlMs > store.maxTtlMs)
    throw invalid("ttlMs", `at most the store's maxTtlMs (${store.maxTtlMs})`, ttlMs);
  const keyOf = options.key;
  const inFlight = new Map<string, Promise<R>>();
  const duplicates = new EventEmitter<DuplicateEvent>();

  const duplicate = (key: string, kind: DuplicateEvent["kind"]): void => {
    if (duplicates.hasListeners) duplicates.emit({ key, kind });
  };

  const start = (
    key: string,
    args: A,
    lookup: PromiseLike<IdempotencyRecord | undefined> | undefined,
  ): Promise<R> => {
    const run = async (): Promise<R> => {
      if (lookup !== undefined) {
        const hit = await lookup;
        if (hit !== undefined) {
          duplicate(key, "completed");
          return hit.value as R;
        }
      }
      const value = await handler(...args);
      try {
        await store.set(key, value, ttlMs);
      } catch (error) {
        if (!isSluiceError(error, "SLUICE_VALIDATION") || error.field !== "value") throw error;
        // The effect has happened but the store cannot hold its result (not JSON): record the
        // key as done without it, so redeliveries never repeat the effect (they get undefined).
        await store.set(key, undefined, ttlMs);
      }
      return value;
    };
    const promise = run();
    inFlight.set(key, promise);
    const clear = (): void => {
      inFlight.delete(key);
    };
    promise.then(clear, clear);
    return promise;
  };

  const wrapped = (...args: A): Promise<R> => {
    const key = keyOf(...args);
    const pending = inFlight.get(key);
    if (pending !== undefined) {
      duplicate(key, "in-flight");
      return pending;
    }
    const stored = store.get(key);
    if (stored === undefined) return start(key, args, undefined);
    if (isPromiseLike<IdempotencyRecord | undefined>(stored)) return start(key, args, stored);
    duplicate(key, "completed");
    return Promise.resolve(stored.value as R);
  };

  return Object.defineProperties(wrapped, {
    store: { value: store, enumerable: true },
    inFlight: { get: () => inFlight.size, enumerable: true },
    onDuplicate: { value: duplicates.event, enumerable: true },
  }) as IdempotentHandler<A, R>;
}
