/**
 * The persistent subscription part of the event store conformance suite: groups on a stream
 * and on `$all`, competing consumers, ack / nack (retry, park, skip), retry counts, parked
 * events and their replay, timeouts, and checkpoints that survive a reopen.
 */
import { describe, expect, it } from "vitest";
import { type ErrorCode, isSluiceError } from "../../errors/index.js";
import type { VirtualClock } from "../../time/virtual-clock.js";
import type { EventData, EventStore } from "../event-store.js";
import type {
  PersistentDelivery,
  PersistentSubscriptionGroups,
} from "./persistent-subscription.js";

/** What the persistent tests need from the surrounding suite. */
export interface PersistentHarness {
  /** False skips the tests (the backend does not offer persistent subscriptions). */
  readonly supported: boolean;
  open(): Promise<{ store: EventStore; subscriptions: PersistentSubscriptionGroups }>;
  reopen(): Promise<{ store: EventStore; subscriptions: PersistentSubscriptionGroups }>;
  clock(): VirtualClock;
}

const ev = (type: string, data: EventData["data"] = {}): EventData => ({ type, data });

async function expectCode(promise: Promise<unknown>, code: ErrorCode, field?: string) {
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  expect(isSluiceError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  if (field !== undefined) expect((error as { field?: string }).field).toBe(field);
}

/** A consumer driven one delivery at a time. */
function consumer(
  subscriptions: PersistentSubscriptionGroups,
  group: string,
  maxInFlight = 10,
): { next(): Promise<PersistentDelivery>; stop(): void } {
  const controller = new AbortController();
  const iterable = subscriptions.connect(group, { signal: controller.signal, maxInFlight });
  const iterator = iterable[Symbol.asyncIterator]();
  return {
    async next() {
      const result = await iterator.next();
      if (result.done === true) throw new Error("the consumer ended");
      return result.value;
    },
    stop() {
      controller.abort();
      void iterator.return?.();
    },
  };
}

const payload = (d: PersistentDelivery): number => (d.event.data as { n: number }).n;

async function appendNumbered(store: EventStore, stream: string, from: number, count: number) {
  for (let n = from; n < from + count; n++) await store.appendToStream(stream, [ev("N", { n })]);
}

export function describePersistentSubscriptions(harness: PersistentHarness): void {
  const title = harness.supported
    ? "persistent subscriptions"
    : "persistent subscriptions (skipped: this backend does not offer them)";
  describe.skipIf(!harness.supported)(title, () => {
    it("creates, lists and deletes groups; refuses duplicates, unknown groups and bad settings", async () => {
      const { subscriptions } = await harness.open();
      await subscriptions.create({ group: "g1" });
      await subscriptions.create({ group: "g2", stream: "orders-1", maxRetryCount: 3 });
      await expectCode(subscriptions.create({ group: "g1" }), "SLUICE_ALREADY_EXISTS", "group");
      const listed = await subscriptions.list();
      expect(listed.map((g) => g.settings.group).sort()).toEqual(["g1", "g2"]);
      expect(listed.find((g) => g.settings.group === "g2")?.settings).toMatchObject({
        stream: "orders-1",
        maxRetryCount: 3,
      });
      await subscriptions.delete("g1");
      expect((await subscriptions.list()).map((g) => g.settings.group)).toEqual(["g2"]);
      await expectCode(subscriptions.delete("g1"), "SLUICE_NOT_FOUND", "group");
      await expectCode(subscriptions.listParked("nope"), "SLUICE_NOT_FOUND", "group");
      await expectCode(consumer(subscriptions, "nope").next(), "SLUICE_NOT_FOUND", "group");
      await expectCode(subscriptions.create({ group: "" }), "SLUICE_VALIDATION", "group");
      await expectCode(
        subscriptions.create({ group: "x", maxRetryCount: -1 }),
        "SLUICE_VALIDATION",
        "maxRetryCount",
      );
      await expectCode(
        subscriptions.create({ group: "x", startAfter: 1.5 }),
        "SLUICE_VALIDATION",
        "startAfter",
      );
      await expectCode(
        subscriptions.create({ group: "x", filter: { types: "A" as never } }),
        "SLUICE_VALIDATION",
        "filter.types",
      );
      expect(() => subscriptions.connect("g2", { maxInFlight: 0 })).toThrow(/maxInFlight/);
    });

    it("shares the events of a group among competing consumers, each event to one of them", async () => {
      const { store, subscriptions } = await harness.open();
      await subscriptions.create({ group: "workers" });
      await appendNumbered(store, "jobs", 0, 30);
      const got: [string, number][] = [];
      // Once all 30 are settled, a consumer still waiting for a 31st stops instead of waiting.
      let allSettled!: () => void;
      const settled = new Promise<undefined>((resolve) => (allSettled = () => resolve(undefined)));
      const work = async (name: string) => {
        const c = consumer(subscriptions, "workers", 1);
        try {
          for (;;) {
            const d = await Promise.race([c.next(), settled]);
            if (d === undefined) return;
            got.push([name, payload(d)]);
            // Hold the event for a moment, so the other consumer is the one waiting.
            await new Promise((resolve) => setImmediate(resolve));
            await d.ack();
            if (got.length >= 30) allSettled();
          }
        } finally {
          c.stop();
        }
      };
      await Promise.all([work("a"), work("b")]);
      const numbers = got.map(([, n]) => n).sort((x, y) => x - y);
      expect(numbers.slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(new Set(numbers).size).toBe(numbers.length);
      expect(got.some(([name]) => name === "a")).toBe(true);
      expect(got.some(([name]) => name === "b")).toBe(true);
    });

    it("retries a nacked event with a growing retry count, then parks it; park and skip settle at once", async () => {
      const { store, subscriptions } = await harness.open();
      await subscriptions.create({ group: "g", stream: "s", maxRetryCount: 2 });
      await appendNumbered(store, "s", 0, 3);
      const c = consumer(subscriptions, "g", 1);
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const d = await c.next();
        expect(payload(d)).toBe(0);
        counts.push(d.retryCount);
        await d.nack("retry", "boom");
      }
      expect(counts).toEqual([0, 1, 2]);
      const one = await c.next();
      expect(payload(one)).toBe(1);
      await one.nack("park", "bad data");
      const two = await c.next();
      expect(payload(two)).toBe(2);
      await two.nack("skip");
      await expectCode(two.nack("drop" as never), "SLUICE_VALIDATION", "action");
      const parked = await subscriptions.listParked("g");
      expect(parked.map((p) => (p.event.data as { n: number }).n)).toEqual([0, 1]);
      expect(parked[0]!.reason).toMatch(/boom/);
      expect(parked[0]!.retryCount).toBe(3);
      expect(parked[1]!.reason).toBe("bad data");
      const [info] = await subscriptions.list();
      expect(info?.checkpoint).toBe(2);
      expect(info?.parked).toBe(2);
      c.stop();
    });

    it("replays parked events; settled replays leave the parked list", async () => {
      const { store, subscriptions } = await harness.open();
      await subscriptions.create({ group: "g" });
      await appendNumbered(store, "s", 0, 2);
      const c = consumer(subscriptions, "g", 1);
      await (await c.next()).nack("park", "later");
      await (await c.next()).ack();
      expect(await subscriptions.replayParked("g")).toBe(1);
      const again = await c.next();
      expect(payload(again)).toBe(0);
      expect(again.replayed).toBe(true);
      expect((await subscriptions.listParked("g"))[0]?.replaying).toBe(true);
      await again.ack();
      expect(await subscriptions.listParked("g")).toEqual([]);
      await store.appendToStream("s", [ev("N", { n: 2 })]);
      const live = await c.next();
      expect(payload(live)).toBe(2);
      expect(live.replayed).toBe(false);
      c.stop();
    });

    it("retries an event not acknowledged within messageTimeoutMs, and one a consumer left with", async () => {
      const { store, subscriptions } = await harness.open();
      await subscriptions.create({ group: "g", messageTimeoutMs: 1000 });
      await appendNumbered(store, "s", 0, 1);
      const a = consumer(subscriptions, "g");
      const first = await a.next();
      expect(first.retryCount).toBe(0);
      await harness.clock().advance(1000);
      const second = await a.next();
      expect(payload(second)).toBe(0);
      expect(second.retryCount).toBe(1);
      await first.ack(); // stale: the event was handed out again, this ack changes nothing
      a.stop();
      const b = consumer(subscriptions, "g");
      const third = await b.next();
      expect(payload(third)).toBe(0);
      expect(third.retryCount).toBe(2);
      await third.ack();
      b.stop();
    });

    it("starts after a position or at the end", async () => {
      const { store, subscriptions } = await harness.open();
      await appendNumbered(store, "s", 0, 3);
      await subscriptions.create({ group: "from-end", startAfter: "end" });
      await subscriptions.create({ group: "stream-end", stream: "s", startAfter: "end" });
      await subscriptions.create({ group: "after-1", stream: "s", startAfter: 1 });
      await appendNumbered(store, "s", 3, 1);
      for (const group of ["from-end", "stream-end"]) {
        const c = consumer(subscriptions, group);
        expect(payload(await c.next())).toBe(3);
        c.stop();
      }
      const c = consumer(subscriptions, "after-1");
      expect(payload(await c.next())).toBe(2);
      c.stop();
    });

    it("keeps checkpoints, out-of-order acks, retry counts and parked events across a reopen", async () => {
      const { store, subscriptions } = await harness.open();
      await subscriptions.create({ group: "g", maxRetryCount: 5 });
      await appendNumbered(store, "s", 0, 6);
      const c = consumer(subscriptions, "g", 6);
      const deliveries = [];
      for (let i = 0; i < 6; i++) deliveries.push(await c.next());
      const [d0, d1, d2, d3, d4] = deliveries;
      await d0!.ack();
      await d2!.ack(); // out of order: 1 is still open
      await d3!.nack("park", "poison");
      await d4!.nack("retry"); // redelivered at once
      const retried = await c.next();
      expect(payload(retried)).toBe(4);
      expect(d1 === undefined).toBe(false);
      c.stop();
      const reopened = await harness.reopen();
      const c2 = consumer(reopened.subscriptions, "g", 10);
      const seen: [number, number][] = [];
      for (let i = 0; i < 3; i++) {
        const d = await c2.next();
        seen.push([payload(d), d.retryCount]);
        await d.ack();
      }
      // 1 (never acked), 4 (retried once before, and not acked), 5 (never acked): not 0, 2, 3.
      expect(seen.map(([n]) => n).sort()).toEqual([1, 4, 5]);
      expect(seen.find(([n]) => n === 4)?.[1]).toBeGreaterThanOrEqual(1);
      expect(
        (await reopened.subscriptions.listParked("g")).map(
          (p) => (p.event.data as { n: number }).n,
        ),
      ).toEqual([3]);
      await reopened.store.appendToStream("s", [ev("N", { n: 6 })]);
      expect(payload(await c2.next())).toBe(6);
      c2.stop();
    });
  });
}
