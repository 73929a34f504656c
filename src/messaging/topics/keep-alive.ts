/**
 * Keeps the process alive while an awaited promise depends on a clock timer (the clock's own
 * timers are unref'd, being meant for background work): a plain script awaiting a linger or a
 * long poll must not exit in the middle. Returns the release function.
 */
export function keepProcessAlive(): () => void {
  const handle = setInterval(() => undefined, 1 << 30);
  return () => clearInterval(handle);
}
