import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isSluiceError } from "../../errors/index.js";
import { VirtualClock } from "../../time/virtual-clock.js";
import { EmbeddedEventStore } from "../embedded-event-store.js";
import { EventStoreSnapshotStore, MemorySnapshotStore } from "../snapshots/snapshot-store.js";
import { evaluateAsOf } from "../temporal.js";
import { type Account, InsufficientFunds, bankAccount } from "../test-support/bank-account.js";
import { aggregateStream } from "./aggregate-stream.js";
import { CommandHandler } from "./command-handler.js";
import { given } from "./given-when-then.js";

const DAY = 86_400_000;
let dir: string;
let clock: VirtualClock;
let store: EmbeddedEventStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-agg-"));
  clock = new VirtualClock(Date.UTC(2026, 0, 1));
  store = await EmbeddedEventStore.open(dir, { clock, fsync: "never" });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("Given/When/Then", () => {
  it("checks decisions without a store", () => {
    given(bankAccount, [{ type: "Opened", data: { overdraftLimit: 0 } }])
      .when({ kind: "deposit", amount: 5 })
      .thenEmits([{ type: "Deposited", data: { amount: 5 } }]);
    given(bankAccount, [{ type: "Deposited", data: { amount: 5 } }])
      .when({ kind: "withdraw", amount: 10 })
      .thenFails((error) => expect(error).toBeInstanceOf(InsufficientFunds));
    expect(() =>
      given(bankAccount)
        .when({ kind: "deposit", amount: 5 })
        .thenEmits([{ type: "Deposited", data: { amount: 6 } }]),
    ).toThrow();
    expect(() => given(bankAccount).when({ kind: "withdraw", amount: 1 }).thenEmits([])).toThrow(
      /decide threw/,
    );
    expect(given(bankAccount, [{ type: "Deposited", data: { amount: 3 } }]).state().balance).toBe(
      3,
    );
  });
});

describe("CommandHandler", () => {
  it("retries on concurrency conflicts so concurrent commands all land", async () => {
    const handler = new CommandHandler(store, bankAccount, { retries: 50 });
    await handler.handle("acc-1", { kind: "open", overdraftLimit: 0 }, { user: "ada" });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        handler.handle("acc-1", { kind: "deposit", amount: i + 1 }),
      ),
    );
    const loaded = await aggregateStream(store, "acc-1", bankAccount);
    expect(loaded.state.balance).toBe(55);
    expect(loaded.version).toBe(10);
    const first = (await store.readStream("acc-1")).events[0]!;
    expect(first.metadata).toEqual({ user: "ada" });
  });

  it("gives up with SLUICE_CONCURRENCY when retries run out", async () => {
    const handler = new CommandHandler(store, bankAccount, { retries: 0 });
    await handler.handle("acc-1", { kind: "open", overdraftLimit: 0 });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => handler.handle("acc-1", { kind: "deposit", amount: 1 })),
    );
    const failed = results.filter((r) => r.status === "rejected");
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(isSluiceError(f.reason, "SLUICE_CONCURRENCY")).toBe(true);
  });

  it("does not append when the domain refuses", async () => {
    const handler = new CommandHandler(store, bankAccount);
    await handler.handle("acc-1", { kind: "open", overdraftLimit: 10 });
    await expect(handler.handle("acc-1", { kind: "withdraw", amount: 11 })).rejects.toBeInstanceOf(
      InsufficientFunds,
    );
    expect((await store.readStream("acc-1")).streamVersion).toBe(0);
  });
});

describe("snapshots", () => {
  for (const kind of ["memory", "event store"] as const) {
    it(`loads from the newest usable snapshot (${kind})`, async () => {
      const snapshots =
        kind === "memory" ? new MemorySnapshotStore() : new EventStoreSnapshotStore(store);
      const handler = new CommandHandler(store, bankAccount, {
        snapshots,
        snapshotPolicy: { everyEvents: 5 },
      });
      for (let i = 0; i < 13; i++) await handler.handle("acc", { kind: "deposit", amount: 1 });
      const loaded = await aggregateStream(store, "acc", bankAccount, { snapshots });
      expect(loaded.fromSnapshot).toBe(9);
      expect(loaded.eventsRead).toBe(3);
      expect(loaded.state).toEqual({ balance: 13, overdraftLimit: 0, transactions: 13 });
      const past = await aggregateStream(store, "acc", bankAccount, {
        snapshots,
        asOf: { version: 7 },
      });
      expect(past.fromSnapshot).toBe(4);
      expect(past.state.balance).toBe(8);
    });
  }

  it("ignores a snapshot of an outdated state version instead of misreading it", async () => {
    const snapshots = new EventStoreSnapshotStore(store);
    const handler = new CommandHandler(store, bankAccount, {
      snapshots,
      snapshotPolicy: { everyEvents: 2 },
    });
    for (let i = 0; i < 5; i++) await handler.handle("acc", { kind: "deposit", amount: 2 });
    // Version 2 of the state stores cents: a v1 snapshot read as v2 would be off by 100x.
    const inCents = {
      ...bankAccount,
      stateVersion: 2,
      evolve: (s: Account, e: Parameters<typeof bankAccount.evolve>[1]) => {
        const next = bankAccount.evolve(s, e);
        return { ...next, balance: s.balance + (next.balance - s.balance) * 100 };
      },
    };
    const loaded = await aggregateStream(store, "acc", inCents, { snapshots });
    expect(loaded.fromSnapshot).toBeUndefined();
    expect(loaded.state.balance).toBe(1000);
  });

  it("snapshots by time", async () => {
    const snapshots = new MemorySnapshotStore();
    const handler = new CommandHandler(store, bankAccount, {
      snapshots,
      snapshotPolicy: { everyMs: DAY },
    });
    await handler.handle("acc", { kind: "deposit", amount: 1 }); // first: snapshot
    await handler.handle("acc", { kind: "deposit", amount: 1 }); // same day: none
    await clock.advance(DAY);
    await handler.handle("acc", { kind: "deposit", amount: 1 }); // a day later: snapshot
    const loaded = await aggregateStream(store, "acc", bankAccount, { snapshots });
    expect(loaded.fromSnapshot).toBe(2);
    expect(loaded.eventsRead).toBe(0);
  });
});

describe("time travel and temporal rules", () => {
  it("loads state as of a time, a position or a version, and evaluates rules as of a date", async () => {
    const handler = new CommandHandler(store, bankAccount);
    await handler.handle("acc", { kind: "open", overdraftLimit: 100 });
    await handler.handle("acc", { kind: "deposit", amount: 50 });
    await clock.advanceTo(Date.UTC(2026, 1, 27));
    await handler.handle("acc", { kind: "withdraw", amount: 80 }); // overdrawn from 27 Feb
    await clock.advanceTo(Date.UTC(2026, 2, 3));
    const deposit = await handler.handle("acc", { kind: "deposit", amount: 40 }); // back on 3 March
    const overdrawn = (a: Account): boolean => a.balance < 0;
    expect(
      await evaluateAsOf(store, "acc", bankAccount, { time: Date.UTC(2026, 1, 1) }, overdrawn),
    ).toBe(false);
    expect(
      await evaluateAsOf(store, "acc", bankAccount, { time: Date.UTC(2026, 2, 1) }, overdrawn),
    ).toBe(true);
    expect(
      await evaluateAsOf(store, "acc", bankAccount, { time: Date.UTC(2026, 2, 4) }, overdrawn),
    ).toBe(false);
    const byPosition = await aggregateStream(store, "acc", bankAccount, {
      asOf: { position: deposit.events[0]!.position - 1 },
    });
    expect(byPosition.state.balance).toBe(-30);
    const byVersion = await aggregateStream(store, "acc", bankAccount, { asOf: { version: 1 } });
    expect(byVersion.state.balance).toBe(50);
    const before = await aggregateStream(store, "acc", bankAccount, {
      asOf: { time: Date.UTC(2025, 0, 1) },
    });
    expect(before.version).toBe(-1);
    await expect(
      aggregateStream(store, "acc", bankAccount, { asOf: { time: Number.NaN } }),
    ).rejects.toMatchObject({
      field: "asOf.time",
    });
  });
});
