import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../time/index.js";
import { track } from "../test-support/index.js";
import type { IdempotencyRecord, IdempotencyStore } from "./idempotency-store.js";
import { MemoryIdempotencyStore } from "./idempotency-store.js";
import { idempotent } from "./idempotent.js";
import type { DuplicateEvent } from "./idempotent.js";

interface Payment {
  readonly id: string;
  readonly amount: number;
}

describe("idempotent", () => {
  it("runs the handler once per key and returns the stored result to redeliveries", async () => {
    const charged: number[] = [];
    const handle = idempotent(
      (p: Payment) => {
        charged.push(p.amount);
        return `receipt-${p.id}`;
      },
      { key: (p) => p.id },
    );
    const duplicates: DuplicateEvent[] = [];
    handle.onDuplicate((e) => duplicates.push(e));
    expect(await handle({ id: "p1", amount: 10 })).toBe("receipt-p1");
    expect(await handle({ id: "p1", amount: 10 })).toBe("receipt-p1");
    expect(await handle({ id: "p2", amount: 5 })).toBe("receipt-p2");
    expect(charged).toEqual([10, 5]);
    expect(duplicates).toEqual([{ key: "p1", kind: "completed" }]);
  });

  it("makes a concurrent duplicate wait for the first delivery and share its result", async () => {
    const clock = new VirtualClock(0);
    let runs = 0;
    const handle = idempotent(
      async (id: string) => {
        runs++;
        await clock.sleep(100);
        return `done ${id}`;
      },
      { key: (id) => id },
    );
    const first = track(handle("m1"));
    const second = track(handle("m1"));
    expect(handle.inFlight).toBe(1);
    await clock.advance(100);
    expect(first.current).toEqual({ state: "fulfilled", value: "done m1" });
    expect(second.current).toEqual({ state: "fulfilled", value: "done m1" });
    expect(runs).toBe(1);
    expect(handle.inFlight).toBe(0);
  });

  it("stores nothing on failure, so a redelivery runs the handler again", async () => {
    let attempts = 0;
    const handle = idempotent(
      (id: string) => {
        attempts++;
        if (attempts === 1) throw new Error("transient");
        return id.toUpperCase();
      },
      { key: (id) => id },
    );
    const concurrent = [handle("a"), handle("a")];
    await expect(concurrent[0]).rejects.toThrow("transient");
    await expect(concurrent[1]).rejects.toThrow("transient"); // the waiter shares the failure
    await expect(handle("a")).resolves.toBe("A");
    expect(attempts).toBe(2);
  });

  it("forgets keys after the TTL", async () => {
    const clock = new VirtualClock(0);
    let runs = 0;
    const handle = idempotent(() => ++runs, {
      key: () => "same",
      ttlMs: 1000,
      store: new MemoryIdempotencyStore({ clock }),
    });
    await handle();
    await handle();
    await clock.advance(1000);
    await handle();
    expect(runs).toBe(2);
  });

  it("works with an asynchronous store, without racing concurrent duplicates", async () => {
    const inner = new MemoryIdempotencyStore();
    const slowStore: IdempotencyStore = {
      get: (key) =>
        new Promise<IdempotencyRecord | undefined>((r) => setImmediate(() => r(inner.get(key)))),
      set: (key, value, ttl) =>
        new Promise<void>((r) => setImmediate(() => r(inner.set(key, value, ttl)))),
      delete: (key) => Promise.resolve(inner.delete(key)),
      get size() {
        return inner.size;
      },
      close: () => inner.close(),
    };
    let runs = 0;
    const handle = idempotent((n: number) => (runs++, n * 2), {
      key: (n) => String(n),
      store: slowStore,
    });
    const results = await Promise.all([handle(1), handle(1), handle(2)]);
    expect(results).toEqual([2, 2, 4]);
    expect(await handle(1)).toBe(2);
    expect(runs).toBe(2);
  });

  it("validates ttlMs", () => {
    expect(() => idempotent(() => 1, { key: () => "k", ttlMs: 0 })).toThrow(/ttlMs/);
  });
});
