import { describe, expect, it } from "vitest";
import { SluiceError, isSluiceError } from "../errors/index.js";
import { MetricsRegistry } from "../observability/index.js";
import { VirtualClock } from "../time/index.js";
import { exponentialBackoff } from "./backoff.js";
import { consecutiveBreaker, countBreaker, timeBreaker } from "./breaker-window.js";
import { circuitBreaker } from "./circuit-breaker.js";
import type { BreakEvent, CircuitBreakerOptions, StateChangeEvent } from "./circuit-breaker.js";
import { handleAll, handleType, handleWhenResult } from "./handle.js";
import { codeOf, track } from "./test-support/index.js";

const fail = (): never => {
  throw new Error("downstream failed");
};
const succeed = (): string => "ok";

function setup(options: Omit<CircuitBreakerOptions, "clock"> = {}) {
  const clock = new VirtualClock(0);
  const breaker = circuitBreaker(handleAll, {
    ...(options.openDurationBackoff === undefined && { openDurationMs: 1000 }),
    ...options,
    clock,
  });
  const transitions: string[] = [];
  breaker.onStateChange((e) => transitions.push(`${e.from}->${e.to}:${e.cause}`));
  const call = (fn: () => unknown) => track(breaker.execute(fn));
  return { clock, breaker, transitions, call };
}

describe("circuitBreaker: transitions", () => {
  it("opens after consecutive failures, rejects fast, probes after the open duration and closes", async () => {
    const { clock, breaker, transitions, call } = setup({ breaker: consecutiveBreaker(3) });
    for (let i = 0; i < 2; i++)
      await expect(breaker.execute(fail)).rejects.toThrow("downstream failed");
    await expect(breaker.execute(succeed)).resolves.toBe("ok"); // a success resets the run
    for (let i = 0; i < 3; i++)
      await expect(breaker.execute(fail)).rejects.toThrow("downstream failed");
    expect(breaker.state).toBe("open");

    let ran = false;
    const rejected = call(() => (ran = true));
    await clock.advance(0);
    expect(codeOf(rejected)).toBe("SLUICE_BROKEN_CIRCUIT");
    expect((rejected.current as { error: SluiceError }).error.details).toMatchObject({
      retryAfterMs: 1000,
    });
    expect(ran).toBe(false);

    await clock.advance(999);
    await expect(breaker.execute(succeed)).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_BROKEN_CIRCUIT"),
    );
    await clock.advance(1);
    expect(breaker.state).toBe("open"); // moves on the next call, not on a timer
    await expect(breaker.execute(succeed)).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
    expect(transitions).toEqual([
      "closed->open:consecutive-failures",
      "open->half-open:open-duration-elapsed",
      "half-open->closed:probes-succeeded",
    ]);
  });

  it("re-opens when the probe fails, for longer each time with an open-duration backoff", async () => {
    const { clock, breaker, transitions } = setup({
      breaker: consecutiveBreaker(1),
      openDurationBackoff: exponentialBackoff({ initialDelayMs: 1000, jitter: "none" }),
    });
    const breaks: BreakEvent[] = [];
    breaker.onBreak((e) => breaks.push(e));
    await expect(breaker.execute(fail)).rejects.toThrow();
    await clock.advance(1000);
    await expect(breaker.execute(fail)).rejects.toThrow("downstream failed"); // probe fails
    await clock.advance(1999);
    await expect(breaker.execute(succeed)).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_BROKEN_CIRCUIT"),
    );
    await clock.advance(1);
    await expect(breaker.execute(fail)).rejects.toThrow("downstream failed");
    expect(breaks.map((b) => [b.cause, b.openDurationMs])).toEqual([
      ["consecutive-failures", 1000],
      ["probe-failed", 2000],
      ["probe-failed", 4000],
    ]);
    await clock.advance(4000);
    await expect(breaker.execute(succeed)).resolves.toBe("ok");
    // closing resets the backoff
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(breaks.at(-1)?.openDurationMs).toBe(1000);
    expect(transitions.filter((t) => t.startsWith("closed->open"))).toHaveLength(2);
  });

  it("count window: opens on the failure rate once minimumCalls are in", async () => {
    const { breaker } = setup({
      breaker: countBreaker({ size: 10, minimumCalls: 6, failureRateThreshold: 0.5 }),
    });
    for (let i = 0; i < 5; i++) await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe("closed"); // 5 of 5 failed, but fewer than 6 calls
    await breaker.execute(succeed);
    expect(breaker.state).toBe("open"); // 5 of 6 failed
  });

  it("count window: old outcomes slide out", async () => {
    const { breaker } = setup({
      breaker: countBreaker({ size: 4, minimumCalls: 4, failureRateThreshold: 0.75 }),
    });
    const breaks: BreakEvent[] = [];
    breaker.onBreak((e) => breaks.push(e));
    for (const ok of [false, false, true, true, true, false, false]) {
      await breaker.execute(ok ? succeed : fail).catch(() => {});
    }
    // windows: [F F T T] 50% ... [T T F F]: 50%; never 75%
    expect(breaker.state).toBe("closed");
    await breaker.execute(fail).catch(() => {}); // [T F F F]: 75%
    expect(breaker.state).toBe("open");
    expect(breaks).toEqual([
      { cause: "failure-rate", calls: 4, failures: 3, slowCalls: 0, openDurationMs: 1000 },
    ]);
  });

  it("time window: failures older than the window do not count", async () => {
    const { clock, breaker } = setup({
      breaker: timeBreaker({
        windowMs: 1000,
        buckets: 10,
        minimumCalls: 4,
        failureRateThreshold: 0.5,
      }),
    });
    for (let i = 0; i < 3; i++) await breaker.execute(fail).catch(() => {});
    await clock.advance(1000); // those three slide out
    await breaker.execute(fail).catch(() => {});
    for (let i = 0; i < 3; i++) await breaker.execute(succeed);
    expect(breaker.state).toBe("closed"); // 1 of 4 in the window
    await clock.advance(500);
    await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe("closed"); // 2 of 5
    await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe("open"); // 3 of 6
  });

  it("opens on the slow-call rate, even when slow calls succeed", async () => {
    const { clock, breaker, transitions } = setup({
      breaker: countBreaker({
        size: 4,
        minimumCalls: 4,
        failureRateThreshold: 1,
        slowCallDurationMs: 100,
        slowCallRateThreshold: 0.5,
      }),
    });
    const slow = () => clock.sleep(150).then(() => "slow");
    for (const fn of [succeed, slow, succeed, slow]) {
      const r = track(breaker.execute(fn));
      await clock.advance(150);
      expect(r.current.state).toBe("fulfilled");
    }
    expect(breaker.state).toBe("open");
    expect(transitions).toEqual(["closed->open:slow-call-rate"]);
  });

  it("half-open: lets N probes through, rejects the rest, closes on enough successes", async () => {
    const { clock, breaker, transitions } = setup({
      breaker: consecutiveBreaker(1),
      halfOpen: { permittedCalls: 3, successThreshold: 2 },
    });
    await breaker.execute(fail).catch(() => {});
    await clock.advance(1000);
    const probe = (ms: number, ok: boolean) =>
      track(breaker.execute(() => clock.sleep(ms).then(() => (ok ? "probe ok" : fail()))));
    const p1 = probe(10, true);
    const p2 = probe(20, false);
    const p3 = probe(30, true);
    const excess = track(breaker.execute(succeed));
    await clock.advance(0);
    expect(codeOf(excess)).toBe("SLUICE_BROKEN_CIRCUIT");
    expect(breaker.state).toBe("half-open");
    await clock.advance(20); // one success, one failure: 2 successes still reachable
    expect(breaker.state).toBe("half-open");
    await clock.advance(10);
    expect(breaker.state).toBe("closed");
    expect([p1, p2, p3].map((p) => p.current.state)).toEqual([
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect(transitions.at(-1)).toBe("half-open->closed:probes-succeeded");
  });

  it("half-open: re-opens as soon as the success threshold cannot be reached", async () => {
    const { clock, breaker } = setup({
      breaker: consecutiveBreaker(1),
      halfOpen: { permittedCalls: 3, successThreshold: 3 },
    });
    await breaker.execute(fail).catch(() => {});
    await clock.advance(1000);
    const slowOk = track(breaker.execute(() => clock.sleep(50).then(() => "ok")));
    await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe("open");
    await clock.advance(50);
    expect(slowOk.current.state).toBe("fulfilled"); // its late success changes nothing
    expect(breaker.state).toBe("open");
  });

  it("half-open with excessCalls 'wait': extra calls wait for the verdict", async () => {
    const { clock, breaker } = setup({
      breaker: consecutiveBreaker(1),
      halfOpen: { permittedCalls: 1, excessCalls: "wait" },
    });
    await breaker.execute(fail).catch(() => {});
    await clock.advance(1000);
    const probe = track(breaker.execute(() => clock.sleep(100).then(() => "probe")));
    const waiting = track(breaker.execute(() => "after close"));
    const controller = new AbortController();
    const gaveUp = track(breaker.execute(() => "never", controller.signal));
    await clock.advance(10);
    expect(waiting.current.state).toBe("pending");
    controller.abort();
    await clock.advance(0);
    expect(codeOf(gaveUp)).toBe("SLUICE_ABORTED");
    await clock.advance(90);
    expect(probe.current).toEqual({ state: "fulfilled", value: "probe" });
    expect(waiting.current).toEqual({ state: "fulfilled", value: "after close" });

    // and when the probe fails, the waiters are rejected
    await breaker.execute(fail).catch(() => {});
    await clock.advance(1000);
    const badProbe = track(breaker.execute(() => clock.sleep(100).then(fail)));
    const waiting2 = track(breaker.execute(() => "never"));
    await clock.advance(100);
    expect(badProbe.current.state).toBe("rejected");
    expect(codeOf(waiting2)).toBe("SLUICE_BROKEN_CIRCUIT");
  });

  it("isolate holds the circuit open until every handle is released", async () => {
    const { breaker, transitions } = setup();
    const a = breaker.isolate();
    const b = breaker.isolate();
    await expect(breaker.execute(succeed)).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_ISOLATED_CIRCUIT"),
    );
    a.dispose();
    expect(breaker.state).toBe("isolated");
    b[Symbol.dispose]();
    expect(breaker.state).toBe("closed");
    await expect(breaker.execute(succeed)).resolves.toBe("ok");
    breaker.isolate();
    breaker.close();
    expect(breaker.state).toBe("closed");
    expect(transitions).toEqual([
      "closed->isolated:isolated",
      "isolated->closed:isolation-released",
      "closed->isolated:isolated",
      "isolated->closed:closed-manually",
    ]);
  });

  it("close() resets an open circuit by hand", async () => {
    const { breaker } = setup({ breaker: consecutiveBreaker(1) });
    await breaker.execute(fail).catch(() => {});
    breaker.close();
    await expect(breaker.execute(succeed)).resolves.toBe("ok");
  });
});

describe("circuitBreaker: what counts", () => {
  it("counts only handled errors; other errors count as successes", async () => {
    class Unavailable extends Error {}
    const clock = new VirtualClock(0);
    const breaker = circuitBreaker(handleType(Unavailable), {
      breaker: consecutiveBreaker(2),
      clock,
    });
    await breaker.execute(() => Promise.reject(new Unavailable())).catch(() => {});
    await breaker.execute(() => Promise.reject(new TypeError("bad input"))).catch(() => {});
    await breaker.execute(() => Promise.reject(new Unavailable())).catch(() => {});
    expect(breaker.state).toBe("closed");
    await breaker.execute(() => Promise.reject(new Unavailable())).catch(() => {});
    expect(breaker.state).toBe("open");
  });

  it("counts results the handler rejects as failures, and still returns them", async () => {
    const breaker = circuitBreaker(
      handleWhenResult<number>((status) => status >= 500),
      {
        breaker: consecutiveBreaker(2),
        clock: new VirtualClock(0),
      },
    );
    await expect(breaker.execute(() => 503)).resolves.toBe(503);
    await expect(breaker.execute(() => 502)).resolves.toBe(502);
    expect(breaker.state).toBe("open");
  });

  it("ignores outcomes of calls admitted before a transition", async () => {
    const { clock, breaker } = setup({ breaker: consecutiveBreaker(2) });
    const slowFailure = track(breaker.execute(() => clock.sleep(100).then(fail)));
    await breaker.execute(fail).catch(() => {});
    breaker.close(); // new generation
    await breaker.execute(fail).catch(() => {});
    await clock.advance(100); // the old call's failure must not be the second in a row
    expect(slowFailure.current.state).toBe("rejected");
    expect(breaker.state).toBe("closed");
  });
});

describe("circuitBreaker: state export, metrics, validation", () => {
  it("round-trips an open circuit through toJSON / initialState", async () => {
    const { clock, breaker } = setup({ breaker: consecutiveBreaker(1) });
    await clock.advance(5000);
    await breaker.execute(fail).catch(() => {});
    const saved = JSON.parse(JSON.stringify(breaker)) as ReturnType<typeof breaker.toJSON>;
    expect(saved).toMatchObject({
      version: 1,
      state: "open",
      openUntilMs: 6000,
      consecutiveOpens: 1,
    });

    const restored = circuitBreaker(handleAll, {
      breaker: consecutiveBreaker(1),
      openDurationMs: 1000,
      clock,
      initialState: saved,
    });
    expect(restored.state).toBe("open");
    await expect(restored.execute(succeed)).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_BROKEN_CIRCUIT"),
    );
    await clock.advance(1000);
    await expect(restored.execute(succeed)).resolves.toBe("ok");
    expect(restored.state).toBe("closed");
  });

  it("restores a closed circuit's window, so it trips where the old one would have", async () => {
    const spec = countBreaker({ size: 5, minimumCalls: 5, failureRateThreshold: 0.6 });
    const { breaker, clock } = setup({ breaker: spec });
    for (const fn of [fail, succeed, fail, succeed]) await breaker.execute(fn).catch(() => {});
    const restored = circuitBreaker(handleAll, {
      breaker: spec,
      clock,
      initialState: breaker.toJSON(),
    });
    await restored.execute(fail).catch(() => {});
    expect(restored.state).toBe("open"); // 3 of 5
  });

  it("restores a time window and an isolated state", async () => {
    const spec = timeBreaker({ windowMs: 1000, minimumCalls: 2, failureRateThreshold: 1 });
    const { breaker, clock } = setup({ breaker: spec });
    await breaker.execute(fail).catch(() => {});
    const restored = circuitBreaker(handleAll, {
      breaker: spec,
      clock,
      initialState: breaker.toJSON(),
    });
    await restored.execute(fail).catch(() => {});
    expect(restored.state).toBe("open");

    breaker.isolate();
    const isolated = circuitBreaker(handleAll, {
      breaker: spec,
      clock,
      initialState: breaker.toJSON(),
    });
    await expect(isolated.execute(succeed)).rejects.toSatisfy((e) =>
      isSluiceError(e, "SLUICE_ISOLATED_CIRCUIT"),
    );
    isolated.close();
    await expect(isolated.execute(succeed)).resolves.toBe("ok");
  });

  it("rejects a malformed initial state naming the field", () => {
    const bad = { version: 1, state: "ajar" } as unknown as ReturnType<
      ReturnType<typeof circuitBreaker>["toJSON"]
    >;
    expect(() => circuitBreaker(handleAll, { initialState: bad })).toThrow(/initialState.state/);
  });

  it("publishes state, calls and transitions as metrics", async () => {
    const metrics = new MetricsRegistry();
    const { breaker } = setup({ breaker: consecutiveBreaker(1), metrics, name: "payments" });
    await breaker.execute(succeed);
    await breaker.execute(fail).catch(() => {});
    await breaker.execute(succeed).catch(() => {});
    const values = Object.fromEntries(
      metrics
        .collect()
        .map((s) => [
          `${s.name}${s.labels.outcome ? `:${s.labels.outcome}` : ""}${s.labels.to ? `:${s.labels.to}` : ""}`,
          "value" in s ? s.value : NaN,
        ]),
    );
    expect(values).toMatchObject({
      sluice_circuit_state: 1,
      "sluice_circuit_calls_total:success": 1,
      "sluice_circuit_calls_total:failure": 1,
      "sluice_circuit_calls_total:rejected": 1,
      "sluice_circuit_transitions_total:open": 1,
    });
    expect(metrics.collect().every((s) => s.labels.policy === "payments")).toBe(true);
  });

  it("emits typed state-change events with the time", async () => {
    const { clock, breaker } = setup({ breaker: consecutiveBreaker(1) });
    const events: StateChangeEvent[] = [];
    const halfOpens: number[] = [];
    const resets: number[] = [];
    breaker.onStateChange((e) => events.push(e));
    breaker.onHalfOpen((e) => halfOpens.push(e.atMs));
    breaker.onReset((e) => resets.push(e.atMs));
    await clock.advance(100);
    await breaker.execute(fail).catch(() => {});
    await clock.advance(1000);
    await breaker.execute(succeed);
    expect(events[0]).toEqual({
      from: "closed",
      to: "open",
      cause: "consecutive-failures",
      atMs: 100,
    });
    expect(halfOpens).toEqual([1100]);
    expect(resets).toEqual([1100]);
  });

  it("validates options naming the field", () => {
    const cases: Array<[() => unknown, string]> = [
      [() => consecutiveBreaker(0), "threshold"],
      [() => countBreaker({ size: 10, minimumCalls: 11 }), "minimumCalls"],
      [() => countBreaker({ size: 10, failureRateThreshold: 1.5 }), "failureRateThreshold"],
      [() => countBreaker({ size: 10, slowCallDurationMs: 100 }), "slowCallRateThreshold"],
      [() => timeBreaker({ windowMs: 0 }), "windowMs"],
      [
        () => circuitBreaker(handleAll, { halfOpen: { permittedCalls: 2, successThreshold: 3 } }),
        "halfOpen.successThreshold",
      ],
      [
        () => circuitBreaker(handleAll, { halfOpen: { excessCalls: "queue" as "wait" } }),
        "halfOpen.excessCalls",
      ],
      [() => circuitBreaker(handleAll, { openDurationMs: -1 }), "openDurationMs"],
      [
        () =>
          circuitBreaker(handleAll, {
            openDurationMs: 5,
            openDurationBackoff: exponentialBackoff(),
          }),
        "openDurationBackoff",
      ],
    ];
    for (const [make, field] of cases) {
      let caught: unknown;
      try {
        make();
      } catch (error) {
        caught = error;
      }
      expect(isSluiceError(caught, "SLUICE_VALIDATION") ? caught.field : caught).toBe(field);
    }
  });
});
