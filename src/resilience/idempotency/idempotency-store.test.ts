import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../time/index.js";
import { MemoryIdempotencyStore } from "./idempotency-store.js";

describe("MemoryIdempotencyStore", () => {
  it("returns stored results until they expire", async () => {
    const clock = new VirtualClock(0);
    const store = new MemoryIdempotencyStore({ clock });
    store.set("a", { total: 3 }, 1000);
    expect(store.get("a")).toEqual({ value: { total: 3 }, expiresAtMs: 1000 });
    expect(store.get("b")).toBeUndefined();
    await clock.advance(999);
    expect(store.get("a")?.value).toEqual({ total: 3 });
    await clock.advance(1);
    expect(store.get("a")).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it("sweeps expired keys as new ones arrive, so memory stays bounded by the TTL", async () => {
    const clock = new VirtualClock(0);
    const store = new MemoryIdempotencyStore({ clock });
    for (let i = 0; i < 1000; i++) {
      store.set(`k${i}`, i, 100);
      await clock.advance(1);
    }
    // only about the last 100 ms of keys remain (each set sweeps up to two)
    expect(store.size).toBeLessThanOrEqual(101);
    expect(store.get("k999")?.value).toBe(999);
  });

  it("sweep() removes expired keys with mixed TTLs; delete and maxKeys work", async () => {
    const clock = new VirtualClock(0);
    const store = new MemoryIdempotencyStore({ clock, maxKeys: 3 });
    store.set("long", 1, 10_000);
    store.set("short1", 2, 10);
    store.set("short2", 3, 10);
    await clock.advance(10);
    expect(store.sweep()).toBe(2);
    expect(store.size).toBe(1);
    store.set("x", 4, 10_000);
    store.set("y", 5, 10_000);
    store.set("z", 6, 10_000); // evicts the oldest ("long")
    expect(store.get("long")).toBeUndefined();
    expect(store.delete("x")).toBe(true);
    expect(store.delete("x")).toBe(false);
    expect(() => store.set("bad", 1, 0)).toThrow(/ttlMs/);
    await store.close();
    expect(store.size).toBe(0);
  });
});
