/**
 * Where a group commit's fdatasync runs: on the event loop (blocking it for the call) or on
 * libuv's thread pool (the default for file I/O in Node).
 *
 * On the pool, every commit pays two thread handoffs and wake-ups around the call (costly on
 * virtual machines), and under `fsync: "always"` with one busy log little else waits to run
 * meanwhile: its callers are waiting for that very commit. Measured here with one log and four
 * appenders of ten records: 127 K records/s on the pool, 150-155 K on the event loop; `bench
 * queue --fsync always` 49-63 K against 80-83 K messages/s. With several logs committing at
 * once the pool wins (their fdatasyncs overlap there, where on the event loop they queue):
 * 166 K against 113 K with four logs, 204 K against 106 K with sixteen. And a slow device would
 * stall the event loop for as long as each call takes. So a commit runs on the event loop only
 * while its log is the only one committing (no other log committed within
 * `concurrencyWindowMs`) and the device is fast (no call on the event loop took `slowMs` or more
 * within the last `slowHoldMs`; this disk has spikes of 2-3 ms a few times a second, which a
 * lower bar would keep sending to the pool).
 */
export class FsyncPlacement {
  private lastCommitter: object | undefined;
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  private previousCommitter: object | undefined;
  private previousCommitAt = Number.NEGATIVE_INFINITY;
  private poolUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly concurrencyWindowMs = 10,
    private readonly slowMs = 10,
    private readonly slowHoldMs = 1000,
  ) {}

  /** Records that `log` starts a commit; true when its fdatasync should run on the event loop. */
  onEventLoop(log: object): boolean {
    const now = this.now();
    const othersActive =
      (this.lastCommitter !== log && now - this.lastCommitAt < this.concurrencyWindowMs) ||
      (this.previousCommitter !== log && now - this.previousCommitAt < this.concurrencyWindowMs);
    if (this.lastCommitter !== log) {
      this.previousCommitter = this.lastCommitter;
      this.previousCommitAt = this.lastCommitAt;
      this.lastCommitter = log;
    }
    this.lastCommitAt = now;
    return !othersActive && now >= this.poolUntil;
  }

  /** Reports how long an fdatasync on the event loop took: a slow one sends the next to the pool. */
  tookMs(ms: number): void {
    if (ms >= this.slowMs) this.poolUntil = this.now() + this.slowHoldMs;
  }
}

/** One per process: the logs share the device, and each other's commits are what they race. */
export const fsyncPlacement = new FsyncPlacement();
