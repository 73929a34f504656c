import { Worker } from "node:worker_threads";

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

/**
 * The workload, run in a worker thread of its own: a fresh heap, so that its JSON figure
 * depends on the machine and not on what the benchmark left in this process's heap. Each
 * figure is the best of three timings (a pause elsewhere only ever slows one down); the
 * document is about 1 KiB, shaped like an event.
 */
const WORKLOAD = `
const { parentPort } = require("node:worker_threads");
const LOOP_STEPS = 10000000;
const JSON_ROUNDS = 5000;
const DOCUMENT = JSON.stringify({
  id: "00000000-0000-4000-8000-000000000001",
  source: "reference.workload",
  time: "2026-01-01T00:00:00Z",
  detail: {
    orderId: "o-1",
    total: 1234.56,
    tags: ["a", "b", "c"],
    items: Array.from({ length: 6 }, (_, k) => ({ sku: "SKU-" + k, qty: k + 1, price: k * 1.5 })),
    customer: { id: "c-1", tier: "gold", email: "user@example.com" },
    notes: "x".repeat(500),
  },
});
let sink = 0; // the loop's result is kept, so that the compiler cannot drop the loop
function loopNs() {
  const started = performance.now();
  let x = sink;
  for (let i = 0; i < LOOP_STEPS; i++) x = (x * 31 + i) | 0;
  sink = x;
  return ((performance.now() - started) * 1e6) / LOOP_STEPS;
}
function jsonMicrosPerKiB() {
  const started = performance.now();
  let length = 0;
  for (let i = 0; i < JSON_ROUNDS; i++) length += JSON.stringify(JSON.parse(DOCUMENT)).length;
  sink ^= length;
  return ((performance.now() - started) * 1000) / JSON_ROUNDS / (DOCUMENT.length / 1024);
}
function best(timing) {
  let fastest = Infinity;
  for (let i = 0; i < 3; i++) fastest = Math.min(fastest, timing());
  return Math.round(fastest * 1000) / 1000;
}
parentPort.postMessage({ loopNsPerStep: best(loopNs), jsonMicrosPerKiB: best(jsonMicrosPerKiB) });
`;

/** Times the reference workload now, in a worker thread (about 0.3 s on a slow machine). */
export function measureMachineSpeed(): Promise<MachineSpeed> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKLOAD, { eval: true });
    worker.once("message", (speed: MachineSpeed) => {
      resolve(speed);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the reference workload exited with ${code}`)));
  });
}

/** Runs `run` between two timings of the reference workload. */
export async function withMachineSpeed<T>(
  run: () => Promise<T>,
): Promise<{ result: T; machineSpeed: MachineSpeedAround }> {
  const before = await measureMachineSpeed();
  const result = await run();
  return { result, machineSpeed: { before, after: await measureMachineSpeed() } };
}

/** The human line for a benchmark's output. */
export function machineSpeedLine({ before, after }: MachineSpeedAround): string {
  return (
    `machine speed (reference workload, lower is faster): loop ${before.loopNsPerStep} ns/step, ` +
    `JSON ${before.jsonMicrosPerKiB} µs/KiB before; ${after.loopNsPerStep} / ` +
    `${after.jsonMicrosPerKiB} after`
  );
}
