import { type Clock, systemClock } from "../../time/index.js";
import { checkInteger, checkPositiveMs } from "../validate.js";

/** A completed key's stored result. */
export interface IdempotencyRecord {
  readonly value: unknown;
  readonly expiresAtMs: number;
}

/**
 * Where `idempotent()` keeps the results of completed keys. Methods may answer synchronously
 * (the in-memory and durable stores do, for speed) or with a promise (a store on a remote
 * database would).
 */
export interface IdempotencyStore {
  /** The result stored for `key`, or undefined when there is none or it expired. */
  get(key: string): IdempotencyRecord | undefined | Promise<IdempotencyRecord | undefined>;
  /** Stores `value` as the result of `key` for `ttlMs`; resolves once it is as durable as the store gets. */
  set(key: string, value: unknown, ttlMs: number): void | Promise<void>;
  /** Forgets `key`; true when it was there. */
  delete(key: string): boolean | Promise<boolean>;
  /** Keys held now (expired keys not yet swept may be counted). */
  readonly size: number;
  /** The longest TTL the store keeps, if it has a limit (checked when a handler is built). */
  readonly maxTtlMs?: number;
  close(): Promise<void>;
}

export interface MemoryIdempotencyStoreOptions {
  readonly clock?: Clock;
  /** Upper bound on keys; the oldest are evicted beyond it. Default: unbounded. */
  readonly maxKeys?: number;
}

class Entry implements IdempotencyRecord {
  constructor(
    readonly value: unknown,
    readonly expiresAtMs: number,
  ) {}
}

/**
 * An in-memory store: a Map in insertion order, so with one TTL the oldest key is always the
 * next to expire, and each `set` sweeps a couple of expired keys off the front (O(1) amortised).
 * Keys with unequal TTLs still expire on read; `sweep()` clears the rest.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly maxKeys: number;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxKeys = options.maxKeys ?? Number.POSITIVE_INFINITY;
    if (options.maxKeys !== undefined) checkInteger("maxKeys", options.maxKeys, 1);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): IdempotencyRecord | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, value: unknown, ttlMs: number): void {
    checkPositiveMs("ttlMs", ttlMs);
    const now = this.clock.now();
    this.entries.delete(key); // re-setting moves the key to the end, keeping expiry order
    this.entries.set(key, new Entry(value, now + ttlMs));
    this.sweepFront(now, 2);
    if (this.entries.size > this.maxKeys) {
      for (const oldest of this.entries.keys()) {
        this.entries.delete(oldest);
        if (this.entries.size <= this.maxKeys) break;
      }
    }
  }

  /** @internal Restores a record as it was (used by the durable store when replaying). */
  restore(key: string, value: unknown, expiresAtMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, new Entry(value, expiresAtMs));
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Removes every expired key; returns how many. */
  sweep(): number {
    const now = this.clock.now();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAtMs <= now) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }

  private sweepFront(now: number, limit: number): void {
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAtMs > now || removed >= limit) return;
      this.entries.delete(key);
      removed++;
    }
  }
}
