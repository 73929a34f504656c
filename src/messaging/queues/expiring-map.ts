import { Deque } from "./deque.js";

interface Entry<V> {
  readonly key: string;
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * A map whose entries expire a fixed time after they were set; expired entries are dropped
 * oldest first, so pruning costs only what it removes (deduplication ids, receive attempts).
 */
export class ExpiringMap<V> {
  private readonly byKey = new Map<string, Entry<V>>();
  private readonly byAge = new Deque<Entry<V>>();

  constructor(readonly ttlMs: number) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The value set for `key`, if it has not expired by `now`. */
  get(key: string, now: number): V | undefined {
    this.prune(now);
    return this.byKey.get(key)?.value;
  }

  /** Sets `key` as of `at` (it expires at `at + ttlMs`). Times must not go backwards. */
  set(key: string, value: V, at: number): void {
    const entry: Entry<V> = { key, value, expiresAt: at + this.ttlMs };
    this.byKey.set(key, entry);
    this.byAge.push(entry);
  }

  delete(key: string): void {
    this.byKey.delete(key);
  }

  prune(now: number): void {
    for (
      let e = this.byAge.peekFront();
      e !== undefined && e.expiresAt <= now;
      e = this.byAge.peekFront()
    ) {
      this.byAge.shift();
      if (this.byKey.get(e.key) === e) this.byKey.delete(e.key);
    }
  }
}
