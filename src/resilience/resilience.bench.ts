import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { machineInfo } from "../observability/index.js";
import { type Clock, type Timer, VirtualClock, systemClock } from "../time/index.js";
import { consecutiveBreaker } from "./breaker-window.js";
import { circuitBreaker } from "./circuit-breaker.js";
import { handleAll } from "./handle.js";
import { DuplicateDetector } from "./idempotency/duplicate-detector.js";
import type { DuplicateDetectorOptions } from "./idempotency/duplicate-detector.js";
import { MemoryIdempotencyStore } from "./idempotency/idempotency-store.js";
import { idempotent } from "./idempotency/idempotent.js";
import type { PolicyContext } from "./policy.js";
import { retry } from "./retry.js";
import { timeout } from "./timeout.js";
import { wrap } from "./wrap.js";

export interface ResilienceBenchOptions {
  /** Print the JSON-bound result only: the human line goes to stderr instead of stdout. */
  readonly json?: boolean;
  /** Length of each timed loop. Default 2000. */
  readonly durationMs?: number;
  /** Keys for the memory figures. Default 1,000,000. */
  readonly keys?: number;
  /** Print nothing (for tests). */
  readonly quiet?: boolean;
}

type Gc = () => void;

/** A way to force full GCs for heap deltas: --expose-gc if given, else turned on at run time. */
function findGc(): { gc: Gc | undefined; exposed: "flag" | "runtime" | "unavailable" } {
  const fromFlag = (globalThis as { gc?: Gc }).gc;
  if (typeof fromFlag === "function") return { gc: fromFlag, exposed: "flag" };
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    if (typeof gc === "function") return { gc: gc as Gc, exposed: "runtime" };
  } catch {
    // fall through: heap deltas will include garbage
  }
  return { gc: undefined, exposed: "unavailable" };
}

/** Heap plus ArrayBuffer memory (typed arrays such as Bloom filters live outside the JS heap). */
function heapUsed(gc: Gc | undefined): number {
  if (gc !== undefined) {
    gc();
    gc();
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

interface Rate {
  readonly calls: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly nsPerCall: number;
}

/** Calls `step` (1024 at a time) for about `durationMs`. */
async function timeAsync(durationMs: number, step: () => Promise<unknown>): Promise<Rate> {
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < durationMs) {
    for (let i = 0; i < 1024; i++) await step();
    calls += 1024;
    now = performance.now();
  }
  return rate(calls, (now - start) / 1000);
}

function timeSync(durationMs: number, step: (i: number) => unknown): Rate {
  let calls = 0;
  const start = performance.now();
  let now = start;
  let sink = 0;
  while (now - start < durationMs) {
    for (let i = 0; i < 1024; i++) if (step(calls + i) !== undefined) sink++;
    calls += 1024;
    now = performance.now();
  }
  if (sink < 0) throw new Error("unreachable");
  return rate(calls, (now - start) / 1000);
}

function rate(calls: number, seconds: number): Rate {
  const callsPerSecond = calls / seconds;
  return {
    calls,
    seconds: round(seconds, 3),
    callsPerSecond: Math.round(callsPerSecond),
    nsPerCall: round(1e9 / callsPerSecond, 1),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const noop = async (): Promise<void> => {};

const scratch = Buffer.allocUnsafe(64);

/**
 * The same text as a flat string. Template literals build rope (cons) strings, which hold more
 * memory than the flat strings a decoded message key would be, and would skew bytes per key.
 */
function flat(text: string): string {
  const length = scratch.write(text, "latin1");
  return scratch.toString("latin1", 0, length);
}

async function policyOverhead(durationMs: number) {
  const composed = () =>
    wrap(
      retry(handleAll, { maxAttempts: 3 }),
      circuitBreaker(handleAll, { breaker: consecutiveBreaker(5) }),
      timeout(1000),
    );
  const cooperative = composed();
  const aggressive = wrap(
    retry(handleAll, { maxAttempts: 3 }),
    circuitBreaker(handleAll, { breaker: consecutiveBreaker(5) }),
    timeout(1000, "aggressive"),
  );
  const readsSignal = composed();
  const usesSignal = (ctx: PolicyContext): Promise<void> =>
    ctx.signal.aborted ? Promise.reject(new Error("aborted")) : noop();

  // Warm up every path so the timed loops measure optimised code.
  const warm = Math.min(300, durationMs);
  await timeAsync(warm, () => noop());
  await timeAsync(warm, () => cooperative.execute(noop));
  await timeAsync(warm, () => aggressive.execute(noop));
  await timeAsync(warm / 3, () => readsSignal.execute(usesSignal));

  const baseline = await timeAsync(durationMs, () => noop());
  const wrapped = await timeAsync(durationMs, () => cooperative.execute(noop));
  const aggressiveRate = await timeAsync(durationMs, () => aggressive.execute(noop));
  const signalRate = await timeAsync(durationMs / 2, () => readsSignal.execute(usesSignal));
  return {
    policies: "wrap(retry(maxAttempts 3), circuitBreaker(consecutive 5), timeout(1000 ms))",
    bareAwaitNoop: baseline,
    cooperativeTimeout: {
      ...wrapped,
      overheadNsPerCall: round(wrapped.nsPerCall - baseline.nsPerCall, 1),
    },
    aggressiveTimeout: {
      ...aggressiveRate,
      overheadNsPerCall: round(aggressiveRate.nsPerCall - baseline.nsPerCall, 1),
    },
    functionReadsSignal: {
      ...signalRate,
      overheadNsPerCall: round(signalRate.nsPerCall - baseline.nsPerCall, 1),
    },
  };
}

async function idempotencyFigures(keys: number, durationMs: number, gc: Gc | undefined) {
  const clock = new VirtualClock(0); // fixed time: nothing expires while measuring
  let store: MemoryIdempotencyStore | undefined = new MemoryIdempotencyStore({ clock });
  const before = heapUsed(gc);
  const stored: string[] = new Array<string>(keys);
  for (let i = 0; i < keys; i++) {
    const key = flat(`order-${i.toString().padStart(9, "0")}`);
    stored[i] = key;
    store.set(key, null, 3_600_000);
  }
  const after = heapUsed(gc);
  // The key array is the caller's, not the store's: take its share out (8 bytes a slot).
  const bytesPerKey = (after - before - keys * 8) / keys;

  const misses = Array.from({ length: 65_536 }, (_, i) =>
    flat(`order-x${i.toString().padStart(8, "0")}`),
  );
  const s = store;
  const hits = timeSync(durationMs, (i) => s.get(stored[i % keys]!));
  const missRate = timeSync(durationMs, (i) => s.get(misses[i & 65_535]!) ?? 0);

  // Redeliveries of completed keys: answered from the store without running the handler.
  let runs = 0;
  let next = 0;
  const handler = idempotent((_key: string) => ++runs, { key: (k) => k, store: s });
  const duplicateDeliveries = await timeAsync(durationMs, () => handler(stored[next++ % keys]!));
  if (runs !== 0) throw new Error("a redelivery ran the handler");
  await store.close();
  store = undefined;
  return {
    keys,
    stateBytesPerKey: round(bytesPerKey, 1),
    keyExample: stored[0],
    checksPerSecondHit: hits.callsPerSecond,
    checksPerSecondMiss: missRate.callsPerSecond,
    duplicateDeliveriesPerSecond: duplicateDeliveries.callsPerSecond,
  };
}

type DetectorVariant = Omit<DuplicateDetectorOptions, "windowMs" | "clock">;

const detectorKey = (i: number): string => flat(`msg-${i.toString(36)}-${(i * 2654435761) >>> 0}`);

/** A clock the loop moves by hand, synchronously (the detector only reads `now`). */
class SteppedClock implements Clock {
  nowMs = 0;
  now(): number {
    return this.nowMs;
  }
  setTimer(delayMs: number, callback: () => void): Timer {
    return systemClock.setTimer(delayMs, callback);
  }
  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(delayMs, signal);
  }
}

const WINDOW_MS = 60_000;

/**
 * One detector variant, in its own frame so nothing of it outlives the call. With `spread`, the
 * keys arrive evenly over the window (each bucket gets its share); without, all at one instant.
 */
function measureDetector(
  variant: DetectorVariant,
  spread: boolean,
  keys: number,
  durationMs: number,
  gc: Gc | undefined,
) {
  const clock = new SteppedClock();
  const before = heapUsed(gc);
  const detector = new DuplicateDetector({ windowMs: WINDOW_MS, buckets: 4, clock, ...variant });
  let inventedDuplicates = 0;
  // Keys are made as they arrive, so the figure counts the strings the detector keeps alive.
  for (let i = 0; i < keys; i++) {
    if (spread) clock.nowMs = Math.floor((i * WINDOW_MS) / keys);
    if (detector.seen(detectorKey(i))) inventedDuplicates++;
  }
  const after = heapUsed(gc);
  const probes = Math.min(keys, 1_000_000);
  let falsePositives = 0;
  for (let i = 0; i < probes; i++) if (detector.has(`probe-${i.toString(36)}`)) falsePositives++;
  const known = Array.from({ length: 65_536 }, (_, i) => detectorKey(i % keys));
  const duplicateChecks = timeSync(durationMs / 2, (i) => detector.has(known[i & 65_535]!));
  // Insert speed on a fresh detector, keys made beforehand so only the detector is timed.
  const fresh = Array.from({ length: Math.min(keys, 200_000) }, (_, i) => detectorKey(keys + i));
  const speed = new DuplicateDetector({
    windowMs: WINDOW_MS,
    buckets: 4,
    clock: new SteppedClock(),
    ...variant,
  });
  const start = performance.now();
  for (const key of fresh) speed.seen(key);
  const insertSeconds = (performance.now() - start) / 1000;
  return {
    bytesPerKey: round((after - before) / keys, 2),
    newKeysPerSecond: Math.round(fresh.length / insertSeconds),
    duplicateChecksPerSecond: duplicateChecks.callsPerSecond,
    falsePositiveRate: round(falsePositives / probes, 5),
    newKeysTakenForDuplicates: inventedDuplicates,
    ...(variant.bloom !== undefined && {
      bloomFalsePositivesSeenOnInsert: detector.stats.bloomFalsePositives,
    }),
  };
}

function detectorFigures(keys: number, durationMs: number, gc: Gc | undefined) {
  const bloom = { expectedKeys: keys, falsePositiveRate: 0.01 };
  return {
    keys,
    windowMs: WINDOW_MS,
    buckets: 4,
    targetFalsePositiveRate: 0.01,
    note:
      "burst: all keys arrive at one instant, so the Bloom filters of one bucket grow past their share; " +
      "spread: keys arrive evenly over the window",
    exact: measureDetector({}, false, keys, durationMs, gc),
    exactWithBloomFront: measureDetector({ bloom }, false, keys, durationMs, gc),
    bloomOnlyBurst: measureDetector({ exact: false, bloom }, false, keys, durationMs, gc),
    bloomOnlySpread: measureDetector({ exact: false, bloom }, true, keys, durationMs, gc),
  };
}

/**
 * `sluice bench resilience`: the per-call cost of wrap(retry, circuitBreaker, timeout) next to a
 * bare `await noop()` in the same run, in-memory idempotency checks per second and state bytes
 * per key, and the duplicate detector's bytes per key and measured false-positive rate.
 * Single process: every figure is bound by one core.
 */
export async function runResilienceBench(options: ResilienceBenchOptions = {}): Promise<object> {
  const durationMs = options.durationMs ?? 2000;
  const keys = options.keys ?? 1_000_000;
  const { gc, exposed } = findGc();
  const overhead = await policyOverhead(durationMs);
  const idempotency = await idempotencyFigures(keys, durationMs, gc);
  const detector = detectorFigures(keys, durationMs, gc);
  const result = {
    benchmark: "resilience",
    parameters: { durationMs, keys, gc: exposed },
    machine: machineInfo(),
    policyOverhead: overhead,
    idempotencyStore: idempotency,
    duplicateDetector: detector,
  };
  const d = detector;
  const line =
    `resilience: wrap(retry, circuitBreaker, timeout) ${fmt(overhead.cooperativeTimeout.callsPerSecond)} calls/s ` +
    `(${overhead.cooperativeTimeout.nsPerCall} ns/call, ${overhead.cooperativeTimeout.overheadNsPerCall} ns over a bare ` +
    `await at ${overhead.bareAwaitNoop.nsPerCall} ns); idempotency store ${fmt(idempotency.checksPerSecondHit)} hit / ` +
    `${fmt(idempotency.checksPerSecondMiss)} miss checks/s, ${idempotency.stateBytesPerKey} B/key for ${fmt(keys)} keys; ` +
    `duplicate detector ${d.exact.bytesPerKey} B/key exact, ${d.bloomOnlySpread.bytesPerKey} B/key Bloom-only at ` +
    `${round(d.bloomOnlySpread.falsePositiveRate * 100, 3)}% false positives (gc: ${exposed})`;
  if (options.quiet !== true)
    (options.json === true ? process.stderr : process.stdout).write(line + "\n");
  return result;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
