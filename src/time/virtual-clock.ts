import { type Clock, type Timer, type TimerOptions, sleepOn } from "./clock.js";

interface PendingTimer {
  readonly dueAt: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Timers fire in due order (ties in creation order), and
 * `advance` lets promise chains settle between timers, so async code observes time as it would
 * in real life, only faster and reproducibly.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: PendingTimer[] = [];
  private readonly settleHooks = new Set<() => Promise<void>>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const timer: PendingTimer = {
      dueAt: this.current + Math.max(0, delayMs),
      seq: this.seq++,
      callback,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  sleep(delayMs: number, signal?: AbortSignal, options?: TimerOptions): Promise<void> {
    return sleepOn(this, delayMs, signal, options);
  }

  /** Number of timers still waiting to fire. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Makes `advance` also wait for `hook` each time it lets work settle: work that is not on
   * this process's promise queue (a request in flight to a server in the same process) then
   * settles before time moves on. Returns a function that removes the hook.
   */
  addSettleHook(hook: () => Promise<void>): () => void {
    this.settleHooks.add(hook);
    return () => this.settleHooks.delete(hook);
  }

  /** Moves time forward by `ms`, firing due timers in order and settling promises after each. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await this.settle();
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next.dueAt > target) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.current = Math.max(this.current, next.dueAt);
      next.callback();
      await this.settle();
    }
    this.current = target;
    await this.settle();
  }

  /** Moves to an absolute time (never backwards). */
  async advanceTo(timeMs: number): Promise<void> {
    await this.advance(Math.max(0, timeMs - this.current));
  }

  /** Fires every pending timer (including ones they schedule), up to `limit` timers. */
  async runAll(limit = 100_000): Promise<void> {
    for (let i = 0; i < limit; i++) {
      const next = this.nextDue();
      if (next === undefined) return;
      await this.advanceTo(next.dueAt);
    }
  }

  private async settle(): Promise<void> {
    await settle();
    for (const hook of this.settleHooks) await hook();
  }

  private nextDue(): PendingTimer | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (
        best === undefined ||
        t.dueAt < best.dueAt ||
        (t.dueAt === best.dueAt && t.seq < best.seq)
      )
        best = t;
    }
    return best;
  }
}

/** Lets already-queued promise continuations run (several turns, for chains of awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
