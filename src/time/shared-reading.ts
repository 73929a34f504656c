/**
 * A clock reading shared by the calls of one synchronous run, up to `maxUses` of them: the
 * first call reads `read()`, later ones get the same value until `maxUses` calls used it or the
 * run ends (a microtask passes). On virtual machines whose clock is not readable from user
 * space a reading costs a system call, 0.15 to 0.5 µs here, as much as a record costs to send;
 * `maxUses` bounds how stale a reading gets in a long synchronous loop.
 */
export function sharedReading(read: () => number, maxUses: number): () => number {
  let value = 0;
  let uses = maxUses;
  let expiring = false;
  const expire = (): void => {
    uses = maxUses;
    expiring = false;
  };
  return () => {
    if (uses >= maxUses) {
      value = read();
      uses = 0;
      if (!expiring) {
        expiring = true;
        queueMicrotask(expire);
      }
    }
    uses++;
    return value;
  };
}
