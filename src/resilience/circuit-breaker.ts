import { invalid } from "../errors/index.js";
import { BrokenCircuitError, IsolatedCircuitError } from "./resilience-errors.js";
import type { Counter, Gauge } from "../observability/index.js";
import { type Clock, abortError, systemClock } from "../time/index.js";
import type { Backoff } from "./backoff.js";
import {
  type BreakerSpec,
  type BreakerWindow,
  KEEP_CLOSED,
  TRIP_CONSECUTIVE,
  TRIP_FAILURE_RATE,
  type WindowSnapshot,
  type WindowStats,
  consecutiveBreaker,
  createWindow,
} from "./breaker-window.js";
import { type Disposable, type Event, EventEmitter } from "./events.js";
import { type Handler, handleTransient } from "./handle.js";
import { type ObservedOptions, PolicyMetrics } from "./metrics.js";
import { type CallContext, type Link, PolicyBase, type PolicyFn, proceed } from "./policy.js";
import { checkDelay, checkInteger, checkOneOf } from "./validate.js";

export type CircuitState = "closed" | "open" | "half-open" | "isolated";

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const ISOLATED = 3;
const STATE_NAMES: readonly CircuitState[] = ["closed", "open", "half-open", "isolated"];

export interface HalfOpenOptions {
  /** Probe calls let through per half-open period. Default 1. */
  readonly permittedCalls?: number;
  /** Successful probes that close the circuit; the circuit re-opens as soon as this can no
   * longer be reached. Default: `permittedCalls` (every probe must succeed). */
  readonly successThreshold?: number;
  /** Calls beyond the probes: `reject` at once (default), or `wait` for the probes' verdict. */
  readonly excessCalls?: "reject" | "wait";
}

export interface CircuitBreakerOptions extends ObservedOptions {
  /** When to open. Default `consecutiveBreaker(5)`. */
  readonly breaker?: BreakerSpec;
  /** How long the circuit stays open before probing. Default 30,000. */
  readonly openDurationMs?: number;
  /** Grows the open duration each time probing fails (1 = first opening); replaces `openDurationMs`. */
  readonly openDurationBackoff?: Backoff;
  readonly halfOpen?: HalfOpenOptions;
  /** Resume from a state exported by `toJSON()` (e.g. after a restart). */
  readonly initialState?: CircuitBreakerSnapshot;
  readonly clock?: Clock;
}

export type BreakCause =
  "failure-rate" | "slow-call-rate" | "consecutive-failures" | "probe-failed";

export type TransitionCause =
  | BreakCause
  | "open-duration-elapsed"
  | "probes-succeeded"
  | "isolated"
  | "isolation-released"
  | "closed-manually";

export interface StateChangeEvent {
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly cause: TransitionCause;
  readonly atMs: number;
}

export interface BreakEvent extends WindowStats {
  readonly cause: BreakCause;
  readonly openDurationMs: number;
}

export interface RejectedEvent {
  readonly state: CircuitState;
}

/** The breaker's state as JSON, for `initialState`. */
export interface CircuitBreakerSnapshot {
  readonly version: 1;
  readonly state: CircuitState;
  /** When the current (or last) open period ends; meaningful when `state` is `open`. */
  readonly openUntilMs: number;
  /** Openings since the circuit last closed (drives `openDurationBackoff`). */
  readonly consecutiveOpens: number;
  readonly lastOpenDurationMs: number;
  /** Probe outcomes so far when `state` is `half-open`. */
  readonly probeSuccesses: number;
  readonly probeFailures: number;
  readonly window: WindowSnapshot;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

const PROBE = 1;
const WAIT = 2;

/**
 * A circuit breaker: closed, it counts outcomes in its window and opens on a threshold; open,
 * it rejects with SLUICE_BROKEN_CIRCUIT until the open duration passes; then half-open, it lets
 * `permittedCalls` probes through and closes or re-opens on their results. `isolate()` holds it
 * open by hand (SLUICE_ISOLATED_CIRCUIT), `close()` resets it.
 *
 * The open-to-half-open move happens on the first call after the open duration, so an idle
 * breaker holds no timer.
 */
export class CircuitBreakerPolicy extends PolicyBase {
  private readonly stateChangeEmitter = new EventEmitter<StateChangeEvent>();
  private readonly breakEmitter = new EventEmitter<BreakEvent>();
  private readonly halfOpenEmitter = new EventEmitter<StateChangeEvent>();
  private readonly resetEmitter = new EventEmitter<StateChangeEvent>();
  private readonly rejectedEmitter = new EventEmitter<RejectedEvent>();
  /** Every transition. */
  readonly onStateChange: Event<StateChangeEvent> = this.stateChangeEmitter.event;
  /** The circuit opened on its own (not by `isolate()`), with the window's figures. */
  readonly onBreak: Event<BreakEvent> = this.breakEmitter.event;
  /** The circuit started probing. */
  readonly onHalfOpen: Event<StateChangeEvent> = this.halfOpenEmitter.event;
  /** The circuit closed (probes succeeded, or by hand). */
  readonly onReset: Event<StateChangeEvent> = this.resetEmitter.event;
  /** A call was refused without running. */
  readonly onRejected: Event<RejectedEvent> = this.rejectedEmitter.event;

  private stateCode = CLOSED;
  /** Bumped on every transition; outcomes of calls admitted under an older one are ignored. */
  private generation = 0;
  private openUntilMs = 0;
  private consecutiveOpens = 0;
  private lastOpenDurationMs = 0;
  private probesStarted = 0;
  private probeSuccesses = 0;
  private probeFailures = 0;
  private isolations = 0;
  private waiters: Waiter[] = [];

  private readonly window: BreakerWindow;
  private readonly needsTime: boolean;
  private readonly slowCallDurationMs: number;
  private readonly checksResults: boolean;
  private readonly clock: Clock;
  private readonly openDurationMs: number;
  private readonly openDurationBackoff: Backoff | undefined;
  private readonly permittedCalls: number;
  private readonly successThreshold: number;
  private readonly waitWhenBusy: boolean;
  private readonly metrics: PolicyMetrics;
  private readonly stateGauge: Gauge | undefined;
  private readonly successes: Counter | undefined;
  private readonly failures: Counter | undefined;
  private readonly slowCalls: Counter | undefined;
  private readonly rejections: Counter | undefined;

  constructor(
    private readonly handler: Handler,
    options: CircuitBreakerOptions = {},
  ) {
    super();
    this.window = createWindow(options.breaker ?? consecutiveBreaker(5));
    this.needsTime = this.window.needsTime;
    this.slowCallDurationMs = this.window.slowCallDurationMs;
    this.checksResults = handler.checksResults;
    this.clock = options.clock ?? systemClock;
    if (options.openDurationMs !== undefined && options.openDurationBackoff !== undefined) {
      throw invalid(
        "openDurationBackoff",
        "either openDurationMs or openDurationBackoff, not both",
      );
    }
    this.openDurationMs = options.openDurationMs ?? 30_000;
    checkDelay("openDurationMs", this.openDurationMs);
    this.openDurationBackoff = options.openDurationBackoff;
    this.permittedCalls = options.halfOpen?.permittedCalls ?? 1;
    checkInteger("halfOpen.permittedCalls", this.permittedCalls, 1);
    this.successThreshold = options.halfOpen?.successThreshold ?? this.permittedCalls;
    checkInteger("halfOpen.successThreshold", this.successThreshold, 1, this.permittedCalls);
    const excess = options.halfOpen?.excessCalls ?? "reject";
    checkOneOf("halfOpen.excessCalls", excess, ["reject", "wait"]);
    this.waitWhenBusy = excess === "wait";

    this.metrics = new PolicyMetrics(options.metrics, options.name ?? "circuit-breaker");
    const m = this.metrics;
    this.stateGauge = m.gauge("sluice_circuit_state", "0 closed, 1 open, 2 half-open, 3 isolated.");
    const calls = "sluice_circuit_calls_total";
    const callsHelp = "Calls through a circuit breaker by outcome.";
    this.successes = m.counter(calls, callsHelp, { outcome: "success" });
    this.failures = m.counter(calls, callsHelp, { outcome: "failure" });
    this.rejections = m.counter(calls, callsHelp, { outcome: "rejected" });
    this.slowCalls = m.counter(
      "sluice_circuit_slow_calls_total",
      "Calls at least slowCallDurationMs long.",
    );

    if (options.initialState !== undefined) this.hydrate(options.initialState);
  }

  /** The current state. An open circuit whose duration has passed reads `open` until the next call. */
  get state(): CircuitState {
    return STATE_NAMES[this.stateCode]!;
  }

  async run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T> {
    let probe = false;
    while (this.stateCode !== CLOSED) {
      if (this.admit() === PROBE) {
        probe = true;
        break;
      }
      await this.waitForVerdict(context.abortable());
    }
    const generation = this.generation;
    const startMs = this.needsTime ? this.clock.now() : 0;
    let result: T;
    try {
      result = await proceed(fn, context, next);
    } catch (error) {
      this.record(generation, probe, this.handler.handlesError(error), startMs);
      throw error;
    }
    this.record(
      generation,
      probe,
      this.checksResults && this.handler.handlesResult(result),
      startMs,
    );
    return result;
  }

  /**
   * Holds the circuit open (calls fail with SLUICE_ISOLATED_CIRCUIT) until every handle returned
   * is disposed, or `close()` is called.
   */
  isolate(): Disposable {
    this.isolations++;
    if (this.stateCode !== ISOLATED) {
      this.transition(ISOLATED, "isolated", this.clock.now());
      this.rejectWaiters();
    }
    let released = false;
    const dispose = (): void => {
      if (released) return;
      released = true;
      this.isolations = Math.max(0, this.isolations - 1);
      if (this.isolations === 0 && this.stateCode === ISOLATED)
        this.closeCircuit("isolation-released");
    };
    return { dispose, [Symbol.dispose]: dispose };
  }

  /** Closes the circuit from any state (ending any isolation) and clears its window. */
  close(): void {
    this.isolations = 0;
    this.closeCircuit("closed-manually");
  }

  /** The state as JSON; pass it as `initialState` to resume. In-flight probes are not kept. */
  toJSON(): CircuitBreakerSnapshot {
    return {
      version: 1,
      state: this.state,
      openUntilMs: this.openUntilMs,
      consecutiveOpens: this.consecutiveOpens,
      lastOpenDurationMs: this.lastOpenDurationMs,
      probeSuccesses: this.probeSuccesses,
      probeFailures: this.probeFailures,
      window: this.window.snapshot(),
    };
  }

  /** Decides a call's fate when the circuit is not closed: PROBE, WAIT, or throws a rejection. */
  private admit(): number {
    if (this.stateCode === OPEN) {
      const now = this.clock.now();
      if (now < this.openUntilMs) throw this.reject();
      this.transition(HALF_OPEN, "open-duration-elapsed", now);
    }
    if (this.stateCode === HALF_OPEN) {
      if (this.probesStarted < this.permittedCalls) {
        this.probesStarted++;
        return PROBE;
      }
      if (this.waitWhenBusy) return WAIT;
    }
    throw this.reject();
  }

  private reject(): BrokenCircuitError {
    this.rejections?.inc();
    const state = this.state;
    if (this.rejectedEmitter.hasListeners) this.rejectedEmitter.emit({ state });
    if (this.stateCode === ISOLATED) {
      return new IsolatedCircuitError("circuit isolated", {
        details: { circuit: this.metrics.name },
      });
    }
    const retryAfterMs =
      this.stateCode === OPEN ? Math.max(0, this.openUntilMs - this.clock.now()) : 0;
    return new BrokenCircuitError(`circuit ${state}`, {
      details: { circuit: this.metrics.name, state, retryAfterMs },
    });
  }

  private record(generation: number, probe: boolean, failure: boolean, startMs: number): void {
    const now = this.needsTime ? this.clock.now() : 0;
    const slow = now - startMs >= this.slowCallDurationMs;
    if (failure) this.failures?.inc();
    else this.successes?.inc();
    if (slow) this.slowCalls?.inc();
    if (generation !== this.generation) return;
    if (probe) {
      if (failure || slow) this.probeFailures++;
      else this.probeSuccesses++;
      this.judgeProbes();
      return;
    }
    const trip = this.window.record(failure, slow, now);
    if (trip !== KEEP_CLOSED) {
      const cause: BreakCause =
        trip === TRIP_FAILURE_RATE
          ? "failure-rate"
          : trip === TRIP_CONSECUTIVE
            ? "consecutive-failures"
            : "slow-call-rate";
      this.open(cause, this.window.stats());
    }
  }

  private judgeProbes(): void {
    if (this.probeSuccesses >= this.successThreshold) this.closeCircuit("probes-succeeded");
    else if (this.probeFailures > this.permittedCalls - this.successThreshold) {
      const calls = this.probeSuccesses + this.probeFailures;
      this.open("probe-failed", { calls, failures: this.probeFailures, slowCalls: 0 });
    }
  }

  private open(cause: BreakCause, stats: WindowStats): void {
    const now = this.clock.now();
    this.consecutiveOpens++;
    const durationMs =
      this.openDurationBackoff === undefined
        ? this.openDurationMs
        : Math.max(
            0,
            this.openDurationBackoff.delayMs(this.consecutiveOpens, this.lastOpenDurationMs),
          );
    this.lastOpenDurationMs = durationMs;
    this.openUntilMs = now + durationMs;
    this.window.reset();
    this.transition(OPEN, cause, now);
    if (this.breakEmitter.hasListeners)
      this.breakEmitter.emit({ cause, openDurationMs: durationMs, ...stats });
    this.rejectWaiters();
  }

  private closeCircuit(cause: TransitionCause): void {
    this.consecutiveOpens = 0;
    this.window.reset();
    if (this.stateCode !== CLOSED) this.transition(CLOSED, cause, this.clock.now());
    else this.generation++; // a reset window must not collect calls admitted before it
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort!);
      waiter.resolve();
    }
  }

  private transition(to: number, cause: TransitionCause, atMs: number): void {
    const from = this.stateCode;
    this.stateCode = to;
    this.generation++;
    this.probesStarted = 0;
    this.probeSuccesses = 0;
    this.probeFailures = 0;
    this.stateGauge?.set(to);
    this.metrics
      .counter("sluice_circuit_transitions_total", "Circuit state changes by target state.", {
        to: STATE_NAMES[to]!,
      })
      ?.inc();
    const event: StateChangeEvent = { from: STATE_NAMES[from]!, to: STATE_NAMES[to]!, cause, atMs };
    this.stateChangeEmitter.emit(event);
    if (to === HALF_OPEN) this.halfOpenEmitter.emit(event);
    else if (to === CLOSED) this.resetEmitter.emit(event);
  }

  private waitForVerdict(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort =
        signal === undefined
          ? undefined
          : (): void => {
              this.waiters = this.waiters.filter((w) => w !== waiter);
              reject(abortError(signal));
            };
      const waiter: Waiter = { resolve, reject, signal, onAbort };
      this.waiters.push(waiter);
      if (signal !== undefined) signal.addEventListener("abort", onAbort!, { once: true });
    });
  }

  private rejectWaiters(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const waiter of waiters) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort!);
      waiter.reject(this.reject());
    }
  }

  private hydrate(snapshot: CircuitBreakerSnapshot): void {
    if (typeof snapshot !== "object" || snapshot === null || snapshot.version !== 1) {
      throw invalid(
        "initialState.version",
        "1",
        (snapshot as { version?: unknown } | null)?.version,
      );
    }
    const code = STATE_NAMES.indexOf(snapshot.state);
    if (code < 0) throw invalid("initialState.state", STATE_NAMES.join(" | "), snapshot.state);
    for (const field of [
      "openUntilMs",
      "consecutiveOpens",
      "lastOpenDurationMs",
      "probeSuccesses",
      "probeFailures",
    ] as const) {
      const value = snapshot[field];
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw invalid(`initialState.${field}`, "a finite number >= 0", value);
      }
    }
    this.stateCode = code;
    this.openUntilMs = snapshot.openUntilMs;
    this.consecutiveOpens = snapshot.consecutiveOpens;
    this.lastOpenDurationMs = snapshot.lastOpenDurationMs;
    if (code === HALF_OPEN) {
      this.probeSuccesses = Math.min(snapshot.probeSuccesses, this.successThreshold - 1);
      this.probeFailures = Math.min(
        snapshot.probeFailures,
        this.permittedCalls - this.successThreshold,
      );
      this.probesStarted = this.probeSuccesses + this.probeFailures;
    }
    if (code === ISOLATED) this.isolations = 1;
    if (code === CLOSED) this.window.restore(snapshot.window);
    this.stateGauge?.set(code);
  }
}

/**
 * A circuit breaker counting the failures `handler` handles (default: every error but Sluice's
 * own fast rejections and aborts); errors it does not handle count as successes, since the
 * downstream did answer.
 */
export function circuitBreaker(
  handler: Handler = handleTransient,
  options: CircuitBreakerOptions = {},
): CircuitBreakerPolicy {
  return new CircuitBreakerPolicy(handler, options);
}
