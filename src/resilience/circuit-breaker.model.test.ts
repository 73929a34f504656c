import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { exponentialBackoff } from "./backoff.js";
import {
  type BreakerSpec,
  consecutiveBreaker,
  countBreaker,
  timeBreaker,
} from "./breaker-window.js";
import { type CircuitBreakerPolicy, type CircuitState, circuitBreaker } from "./circuit-breaker.js";
import type { Disposable } from "./events.js";
import { handleAll } from "./handle.js";

/**
 * Property test: random sequences of calls (failing or not, fast or slow), waits, isolations and
 * manual closes, run against the real breaker in virtual time and against a deliberately naive
 * reference model of the state machine (plain arrays, recomputed from scratch). After every step
 * the call's fate and the state must agree.
 */

type Window =
  | { kind: "consecutive"; threshold: number }
  | {
      kind: "count";
      size: number;
      minimumCalls: number;
      failureRate: number;
      slow: Slow | undefined;
    }
  | {
      kind: "time";
      windowMs: number;
      buckets: number;
      minimumCalls: number;
      failureRate: number;
      slow: Slow | undefined;
    };
interface Slow {
  durationMs: number;
  rate: number;
}
interface Config {
  window: Window;
  openDurationMs: number;
  backoff: boolean;
  permittedCalls: number;
  successThreshold: number;
}
type Op =
  | { kind: "call"; failure: boolean; durationMs: number }
  | { kind: "wait"; ms: number }
  | { kind: "isolate" }
  | { kind: "release" }
  | { kind: "close" };
type Fate = "ok" | "failed" | "broken" | "isolated";

class ReferenceBreaker {
  state: CircuitState = "closed";
  private outcomes: Array<{ atMs: number; failure: boolean; slow: boolean }> = [];
  private openUntilMs = 0;
  private opens = 0;
  private lastOpenMs = 0;
  private probes = { started: 0, ok: 0, bad: 0 };
  isolations = 0;

  constructor(private readonly config: Config) {}

  call(startMs: number, op: { failure: boolean; durationMs: number }): Fate {
    if (this.state === "isolated") return "isolated";
    if (this.state === "open") {
      if (startMs < this.openUntilMs) return "broken";
      this.state = "half-open";
      this.probes = { started: 0, ok: 0, bad: 0 };
    }
    const endMs = startMs + op.durationMs;
    const w = this.config.window;
    const slowMs = w.kind === "consecutive" ? undefined : w.slow?.durationMs;
    const slow = slowMs !== undefined && op.durationMs >= slowMs;
    const fate: Fate = op.failure ? "failed" : "ok";
    if (this.state === "half-open") {
      if (this.probes.started >= this.config.permittedCalls) return "broken";
      this.probes.started++;
      if (op.failure || slow) this.probes.bad++;
      else this.probes.ok++;
      if (this.probes.ok >= this.config.successThreshold) this.close();
      else if (this.probes.bad > this.config.permittedCalls - this.config.successThreshold)
        this.open(endMs);
      return fate;
    }
    this.outcomes.push({ atMs: endMs, failure: op.failure, slow });
    if (this.shouldOpen(endMs)) this.open(endMs);
    return fate;
  }

  isolate(): void {
    this.isolations++;
    this.state = "isolated";
  }

  release(): void {
    this.isolations--;
    if (this.isolations === 0 && this.state === "isolated") this.close();
  }

  close(): void {
    this.isolations = 0;
    this.state = "closed";
    this.opens = 0;
    this.outcomes = [];
  }

  private shouldOpen(nowMs: number): boolean {
    const w = this.config.window;
    if (w.kind === "consecutive") {
      let run = 0;
      for (let i = this.outcomes.length - 1; i >= 0 && this.outcomes[i]!.failure; i--) run++;
      return run >= w.threshold;
    }
    let inWindow = this.outcomes;
    if (w.kind === "count") inWindow = this.outcomes.slice(-w.size);
    else {
      const bucketMs = w.windowMs / w.buckets;
      const newest = Math.floor(nowMs / bucketMs);
      inWindow = this.outcomes.filter((o) => Math.floor(o.atMs / bucketMs) > newest - w.buckets);
    }
    const calls = inWindow.length;
    if (calls < w.minimumCalls) return false;
    if (inWindow.filter((o) => o.failure).length / calls >= w.failureRate) return true;
    return w.slow !== undefined && inWindow.filter((o) => o.slow).length / calls >= w.slow.rate;
  }

  private open(nowMs: number): void {
    this.opens++;
    // The reference spells out the schedule the real breaker gets as a backoff.
    const durationMs = this.config.backoff
      ? Math.min(30_000, this.config.openDurationMs * 2 ** (this.opens - 1))
      : this.config.openDurationMs;
    this.lastOpenMs = durationMs;
    this.openUntilMs = nowMs + durationMs;
    this.state = "open";
    this.outcomes = [];
  }
}

function specOf(window: Window): BreakerSpec {
  switch (window.kind) {
    case "consecutive":
      return consecutiveBreaker(window.threshold);
    case "count":
      return countBreaker({
        size: window.size,
        minimumCalls: window.minimumCalls,
        failureRateThreshold: window.failureRate,
        ...(window.slow && {
          slowCallDurationMs: window.slow.durationMs,
          slowCallRateThreshold: window.slow.rate,
        }),
      });
    case "time":
      return timeBreaker({
        windowMs: window.windowMs,
        buckets: window.buckets,
        minimumCalls: window.minimumCalls,
        failureRateThreshold: window.failureRate,
        ...(window.slow && {
          slowCallDurationMs: window.slow.durationMs,
          slowCallRateThreshold: window.slow.rate,
        }),
      });
  }
}

function makeBreaker(
  config: Config,
  clock: VirtualClock,
  initialState?: ReturnType<CircuitBreakerPolicy["toJSON"]>,
) {
  return circuitBreaker(handleAll, {
    breaker: specOf(config.window),
    ...(config.backoff
      ? {
          openDurationBackoff: exponentialBackoff({
            initialDelayMs: config.openDurationMs,
            maxDelayMs: 30_000,
            jitter: "none",
          }),
        }
      : { openDurationMs: config.openDurationMs }),
    halfOpen: { permittedCalls: config.permittedCalls, successThreshold: config.successThreshold },
    clock,
    ...(initialState && { initialState }),
  });
}

async function callReal(
  breaker: CircuitBreakerPolicy,
  clock: VirtualClock,
  op: { failure: boolean; durationMs: number },
): Promise<Fate> {
  let fate: Fate | undefined;
  breaker
    .execute(async () => {
      if (op.durationMs > 0) await clock.sleep(op.durationMs);
      if (op.failure) throw new Error("planned failure");
      return "ok";
    })
    .then(
      () => (fate = "ok"),
      (error: unknown) => {
        if (isSluiceError(error, "SLUICE_BROKEN_CIRCUIT")) fate = "broken";
        else if (isSluiceError(error, "SLUICE_ISOLATED_CIRCUIT")) fate = "isolated";
        else fate = "failed";
      },
    );
  await clock.advance(op.durationMs);
  if (fate === undefined) throw new Error("call did not settle in its virtual duration");
  return fate;
}

const slowArb: fc.Arbitrary<Slow | undefined> = fc.option(
  fc.record({ durationMs: fc.constantFrom(50, 100), rate: fc.constantFrom(0.5, 0.8, 1) }),
  { nil: undefined },
);
const rateArb = fc.constantFrom(0.2, 0.5, 0.6, 1);
const windowArb: fc.Arbitrary<Window> = fc.oneof(
  fc.record({
    kind: fc.constant("consecutive" as const),
    threshold: fc.integer({ min: 1, max: 5 }),
  }),
  fc.integer({ min: 1, max: 8 }).chain((size) =>
    fc.record({
      kind: fc.constant("count" as const),
      size: fc.constant(size),
      minimumCalls: fc.integer({ min: 1, max: size }),
      failureRate: rateArb,
      slow: slowArb,
    }),
  ),
  fc.record({
    kind: fc.constant("time" as const),
    windowMs: fc.constantFrom(1000, 2000, 3000),
    buckets: fc.constantFrom(1, 4, 10),
    minimumCalls: fc.integer({ min: 1, max: 6 }),
    failureRate: rateArb,
    slow: slowArb,
  }),
);
const configArb: fc.Arbitrary<Config> = fc
  .record({
    window: windowArb,
    openDurationMs: fc.constantFrom(200, 500, 1000),
    backoff: fc.boolean(),
    permittedCalls: fc.integer({ min: 1, max: 3 }),
    successFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ successFraction, ...rest }) => ({
    ...rest,
    successThreshold: 1 + Math.floor(successFraction * (rest.permittedCalls - 1)),
  }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant("call" as const),
      failure: fc.boolean(),
      durationMs: fc.constantFrom(0, 0, 10, 60, 120),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("wait" as const),
      ms: fc.integer({ min: 1, max: 2500 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "isolate" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "release" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "close" as const }) },
);

interface Subject {
  readonly breaker: CircuitBreakerPolicy;
  readonly handles: Disposable[];
}

/** Applies one op to the reference and to the real breaker; returns both fates of a call. */
async function step(
  op: Op,
  clock: VirtualClock,
  model: ReferenceBreaker,
  subject: Subject,
): Promise<[Fate | null, Fate | null]> {
  switch (op.kind) {
    case "call":
      return [model.call(clock.now(), op), await callReal(subject.breaker, clock, op)];
    case "wait":
      await clock.advance(op.ms);
      break;
    case "isolate":
      model.isolate();
      subject.handles.push(subject.breaker.isolate());
      break;
    case "release":
      if (model.isolations > 0) {
        model.release();
        subject.handles.pop()!.dispose();
        // A restored isolation is one hold without a handle: the last release closes it by hand.
        if (model.isolations === 0 && subject.breaker.state === "isolated") subject.breaker.close();
      }
      break;
    case "close":
      model.close();
      subject.breaker.close();
      subject.handles.length = 0;
      break;
  }
  return [null, null];
}

describe("circuitBreaker against a reference model", () => {
  it("agrees with the model on every call's fate and every state, for random histories", async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(opArb, { maxLength: 80 }), async (config, ops) => {
        const clock = new VirtualClock(10_000);
        const model = new ReferenceBreaker(config);
        const subject: Subject = { breaker: makeBreaker(config, clock), handles: [] };
        const trace: string[] = [];
        for (const op of ops) {
          const [expected, actual] = await step(op, clock, model, subject);
          trace.push(`${JSON.stringify(op)} -> ${String(expected)} / ${model.state}`);
          expect(actual, trace.join("\n")).toBe(expected);
          expect(subject.breaker.state, trace.join("\n")).toBe(model.state);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a breaker restored from toJSON() continues exactly like the model", async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(opArb, { maxLength: 40 }),
        fc.array(opArb, { maxLength: 40 }),
        async (config, before, after) => {
          const clock = new VirtualClock(10_000);
          const model = new ReferenceBreaker(config);
          const original: Subject = { breaker: makeBreaker(config, clock), handles: [] };
          for (const op of before) await step(op, clock, model, original);
          const saved = JSON.parse(JSON.stringify(original.breaker.toJSON())) as ReturnType<
            CircuitBreakerPolicy["toJSON"]
          >;
          // The restored breaker holds its isolation without handles: stand-ins keep the count.
          const restored: Subject = {
            breaker: makeBreaker(config, clock, saved),
            handles: Array.from({ length: model.isolations }, () => ({
              dispose: () => {},
              [Symbol.dispose]: () => {},
            })),
          };
          const trace: string[] = [`restored ${JSON.stringify(saved)}`];
          for (const op of after) {
            const [expected, actual] = await step(op, clock, model, restored);
            trace.push(`${JSON.stringify(op)} -> ${String(expected)} / ${model.state}`);
            expect(actual, trace.join("\n")).toBe(expected);
            expect(restored.breaker.state, trace.join("\n")).toBe(model.state);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
