import { describe, expect, it } from "vitest";
import { SimulatedFileSystem, openLog } from "../../engine/index.js";
import { isSluiceError } from "../../errors/index.js";
import { VirtualClock } from "../../time/index.js";
import { DurableIdempotencyStore } from "./durable-idempotency-store.js";
import { idempotent } from "./idempotent.js";

const DIR = "/data/idempotency";

function setup() {
  const fs = new SimulatedFileSystem(7);
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const open = () =>
    DurableIdempotencyStore.open(DIR, { clock, log: { fs, maintenanceIntervalMs: 0 } });
  return { fs, clock, open };
}

describe("DurableIdempotencyStore", () => {
  it("keeps results across close and reopen", async () => {
    const { open } = setup();
    const store = await open();
    await store.set("order-1", { receipt: "r1" }, 60_000);
    await store.set("order-2", undefined, 60_000);
    await store.close();

    const reopened = await open();
    expect(reopened.get("order-1")?.value).toEqual({ receipt: "r1" });
    expect(reopened.get("order-2")).toMatchObject({ value: undefined });
    expect(reopened.get("order-3")).toBeUndefined();
    expect(reopened.size).toBe(2);
    await reopened.close();
  });

  it("skips expired entries on open and honours deletes", async () => {
    const { open, clock } = setup();
    const store = await open();
    await store.set("short", 1, 1000);
    await store.set("long", 2, 100_000);
    await store.set("gone", 3, 100_000);
    expect(await store.delete("gone")).toBe(true);
    await store.close();
    await clock.advance(1000);
    const reopened = await open();
    expect(reopened.get("short")).toBeUndefined();
    expect(reopened.get("long")?.value).toBe(2);
    expect(reopened.get("gone")).toBeUndefined();
    expect(reopened.size).toBe(1);
    await reopened.close();
  });

  it("keeps every acknowledged result through a crash", async () => {
    const { fs, clock } = setup();
    const log = await openLog(DIR, { fs, clock, fsync: "always", maintenanceIntervalMs: 0 });
    const store = DurableIdempotencyStore.fromLog(log, { clock });
    for (let i = 0; i < 50; i++) await store.set(`k${i}`, i, 60_000);
    log.kill();
    fs.crash();
    const reopened = await DurableIdempotencyStore.open(DIR, {
      clock,
      log: { fs, maintenanceIntervalMs: 0 },
    });
    for (let i = 0; i < 50; i++) expect(reopened.get(`k${i}`)?.value).toBe(i);
    await reopened.close();
  });

  it("makes idempotent() run a handler once per key across a restart", async () => {
    const { open } = setup();
    let charges = 0;
    const charge = (id: string) => ({ id, charged: ++charges });
    const first = await open();
    const handler = idempotent(charge, { key: (id) => id, store: first, ttlMs: 60_000 });
    expect(await handler("pay-1")).toEqual({ id: "pay-1", charged: 1 });
    await first.close();

    const second = await open();
    const afterRestart = idempotent(charge, { key: (id) => id, store: second, ttlMs: 60_000 });
    expect(await afterRestart("pay-1")).toEqual({ id: "pay-1", charged: 1 });
    expect(charges).toBe(1);
    await second.close();
  });

  it("rejects TTLs beyond maxTtlMs and values JSON cannot hold", async () => {
    const { fs, clock } = setup();
    const store = await DurableIdempotencyStore.open(DIR, { clock, maxTtlMs: 1000, log: { fs } });
    await expect(store.set("k", 1, 2000)).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_VALIDATION"),
    );
    await expect(store.set("k", 10n, 100)).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_VALIDATION"),
    );
    await store.close();
  });

  it("idempotent() refuses a ttlMs above the store's maxTtlMs when built, before any side effect", async () => {
    const { fs, clock } = setup();
    const store = await DurableIdempotencyStore.open(DIR, { clock, maxTtlMs: 1000, log: { fs } });
    let effects = 0;
    let caught: unknown;
    try {
      idempotent((_id: string) => ++effects, { key: (id: string) => id, store, ttlMs: 2000 });
    } catch (error) {
      caught = error;
    }
    expect(isSluiceError(caught, "SLUICE_VALIDATION") && caught.field).toBe("ttlMs");
    expect(effects).toBe(0);
    // Within the limit it works.
    const handle = idempotent((_id: string) => ++effects, {
      key: (id: string) => id,
      store,
      ttlMs: 1000,
    });
    expect([await handle("a"), await handle("a")]).toEqual([1, 1]);
    await store.close();
  });

  it("idempotent() runs the side effect once even when the durable store cannot hold its result", async () => {
    const { fs, clock, open } = setup();
    const store = await open();
    let effects = 0;
    const handle = idempotent((_id: string) => BigInt(++effects), {
      key: (id: string) => id,
      store,
    });
    // The first delivery gets the result; redeliveries are answered without running again,
    // with undefined (no JSON for a BigInt), also after a restart.
    expect(await handle("x")).toBe(1n);
    expect(await handle("x")).toBeUndefined();
    await store.close();
    const reopened = await DurableIdempotencyStore.open(DIR, { clock, log: { fs } });
    const again = idempotent((_id: string) => BigInt(++effects), {
      key: (id: string) => id,
      store: reopened,
    });
    expect(await again("x")).toBeUndefined();
    expect(effects).toBe(1);
    await reopened.close();
  });
});
