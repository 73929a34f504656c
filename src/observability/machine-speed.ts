/**
 * A fixed reference workload, timed before and after a benchmark. The machines benchmarks run on
 * differ in speed by up to three times from one day to the next, and a machine's speed moves
 * within minutes; with these figures beside a result, results from different machines (or from
 * the start and end of one run) can be told apart from changes in the code.
 */
export interface MachineSpeed {
  /** Nanoseconds per step of a tight integer loop: the processor alone. */
  readonly loopNsPerStep: number;
  /** Microseconds to parse and serialise a fixed 1 KiB JSON document: allocation, strings, GC. */
  readonly jsonMicrosPerKiB: number;
}

/** The speed before a benchmark and after it. */
export interface MachineSpeedAround {
  readonly before: MachineSpeed;
  readonly after: MachineSpeed;
}

const LOOP_STEPS = 10_000_000;
const JSON_ROUNDS = 5_000;
/** Each figure is the best of this many timings: a pause elsewhere only ever slows one down. */
const TIMINGS = 3;

/** A fixed document of about 1 KiB, shaped like an event. */
const REFERENCE_DOCUMENT = JSON.stringify({
  id: "00000000-0000-4000-8000-000000000001",
  source: "reference.workload",
  time: "2026-01-01T00:00:00Z",
  detail: {
    orderId: "o-1",
    total: 1234.56,
    tags: ["a", "b", "c"],
    items: Array.from({ length: 6 }, (_, k) => ({ sku: `SKU-${k}`, qty: k + 1, price: k * 1.5 })),
    customer: { id: "c-1", tier: "gold", email: "user@example.com" },
    notes: "x".repeat(500),
  },
});
const REFERENCE_KIB = REFERENCE_DOCUMENT.length / 1024;

/** Sink for the loop's result, so that the compiler cannot drop the loop. */
let sink = 0;

function loopOnce(): number {
  const started = performance.now();
  let x = sink;
  for (let i = 0; i < LOOP_STEPS; i++) x = (x * 31 + i) | 0;
  sink = x;
  return ((performance.now() - started) * 1e6) / LOOP_STEPS;
}

function jsonOnce(): number {
  const started = performance.now();
  let length = 0;
  for (let i = 0; i < JSON_ROUNDS; i++)
    length += JSON.stringify(JSON.parse(REFERENCE_DOCUMENT)).length;
  sink ^= length;
  return ((performance.now() - started) * 1000) / JSON_ROUNDS / REFERENCE_KIB;
}

function best(timing: () => number): number {
  let fastest = Infinity;
  for (let i = 0; i < TIMINGS; i++) fastest = Math.min(fastest, timing());
  return Math.round(fastest * 1000) / 1000;
}

/** Times the reference workload now (about 0.3 s on a slow machine). */
export function measureMachineSpeed(): MachineSpeed {
  return { loopNsPerStep: best(loopOnce), jsonMicrosPerKiB: best(jsonOnce) };
}

/** Runs `run` between two timings of the reference workload. */
export async function withMachineSpeed<T>(
  run: () => Promise<T>,
): Promise<{ result: T; machineSpeed: MachineSpeedAround }> {
  const before = measureMachineSpeed();
  const result = await run();
  return { result, machineSpeed: { before, after: measureMachineSpeed() } };
}

/** The human line for a benchmark's output. */
export function machineSpeedLine({ before, after }: MachineSpeedAround): string {
  return (
    `machine speed (reference workload, lower is faster): loop ${before.loopNsPerStep} ns/step, ` +
    `JSON ${before.jsonMicrosPerKiB} µs/KiB before; ${after.loopNsPerStep} / ` +
    `${after.jsonMicrosPerKiB} after`
  );
}
