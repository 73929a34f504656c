import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { MetricsRegistry } from "../observability/index.js";
import { VirtualClock } from "../time/index.js";
import { timeout } from "./timeout.js";
import { codeOf, track } from "./test-support/index.js";

/** Never settles unless its signal aborts. */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
  });
}

describe("timeout (cooperative)", () => {
  it("aborts the function's signal at the deadline and reports SLUICE_TIMEOUT", async () => {
    const clock = new VirtualClock(0);
    const policy = timeout(100, { clock });
    let seen: AbortSignal | undefined;
    const result = track(
      policy.execute(async ({ signal }) => {
        seen = signal;
        await clock.sleep(1000, signal);
        return "late";
      }),
    );
    await clock.advance(99);
    expect(result.current.state).toBe("pending");
    await clock.advance(1);
    expect(codeOf(result)).toBe("SLUICE_TIMEOUT");
    expect(seen?.aborted).toBe(true);
    expect(isSluiceError(seen?.reason, "SLUICE_TIMEOUT")).toBe(true);
  });

  it("keeps a value the function still returns after its signal aborted", async () => {
    const clock = new VirtualClock(0);
    const policy = timeout(100, { clock });
    const timeouts: number[] = [];
    policy.onTimeout((e) => timeouts.push(e.timeoutMs));
    const result = track(
      policy.execute(async ({ signal }) => {
        await clock.sleep(300);
        return signal.aborted ? "finished anyway" : "in time";
      }),
    );
    await clock.advance(300);
    expect(result.current).toEqual({ state: "fulfilled", value: "finished anyway" });
    expect(timeouts).toEqual([100]);
  });

  it("measures the deadline from the start even if the signal is read late", async () => {
    const clock = new VirtualClock(0);
    const policy = timeout(100, { clock });
    const result = track(
      policy.execute(async (ctx) => {
        await clock.sleep(60); // does not look at the signal yet
        return hang(ctx.signal);
      }),
    );
    await clock.advance(99);
    expect(result.current.state).toBe("pending");
    await clock.advance(1);
    expect(codeOf(result)).toBe("SLUICE_TIMEOUT");
  });

  it("has nothing to abort for a function that never reads its signal", async () => {
    const clock = new VirtualClock(0);
    const policy = timeout(10, { clock });
    const result = track(policy.execute(() => clock.sleep(50).then(() => "done")));
    expect(clock.pendingTimers).toBe(1); // only the function's own sleep
    await clock.advance(50);
    expect(result.current).toEqual({ state: "fulfilled", value: "done" });
  });

  it("records the timeout of a call that ignores its signal and finishes late (event, metric)", async () => {
    const clock = new VirtualClock(0);
    const metrics = new MetricsRegistry();
    const policy = timeout(10, { clock, metrics, name: "slow" });
    const events: unknown[] = [];
    policy.onTimeout((e) => events.push(e));
    const late = track(policy.execute(() => clock.sleep(50).then(() => "late")));
    const failing = track(
      policy.execute(() => clock.sleep(50).then(() => Promise.reject(new Error("late failure")))),
    );
    const onTime = track(policy.execute(() => clock.sleep(5).then(() => "on time")));
    await clock.advance(50);
    // Cooperative: a value still returned is kept; an error becomes SLUICE_TIMEOUT.
    expect(late.current).toEqual({ state: "fulfilled", value: "late" });
    expect(codeOf(failing)).toBe("SLUICE_TIMEOUT");
    expect(onTime.current).toEqual({ state: "fulfilled", value: "on time" });
    expect(events).toEqual([
      { timeoutMs: 10, strategy: "cooperative" },
      { timeoutMs: 10, strategy: "cooperative" },
    ]);
    const counter = metrics.collect().find((s) => s.name === "sluice_timeout_timeouts_total");
    expect(counter).toMatchObject({ value: 2, labels: { policy: "slow" } });
  });

  it("passes the caller's abort through without calling it a timeout", async () => {
    const clock = new VirtualClock(0);
    const policy = timeout(1000, { clock });
    const controller = new AbortController();
    const result = track(policy.execute(({ signal }) => hang(signal), controller.signal));
    await clock.advance(10);
    controller.abort(new Error("user cancelled"));
    await clock.advance(0);
    expect(result.current.state).toBe("rejected");
    expect((result.current as { error: Error }).error.message).toBe("user cancelled");
  });

  it("leaves no listener on a long-lived caller signal once calls settle", async () => {
    const clock = new VirtualClock(0);
    const cooperative = timeout(100, { clock });
    const aggressive = timeout(100, { clock, strategy: "aggressive" });
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) {
      await cooperative.execute(({ signal }) => signal.aborted, controller.signal);
      await aggressive.execute(({ signal }) => signal.aborted, controller.signal);
    }
    const late = track(cooperative.execute(({ signal }) => hang(signal), controller.signal));
    await clock.advance(100);
    expect(codeOf(late)).toBe("SLUICE_TIMEOUT");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("serves many calls with one timer and times each out at its own deadline", async () => {
    const clock = new VirtualClock(0);
    const metrics = new MetricsRegistry();
    const policy = timeout(100, { clock, metrics, name: "db" });
    const early = Array.from({ length: 50 }, () =>
      track(policy.execute(({ signal }) => hang(signal))),
    );
    await clock.advance(50);
    const late = Array.from({ length: 50 }, () =>
      track(policy.execute(({ signal }) => hang(signal))),
    );
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(50);
    expect(early.every((r) => codeOf(r) === "SLUICE_TIMEOUT")).toBe(true);
    expect(late.every((r) => r.current.state === "pending")).toBe(true);
    await clock.advance(50);
    expect(late.every((r) => codeOf(r) === "SLUICE_TIMEOUT")).toBe(true);
    const counter = metrics.collect().find((s) => s.name === "sluice_timeout_timeouts_total");
    expect(counter).toMatchObject({ value: 100, labels: { policy: "db" } });
  });
});

describe("timeout (aggressive)", () => {
  it("rejects at the deadline even if the function ignores its signal", async () => {
    const clock = new VirtualClock(0);
    const policy = timeout(100, { clock, strategy: "aggressive" });
    const result = track(policy.execute(() => new Promise<never>(() => {})));
    await clock.advance(100);
    expect(codeOf(result)).toBe("SLUICE_TIMEOUT");
  });

  it("aborts the function's signal, created even after the deadline", async () => {
    const clock = new VirtualClock(0);
    const policy = timeout(10, "aggressive");
    const late = timeout(10, { clock, strategy: "aggressive" });
    let signal: AbortSignal | undefined;
    const result = track(
      late.execute(async (ctx) => {
        await clock.sleep(50);
        signal = ctx.signal;
      }),
    );
    await clock.advance(50);
    expect(codeOf(result)).toBe("SLUICE_TIMEOUT");
    expect(signal?.aborted).toBe(true);
    expect(policy.strategy).toBe("aggressive");
  });

  it("returns fast results and never fires for them", async () => {
    const clock = new VirtualClock(0);
    const policy = timeout(100, { clock, strategy: "aggressive" });
    let fired = 0;
    policy.onTimeout(() => fired++);
    await expect(policy.execute(() => 7)).resolves.toBe(7);
    await expect(policy.execute(() => Promise.reject(new Error("no")))).rejects.toThrow("no");
    await expect(
      policy.execute(() => {
        throw new Error("sync");
      }),
    ).rejects.toThrow("sync");
    await clock.advance(1000);
    expect(fired).toBe(0);
  });

  it("rejects with SLUICE_ABORTED as soon as the caller aborts", async () => {
    const clock = new VirtualClock(0);
    const policy = timeout(1000, { clock, strategy: "aggressive" });
    const controller = new AbortController();
    const result = track(policy.execute(() => new Promise<never>(() => {}), controller.signal));
    await clock.advance(5);
    controller.abort();
    await clock.advance(0);
    expect(codeOf(result)).toBe("SLUICE_ABORTED");
    await expect(policy.execute(() => 1, controller.signal)).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_ABORTED"),
    );
  });

  it("validates its options", () => {
    expect(() => timeout(-5)).toThrow(/timeoutMs/);
    expect(() => timeout(5, { strategy: "pessimistic" as "aggressive" })).toThrow(/strategy/);
  });
});
