import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FsyncPolicy } from "../engine/index.js";

/** What every engine's warm-up takes (see `warmUpQueues` and `warmUpTopics`). */
export interface WarmUpOptions {
  /**
   * The durability the real service uses, so that its code paths are the ones warmed (default:
   * the service's own).
   */
  readonly fsync?: FsyncPolicy;
  /** Stop sooner once this much time has passed (default 2,000 ms). */
  readonly budgetMs?: number;
  /** Where the throwaway directory is made (default: the system's temporary directory). */
  readonly parentDir?: string;
}

/** Milliseconds left of a warm-up's time budget (0 or less: stop). */
export type TimeLeft = () => number;

/**
 * Runs `warm` on a throwaway directory, removed afterwards whatever happens, with the time left
 * of `budgetMs`, which it heeds.
 */
export async function inThrowawayDirectory<T>(
  options: WarmUpOptions,
  warm: (dir: string, timeLeft: TimeLeft) => Promise<T>,
): Promise<T> {
  const deadline = performance.now() + (options.budgetMs ?? 2_000);
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), "sluice-warm-up-"));
  try {
    return await warm(dir, () => deadline - performance.now());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
