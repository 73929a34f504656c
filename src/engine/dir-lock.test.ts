import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { DirLock, type DirLockOptions } from "./dir-lock.js";
import type { FileSystem } from "./file-system.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

const DIR = "/log";
const LOCK = "/log/.lock";
const MUTEX = "/log/.lock.takeover";
const DEAD = 7001;
const LIVE = new Set([100, 101, 102, 103, 104, 105, 106, 107, 4242]);
/** Pids 1xx and 4242 are running "processes"; every other pid is dead. */
const isAlive = (pid: number): boolean => LIVE.has(pid);

/**
 * The simulated file system, with a hook that runs before each operation: a test plays
 * "another process" acting at a chosen step of an opener, and checks what others can see.
 */
function observedFs(before: (op: string, args: unknown[], fs: SimulatedFileSystem) => void): {
  fs: FileSystem;
  sim: SimulatedFileSystem;
} {
  const sim = new SimulatedFileSystem();
  sim.mkdir(DIR);
  const fs = new Proxy(sim, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]): unknown => {
        before(String(prop), args, target);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { fs, sim };
}

function simWithLock(contents: string | undefined): SimulatedFileSystem {
  const sim = new SimulatedFileSystem();
  sim.mkdir(DIR);
  if (contents !== undefined) sim.setRawFile(LOCK, Buffer.from(contents));
  return sim;
}

const text = (fs: FileSystem, path: string): string => fs.readFile(path).toString("utf8");
const lockFiles = (fs: FileSystem): string[] => fs.list(DIR).filter((n) => n.startsWith(".lock"));

async function race(fs: FileSystem, pids: number[], options: DirLockOptions = {}) {
  const outcomes = await Promise.all(
    pids.map((pid) =>
      DirLock.acquire(fs, DIR, { ...options, pid, isAlive }).then(
        (lock) => ({ pid, lock }),
        (error: unknown) => ({ pid, error }),
      ),
    ),
  );
  const winners = outcomes.filter((o) => "lock" in o).map((o) => o.pid);
  const refusals = outcomes.filter((o) => "error" in o).map((o) => (o as { error: unknown }).error);
  return { winners, refusals };
}

function expectLockedBy(error: unknown, pid: number): void {
  expect(isSluiceError(error, "SLUICE_LOCKED"), String(error)).toBe(true);
  expect((error as Error).message).toContain(`process ${pid}`);
  expect((error as { details: { pid: number } }).details.pid).toBe(pid);
}

describe("DirLock", () => {
  it("publishes the lock whole: `.lock` is never seen empty or partial, and the directory is synced after", async () => {
    const seen: string[] = [];
    let syncedWithLock = false;
    const { fs, sim } = observedFs((op) => {
      if (sim.exists(LOCK)) seen.push(text(sim, LOCK));
      if (op === "syncDir") syncedWithLock = sim.exists(LOCK);
    });
    const lock = await DirLock.acquire(fs, DIR, { pid: 4242, isAlive });
    expect(seen.length).toBeGreaterThan(0); // observed after it was published
    expect(new Set(seen)).toEqual(new Set(["4242"]));
    expect(syncedWithLock).toBe(true);
    expect(lockFiles(sim)).toEqual([".lock"]); // the temporary file is gone
    sim.crash(); // written through a synced file: the pid survives a crash as is
    expect(text(sim, LOCK)).toBe("4242");
    lock.release();
    expect(lockFiles(sim)).toEqual([]);
  });

  it("lets exactly one of several openers of a free directory win", async () => {
    const sim = simWithLock(undefined);
    const { winners, refusals } = await race(sim, [100, 101, 102, 103]);
    expect(winners).toHaveLength(1);
    for (const error of refusals) expectLockedBy(error, winners[0]!);
    expect(text(sim, LOCK)).toBe(String(winners[0]));
  });

  it.each([
    ["a dead process's pid", String(DEAD)],
    ["an empty legacy file", ""],
    ["garbage", "not a pid\u0000"],
  ])(
    "lets exactly one of 8 racing openers take over a lock holding %s",
    async (_label, contents) => {
      const sim = simWithLock(contents);
      const { winners, refusals } = await race(sim, [100, 101, 102, 103, 104, 105, 106, 107]);
      expect(winners).toHaveLength(1);
      expect(refusals).toHaveLength(7);
      for (const error of refusals) expectLockedBy(error, winners[0]!);
      expect(text(sim, LOCK)).toBe(String(winners[0]));
      expect(lockFiles(sim)).toEqual([".lock"]);
    },
  );

  it("refuses a live holder and leaves its lock alone", async () => {
    const sim = simWithLock("4242");
    const { refusals } = await race(sim, [100]);
    expectLockedBy(refusals[0], 4242);
    expect(text(sim, LOCK)).toBe("4242");
    expect(lockFiles(sim)).toEqual([".lock"]);
  });

  it("does not replace a lock another opener took over after this one saw it stale", async () => {
    // Opener 100 reads the dead pid, then, just as it claims the takeover mutex, opener 4242
    // completes its own takeover: 100 must re-read `.lock` under the mutex and back off.
    let interfered = false;
    const { fs, sim } = observedFs((op, args, target) => {
      if (op === "link" && args[1] === MUTEX && !interfered) {
        interfered = true;
        target.unlink(LOCK);
        target.setRawFile(LOCK, Buffer.from("4242"));
      }
    });
    sim.setRawFile(LOCK, Buffer.from(String(DEAD)));
    const { refusals } = await race(fs, [100]);
    expect(interfered).toBe(true);
    expectLockedBy(refusals[0], 4242);
    expect(text(sim, LOCK)).toBe("4242");
    expect(lockFiles(sim)).toEqual([".lock"]);
  });

  it("waits for a live opener in the middle of a takeover, then names it as the holder", async () => {
    const sim = simWithLock(String(DEAD));
    sim.setRawFile(MUTEX, Buffer.from("4242"));
    const clock = new VirtualClock();
    const outcome = race(sim, [100], { clock });
    await clock.advance(20);
    // 4242 finishes its takeover.
    sim.unlink(LOCK);
    sim.setRawFile(LOCK, Buffer.from("4242"));
    sim.unlink(MUTEX);
    await clock.advance(20);
    const { refusals } = await outcome;
    expectLockedBy(refusals[0], 4242);
  });

  it("gives up on a takeover mutex whose live holder never finishes, naming the file", async () => {
    const sim = simWithLock(String(DEAD));
    sim.setRawFile(MUTEX, Buffer.from("4242"));
    const clock = new VirtualClock();
    const outcome = race(sim, [100], { clock });
    await clock.advance(10_000);
    const { refusals } = await outcome;
    expect(isSluiceError(refusals[0], "SLUICE_LOCKED")).toBe(true);
    expect((refusals[0] as Error).message).toContain(MUTEX);
    expect((refusals[0] as Error).message).toContain("process 4242");
    expect(text(sim, LOCK)).toBe(String(DEAD));
  });

  it("takes over a takeover mutex whose holder died inside the takeover, one level deeper", async () => {
    const sim = simWithLock(String(DEAD));
    sim.setRawFile(MUTEX, Buffer.from("7002")); // died holding the mutex
    sim.setRawFile(MUTEX + ".takeover", Buffer.from("7003")); // and so did the one after it
    const { winners, refusals } = await race(sim, [100, 101, 102, 103]);
    expect(winners).toHaveLength(1);
    for (const error of refusals) expectLockedBy(error, winners[0]!);
    expect(text(sim, LOCK)).toBe(String(winners[0]));
    expect(lockFiles(sim)).toEqual([".lock"]);
  });

  it("removes temporary files of openers that died, and keeps those of live ones", async () => {
    const sim = simWithLock(String(DEAD));
    sim.setRawFile(`${DIR}/.lock.7004-abcdef.new`, Buffer.from("7004"));
    sim.setRawFile(`${DIR}/.lock.4242-abcdef.new`, Buffer.from("4242"));
    const { winners } = await race(sim, [100]);
    expect(winners).toEqual([100]);
    expect(lockFiles(sim)).toEqual([".lock", ".lock.4242-abcdef.new"]);
  });

  it("refuses a second acquire in the same process while it holds the lock", async () => {
    const sim = simWithLock(undefined);
    const lock = await DirLock.acquire(sim, DIR);
    await expect(DirLock.acquire(sim, DIR)).rejects.toMatchObject({ code: "SLUICE_LOCKED" });
    lock.abandon(); // as a crash would: the file stays, naming this process, which is now stale
    const again = await DirLock.acquire(sim, DIR);
    expect(text(sim, LOCK)).toBe(String(process.pid));
    again.release();
  });

  it("lets one of two concurrent acquires in the same process win, and frees the claim of a failed one", async () => {
    const sim = simWithLock(undefined);
    const [a, b] = await Promise.allSettled([DirLock.acquire(sim, DIR), DirLock.acquire(sim, DIR)]);
    expect([a.status, b.status].sort()).toEqual(["fulfilled", "rejected"]);
    const refused = (a.status === "rejected" ? a : b) as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "SLUICE_LOCKED" });
    ((a.status === "fulfilled" ? a : b) as PromiseFulfilledResult<DirLock>).value.release();
    // An acquire that fails for another reason (the directory is gone) leaves no claim behind.
    const gone = new SimulatedFileSystem();
    await expect(DirLock.acquire(gone, DIR)).rejects.toThrow();
    gone.mkdir(DIR);
    (await DirLock.acquire(gone, DIR)).release();
  });
});
