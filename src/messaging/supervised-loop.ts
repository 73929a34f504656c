import { asError } from "../errors/index.js";
import type { Clock } from "../time/index.js";

export interface SupervisedLoopOptions {
  readonly clock: Clock;
  /** Ends the supervision (and the loop, which is expected to watch it too). */
  readonly signal: AbortSignal;
  /** Pause before the loop runs again after a failure. */
  readonly restartDelayMs: number;
  readonly onFailure?: (error: Error) => void;
}

/**
 * Runs a background loop (a subscription's deliveries, a bus's dispatcher) until `signal`
 * aborts, and runs it again, after a pause, when it fails in a way it did not expect (a read
 * the disk refused, a corrupt segment). Such a failure is then never left as an unhandled
 * rejection, which ends a Node process, and the loop does not stop for good. The loop resumes
 * from its own saved position, so what it was doing is done again: at least once, as after a
 * crash.
 */
export async function superviseLoop(
  loop: () => Promise<void>,
  options: SupervisedLoopOptions,
): Promise<void> {
  const { clock, signal, restartDelayMs, onFailure } = options;
  while (!signal.aborted) {
    try {
      await loop();
      return;
    } catch (error) {
      if (signal.aborted) return;
      onFailure?.(asError(error));
    }
    try {
      await clock.sleep(restartDelayMs, signal, { keepAlive: false });
    } catch {
      return; // aborted
    }
  }
}
