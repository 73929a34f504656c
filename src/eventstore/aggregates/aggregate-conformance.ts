/**
 * The part of the event store's conformance suite that runs aggregates over a backend: command
 * handling with retries on conflicts, snapshots kept in the store, time travel (as of a time, a
 * position or a version, with the stream's metadata and deletes as they stood at that point),
 * temporal rules, audit trails with the state each event left, and copy-and-replace migration. Called by `describeEventStoreConformance`, so every backend runs it.
 */
import { describe, expect, it } from "vitest";
import { isSluiceError } from "../../errors/index.js";
import type { VirtualClock } from "../../time/virtual-clock.js";
import type { EventStore, RecordedEvent } from "../event-store.js";
import { auditTrail, formatAudit } from "../audit.js";
import { migrateStream, migrationCheckpoint } from "../migration/migrate-stream.js";
import { EventStoreSnapshotStore } from "../snapshots/snapshot-store.js";
import { evaluateAsOf } from "../temporal.js";
import type { Aggregate } from "./aggregate.js";
import { aggregateStream } from "./aggregate-stream.js";
import { CommandHandler } from "./command-handler.js";

export interface AggregateHarness {
  /** A fresh, empty store on the backend, and the clock it runs on. */
  open(): Promise<{ store: EventStore; clock: VirtualClock }>;
}

interface Ledger {
  readonly balance: number;
  readonly entries: number;
}

type LedgerCommand = { readonly kind: "deposit" | "withdraw"; readonly amount: number };

const ledger: Aggregate<Ledger, LedgerCommand> = {
  initialState: () => ({ balance: 0, entries: 0 }),
  evolve: (state, event: RecordedEvent) => {
    const amount = (event.data as { amount: number }).amount;
    return {
      balance: state.balance + (event.type === "Deposited" ? amount : -amount),
      entries: state.entries + 1,
    };
  },
  decide: (command) => [
    {
      type: command.kind === "deposit" ? "Deposited" : "Withdrawn",
      data: { amount: command.amount },
    },
  ],
};

const deposit = (amount: number) => ({ type: "Deposited", data: { amount } });

export function describeAggregateConformance(harness: AggregateHarness): void {
  describe("aggregates and time travel", () => {
    it("retries a command on a concurrency conflict and keeps every effect", async () => {
      const { store } = await harness.open();
      const handler = new CommandHandler(store, ledger, { retries: 10 });
      await Promise.all(
        Array.from({ length: 8 }, () => handler.handle("acc", { kind: "deposit", amount: 5 })),
      );
      const now = await aggregateStream(store, "acc", ledger);
      expect(now.state).toEqual({ balance: 40, entries: 8 });
      expect(now.version).toBe(7);
    });

    it("loads from a snapshot kept in the store, now and as of a past time", async () => {
      const { store, clock } = await harness.open();
      const snapshots = new EventStoreSnapshotStore(store);
      const handler = new CommandHandler(store, ledger, {
        snapshots,
        snapshotPolicy: { everyEvents: 5 },
      });
      for (let i = 0; i < 12; i++) {
        await handler.handle("acc", { kind: "deposit", amount: 1 });
        await clock.advance(1000);
      }
      const now = await aggregateStream(store, "acc", ledger, { snapshots });
      expect(now.state.balance).toBe(12);
      expect(now.fromSnapshot).toBeGreaterThanOrEqual(4);
      expect(now.eventsRead).toBeLessThan(12);
      // The 8th deposit was appended at 7 s; as of 7.5 s eight had been made.
      const asOf = await aggregateStream(store, "acc", ledger, {
        snapshots,
        asOf: { time: clock.now() - 12_000 + 7_500 },
      });
      expect(asOf.state).toEqual({ balance: 8, entries: 8 });
      expect(asOf.fromSnapshot).toBeDefined();
      expect(asOf.fromSnapshot).toBeLessThanOrEqual(7);
    });

    it("as of a past time folds what reads returned then, not what metadata hides now", async () => {
      const { store, clock } = await harness.open();
      await store.appendToStream("acc", [deposit(10), deposit(5)]);
      const before = clock.now();
      await clock.advance(86_400_000);
      await store.setStreamMetadata("acc", { maxCount: 1 });
      await store.appendToStream("acc", [deposit(1)]);
      const then = await aggregateStream(store, "acc", ledger, { asOf: { time: before } });
      expect(then.state).toEqual({ balance: 15, entries: 2 });
      // Now (and as of now) maxCount 1 is in force: only the newest event is read.
      const now = await aggregateStream(store, "acc", ledger);
      expect(now.state).toEqual({ balance: 1, entries: 1 });
      const asOfNow = await aggregateStream(store, "acc", ledger, { asOf: { time: clock.now() } });
      expect(asOfNow.state).toEqual(now.state);
      // By position: before the change both old events count.
      const [, second] = (await store.readStream("acc", { history: true })).events;
      const byPosition = await aggregateStream(store, "acc", ledger, {
        asOf: { position: second!.position },
      });
      expect(byPosition.state.balance).toBe(15);
      // By version: at version 2 the change had been made.
      const byVersion = await aggregateStream(store, "acc", ledger, { asOf: { version: 2 } });
      expect(byVersion.state).toEqual({ balance: 1, entries: 1 });
    });

    it("as of a past time counts truncation and expiry as they stood then", async () => {
      const { store, clock } = await harness.open();
      await store.appendToStream("acc", [deposit(1), deposit(2), deposit(4)]);
      await store.setStreamMetadata("acc", { truncateBefore: 1, maxAgeMs: 60_000 });
      const truncated = clock.now();
      await clock.advance(30_000);
      await store.appendToStream("acc", [deposit(8)]);
      const halfway = clock.now();
      await clock.advance(45_000);
      await store.setStreamMetadata("acc", {});
      expect(
        (await aggregateStream(store, "acc", ledger, { asOf: { time: truncated } })).state,
      ).toEqual({ balance: 6, entries: 2 });
      expect(
        (await aggregateStream(store, "acc", ledger, { asOf: { time: halfway } })).state,
      ).toEqual({ balance: 14, entries: 3 });
      // 75 s after the first appends, they had expired (maxAge 60 s); the fourth had not.
      expect(
        (await aggregateStream(store, "acc", ledger, { asOf: { time: clock.now() - 1 } })).state,
      ).toEqual({ balance: 8, entries: 1 });
      // The metadata is cleared now: every event is read again.
      expect((await aggregateStream(store, "acc", ledger)).state.balance).toBe(15);
    });

    it("as of a past time sees a soft-deleted stream as it was before the delete", async () => {
      const { store, clock } = await harness.open();
      await store.appendToStream("acc", [deposit(10), deposit(5)]);
      const beforeDelete = clock.now();
      await clock.advance(1000);
      await store.deleteStream("acc");
      const deleted = clock.now();
      await clock.advance(1000);
      await store.appendToStream("acc", [deposit(3)]);
      const at = (time: number) => aggregateStream(store, "acc", ledger, { asOf: { time } });
      expect((await at(beforeDelete)).state).toEqual({ balance: 15, entries: 2 });
      const gone = await at(deleted);
      expect(gone.state).toEqual({ balance: 0, entries: 0 });
      expect(gone.version).toBe(-1);
      const reopened = await at(clock.now());
      expect(reopened.state).toEqual({ balance: 3, entries: 1 });
      expect(reopened.version).toBe(2);
      expect((await aggregateStream(store, "acc", ledger)).state).toEqual(reopened.state);
      expect(
        (await aggregateStream(store, "acc", ledger, { asOf: { version: 1 } })).state.balance,
      ).toBe(15);
    });

    it("as of a time before a tombstone gives the state; after it, StreamDeletedError", async () => {
      const { store, clock } = await harness.open();
      await store.appendToStream("acc", [deposit(7)]);
      const before = clock.now();
      await clock.advance(1000);
      await store.deleteStream("acc", { hard: true });
      const rule = (state: Ledger): boolean => state.balance > 0;
      expect(await evaluateAsOf(store, "acc", ledger, { time: before }, rule)).toBe(true);
      const error = await aggregateStream(store, "acc", ledger, {
        asOf: { time: clock.now() },
      }).catch((e: unknown) => e);
      expect(isSluiceError(error, "SLUICE_STREAM_DELETED")).toBe(true);
    });

    it("audits who did what, when, and the state before and after each event", async () => {
      const { store } = await harness.open();
      await store.appendToStream("acc", [{ ...deposit(10), metadata: { user: "ada" } }]);
      await store.appendToStream("other", [deposit(99)]);
      await store.appendToStream("acc", [
        { type: "Withdrawn", data: { amount: 4 }, metadata: { actor: "billing" } },
      ]);
      const entries = await auditTrail(store, { stream: "acc", aggregate: ledger });
      expect(entries.map((e) => [e.who, e.type, e.before, e.after])).toEqual([
        ["ada", "Deposited", { balance: 0, entries: 0 }, { balance: 10, entries: 1 }],
        ["billing", "Withdrawn", { balance: 10, entries: 1 }, { balance: 6, entries: 2 }],
      ]);
      expect(formatAudit(entries, "csv").split("\n")).toHaveLength(4);
    });

    it("copies a stream into a new one with a checkpoint, resumes after a stop, and retires the source", async () => {
      const { store } = await harness.open();
      for (let i = 0; i < 12; i++) await store.appendToStream("acc", [deposit(i + 1)]);
      const stop = new AbortController();
      const first = await migrateStream(store, {
        from: "acc",
        to: "acc.v2",
        pageSize: 5,
        transform: (e) => ({
          type: e.type,
          data: { cents: (e.data as { amount: number }).amount * 100 },
        }),
        onProgress: (p) => {
          if (p.sourceVersion >= 4) stop.abort();
        },
        signal: stop.signal,
      }).catch((e: unknown) => e);
      expect(first).toBeDefined();
      expect(await migrationCheckpoint(store, "acc.v2")).toMatchObject({ done: false });
      const done = await migrateStream(store, {
        from: "acc",
        to: "acc.v2",
        pageSize: 5,
        transform: (e) => ({
          type: e.type,
          data: { cents: (e.data as { amount: number }).amount * 100 },
        }),
        deleteSource: true,
      });
      expect(done).toMatchObject({ sourceVersion: 11, targetVersion: 11, done: true });
      const copy = (await store.readStream("acc.v2")).events;
      expect(copy.map((e) => (e.data as { cents: number }).cents)).toEqual(
        Array.from({ length: 12 }, (_, i) => (i + 1) * 100),
      );
      const gone = await store.readStream("acc").catch((e: unknown) => e);
      expect(isSluiceError(gone, "SLUICE_NOT_FOUND")).toBe(true);
    });

    it("history reads return hidden events and the changes; refused backward", async () => {
      const { store, clock } = await harness.open();
      await store.appendToStream("acc", [deposit(1), deposit(2)]);
      await clock.advance(500);
      await store.setStreamMetadata("acc", { maxCount: 1 });
      await store.deleteStream("acc");
      const history = await store.readStream("acc", { history: true });
      expect(history.events.map((e) => e.version)).toEqual([0, 1]);
      expect(history.changes).toHaveLength(2);
      const [metadata, deleted] = history.changes!;
      expect(metadata).toMatchObject({ metadata: { maxCount: 1 }, time: clock.now() });
      expect(metadata!.position).toBeGreaterThanOrEqual(history.events[1]!.position);
      expect(deleted).toMatchObject({ deletedBefore: 2, hard: false });
      const error = await store
        .readStream("acc", { history: true, direction: "backward" })
        .catch((e: unknown) => e);
      expect(isSluiceError(error, "SLUICE_VALIDATION")).toBe(true);
      expect((error as { field?: string }).field).toBe("direction");
      const flag = await store
        .readStream("acc", { history: "yes" as unknown as boolean })
        .catch((e: unknown) => e);
      expect((flag as { field?: string }).field).toBe("history");
    });
  });
}
