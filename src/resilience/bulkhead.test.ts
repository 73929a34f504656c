import { describe, expect, it } from "vitest";
import { MetricsRegistry } from "../observability/index.js";
import { VirtualClock } from "../time/index.js";
import { bulkhead } from "./bulkhead.js";
import type { BulkheadRejectedEvent } from "./bulkhead.js";
import { codeOf, track } from "./test-support/index.js";

describe("bulkhead", () => {
  it("runs up to maxConcurrent, queues up to maxQueued in order, rejects the rest", async () => {
    const clock = new VirtualClock(0);
    const policy = bulkhead(2, { maxQueued: 2, clock });
    const order: string[] = [];
    const job = (name: string, ms: number) =>
      track(
        policy.execute(async () => {
          order.push(`start ${name}`);
          await clock.sleep(ms);
          return name;
        }),
      );
    const a = job("a", 100);
    const b = job("b", 50);
    const c = job("c", 10);
    const d = job("d", 10);
    const e = job("e", 10);
    await clock.advance(0);
    expect(codeOf(e)).toBe("SLUICE_BULKHEAD_REJECTED");
    expect([policy.active, policy.queued]).toEqual([2, 2]);
    expect(order).toEqual(["start a", "start b"]);
    await clock.advance(50); // b done: c takes its slot
    expect(order).toEqual(["start a", "start b", "start c"]);
    await clock.advance(10); // c done: d
    await clock.advance(40); // a done
    await clock.advance(10);
    expect([a, b, c, d].map((r) => r.current.state)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    expect(order).toEqual(["start a", "start b", "start c", "start d"]);
    expect([policy.active, policy.queued]).toEqual([0, 0]);
  });

  it("frees the slot when the function throws", async () => {
    const policy = bulkhead(1);
    await expect(policy.execute(() => Promise.reject(new Error("x")))).rejects.toThrow("x");
    await expect(
      policy.execute(() => {
        throw new Error("sync");
      }),
    ).rejects.toThrow("sync");
    await expect(policy.execute(() => "ok")).resolves.toBe("ok");
    expect(policy.active).toBe(0);
  });

  it("lets a queued call leave on abort or after queueTimeoutMs", async () => {
    const clock = new VirtualClock(0);
    const metrics = new MetricsRegistry();
    const policy = bulkhead(1, { maxQueued: 3, queueTimeoutMs: 100, clock, metrics });
    const rejected: BulkheadRejectedEvent[] = [];
    policy.onRejected((e) => rejected.push(e));
    const running = track(policy.execute(() => clock.sleep(500).then(() => "long")));
    const controller = new AbortController();
    const aborted = track(policy.execute(() => "never", controller.signal));
    const timedOut = track(policy.execute(() => "never"));
    await clock.advance(10);
    controller.abort();
    await clock.advance(0);
    expect(codeOf(aborted)).toBe("SLUICE_ABORTED");
    expect(policy.queued).toBe(1);
    await clock.advance(90);
    expect(codeOf(timedOut)).toBe("SLUICE_BULKHEAD_REJECTED");
    expect(rejected.map((r) => r.cause)).toEqual(["queue-timeout"]);
    await clock.advance(400);
    expect(running.current.state).toBe("fulfilled");
    // the departed waiters did not take the freed slot
    await expect(policy.execute(() => "next")).resolves.toBe("next");
    const gauge = metrics.collect().find((s) => s.name === "sluice_bulkhead_active");
    expect(gauge).toMatchObject({ value: 0 });
  });

  it("validates its options", () => {
    expect(() => bulkhead(0)).toThrow(/maxConcurrent/);
    expect(() => bulkhead(1, { maxQueued: -1 })).toThrow(/maxQueued/);
    expect(() => bulkhead(1, { queueTimeoutMs: 0 })).toThrow(/queueTimeoutMs/);
  });
});
