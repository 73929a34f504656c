import type { VirtualClock } from "../../time/index.js";

/**
 * Lets background loops run for `ms` of virtual time: in steps of `stepMs`, a few event-loop
 * turns (for the work a timer started), then the clock.
 */
export async function settle(clock: VirtualClock, ms: number, stepMs: number): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(stepMs);
  }
}
