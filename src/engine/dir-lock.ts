import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { SluiceError, isSluiceError } from "../errors/index.js";
import { type Clock, systemClock } from "../time/index.js";
import type { FileSystem } from "./file-system.js";

const LOCK_FILE = ".lock";
/** Appended to a file's name to make the mutex that serialises taking that file over. */
const TAKEOVER_SUFFIX = ".takeover";
/** `.lock`, `.lock.takeover`, `.lock.takeover.takeover`, ...: how deep stale mutexes may nest. */
const MAX_TAKEOVER_DEPTH = 4;
/** How long an opener waits for another live opener that is in the middle of a takeover. */
const TAKEOVER_WAIT_MS = 5_000;
const TAKEOVER_POLL_MS = 5;
/**
 * Temporary files this code writes: `.lock.<pid>-<unique>.new`. Not `.tmp`: a log's recovery
 * removes those, and so would pull the file from under an opener still racing for the lock.
 */
const TEMP_NAME = /^\.lock\.(\d+)-[0-9a-f]+\.new$/;

/** `<pid>:<dir>` of the directories this process holds or is acquiring, per file system. */
const heldByThisProcess = new WeakMap<FileSystem, Set<string>>();

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface DirLockOptions {
  /** The pid written into the lock (default this process); tests race several "processes". */
  readonly pid?: number;
  /** Whether a pid names a running process (default: signal 0). */
  readonly isAlive?: (pid: number) => boolean;
  /** Paces the wait for another opener's takeover. */
  readonly clock?: Clock;
  /** What the directory is, in errors (default "log"; `open(dir)` says "data directory"). */
  readonly what?: string;
}

/** What a lock (or takeover mutex) file says about its holder. */
type Holder = { readonly live: true; readonly pid: number } | { readonly live: false };

/**
 * One writer per directory: a `.lock` file holding the writer's pid. A lock left by a dead
 * process (a crash), or an empty or garbled one from older versions, is taken over; a live
 * holder gets a SLUICE_LOCKED error naming its pid.
 *
 * The file is never visible empty or partial: the pid is written to a uniquely named temporary
 * file, synced, and published with an exclusive `link`, so exactly one of several openers
 * creates `.lock`. Taking over a stale lock is serialised by a mutex file `.lock.takeover`,
 * published the same exclusive way: its holder re-reads `.lock` and replaces it only if it
 * still holds the same stale contents, so two openers racing on a stale lock cannot both win.
 * A mutex whose holder died is itself stale and is taken over the same way one level deeper
 * (`.lock.takeover.takeover`), up to MAX_TAKEOVER_DEPTH levels.
 *
 * What is left: liveness is judged by pid, so the lock protects one host only, and a dead
 * holder's pid reused by an unrelated process makes the lock look held (a refusal, never a
 * second writer). A process dying inside a takeover leaves its `.lock.takeover` file behind;
 * the next opener breaks it one level deeper, and after MAX_TAKEOVER_DEPTH such deaths on the
 * same directory opening refuses, naming the file to remove by hand.
 */
export class DirLock {
  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    /** `<pid>:<dir>`, this lock's entry in `heldByThisProcess`. */
    private readonly claim: string,
  ) {}

  /** Takes the directory's lock, or fails with SLUICE_LOCKED naming the live holder. */
  static async acquire(
    fs: FileSystem,
    dir: string,
    options: DirLockOptions = {},
  ): Promise<DirLock> {
    const held = heldByThisProcess.get(fs) ?? new Set<string>();
    heldByThisProcess.set(fs, held);
    const pid = options.pid ?? process.pid;
    // Keyed by pid too: tests play several processes on one file system.
    const claim = `${pid}:${dir}`;
    if (held.has(claim)) throw lockedError(options.what ?? "log", dir, pid);
    // Claimed before the first await: a second opener in this process must see it at once,
    // since the lock file alone cannot tell it apart (its own pid reads as a dead incarnation).
    held.add(claim);
    try {
      await new Takeover(fs, dir, pid, options).run();
    } catch (error) {
      held.delete(claim);
      throw error;
    }
    return new DirLock(fs, dir, claim);
  }

  /** Removes the lock: the directory is free for the next opener. */
  release(): void {
    heldByThisProcess.get(this.fs)?.delete(this.claim);
    this.fs.unlink(join(this.dir, LOCK_FILE));
  }

  /** Forgets the lock without removing the file, as a crashed process would. */
  abandon(): void {
    heldByThisProcess.get(this.fs)?.delete(this.claim);
  }
}

/** One opener's attempt to take a directory's lock. */
class Takeover {
  private readonly lockPath: string;
  private readonly isAlive: (pid: number) => boolean;
  private readonly clock: Clock;
  private readonly what: string;
  /** A synced file holding our pid, linked under every name we publish. */
  private temp: string | undefined;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly pid: number,
    options: DirLockOptions,
  ) {
    this.lockPath = join(dir, LOCK_FILE);
    this.isAlive = options.isAlive ?? isRunning;
    this.clock = options.clock ?? systemClock;
    this.what = options.what ?? "log";
  }

  async run(): Promise<void> {
    const deadline = this.clock.now() + TAKEOVER_WAIT_MS;
    try {
      await this.writeTemp();
      for (;;) {
        if (this.publish(this.lockPath)) break;
        const seen = this.read(this.lockPath);
        if (seen === undefined) continue; // released meanwhile: try again
        const holder = this.holder(seen);
        if (holder.live) throw lockedError(this.what, this.dir, holder.pid);
        const outcome = await this.replaceStale(this.lockPath, seen, 1);
        if (outcome === "replaced") break;
        // Another opener is taking over (or just did): look again shortly.
        if (this.clock.now() >= deadline) throw this.stuckError();
        await this.clock.sleep(TAKEOVER_POLL_MS);
      }
    } finally {
      if (this.temp !== undefined) this.fs.unlink(this.temp);
    }
    this.removeDeadTemps();
    // The new `.lock` entry must survive a power loss before anything relies on the lock.
    await this.fs.syncDir(this.dir);
  }

  /**
   * Replaces `path`, seen holding the stale `seen`, by our own file, under the mutex
   * `path + ".takeover"`. "busy": someone else holds the mutex or changed `path` first.
   */
  private async replaceStale(
    path: string,
    seen: Buffer,
    depth: number,
  ): Promise<"replaced" | "busy"> {
    const mutex = path + TAKEOVER_SUFFIX;
    if (!this.publish(mutex)) {
      const mutexHolder = this.read(mutex);
      if (mutexHolder === undefined || this.holder(mutexHolder).live) return "busy";
      // Its holder died inside a takeover: take the mutex over, one level deeper.
      if (depth >= MAX_TAKEOVER_DEPTH) throw this.stuckError(mutex);
      if ((await this.replaceStale(mutex, mutexHolder, depth + 1)) === "busy") return "busy";
    }
    try {
      // Under the mutex nobody else replaces `path`; but it may have changed before we got it.
      const current = this.read(path);
      if (current === undefined || !current.equals(seen)) return "busy";
      this.fs.unlink(path);
      // A plain publish by a newcomer may land in between: then it is theirs, fairly won.
      return this.publish(path) ? "replaced" : "busy";
    } finally {
      this.fs.unlink(mutex);
    }
  }

  private async writeTemp(): Promise<void> {
    const temp = join(this.dir, `${LOCK_FILE}.${this.pid}-${randomBytes(6).toString("hex")}.new`);
    const handle = this.fs.open(temp, "create-exclusive");
    this.temp = temp;
    try {
      handle.write(Buffer.from(String(this.pid)), 0);
      await handle.sync(); // a torn pid could name a live stranger after a crash
    } finally {
      handle.close();
    }
  }

  /** Gives `path` our complete, synced contents if nothing is there; false if something is. */
  private publish(path: string): boolean {
    try {
      this.fs.link(this.temp!, path);
      return true;
    } catch (error) {
      if (isSluiceError(error, "SLUICE_ALREADY_EXISTS")) return false;
      throw error;
    }
  }

  /** The file's contents, or undefined when it does not exist. */
  private read(path: string): Buffer | undefined {
    try {
      return this.fs.readFile(path);
    } catch (error) {
      if (isSluiceError(error, "SLUICE_NOT_FOUND")) return undefined;
      throw error;
    }
  }

  private holder(contents: Buffer): Holder {
    const text = contents.toString("utf8");
    if (!/^\s*\d+\s*$/.test(text)) return { live: false }; // empty or garbled: a legacy lock
    const pid = Number(text);
    // Our own pid is a previous incarnation of this process (this one does not hold the lock).
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === this.pid || !this.isAlive(pid))
      return { live: false };
    return { live: true, pid };
  }

  /** Temporary files of openers that died between writing and removing them. */
  private removeDeadTemps(): void {
    for (const name of this.fs.list(this.dir)) {
      const pid = Number(TEMP_NAME.exec(name)?.[1]);
      if (Number.isSafeInteger(pid) && pid !== this.pid && !this.isAlive(pid))
        this.fs.unlink(join(this.dir, name));
    }
  }

  private stuckError(mutex = this.lockPath + TAKEOVER_SUFFIX): SluiceError {
    const holder = this.read(mutex);
    const pid = holder === undefined ? undefined : Number(holder.toString("utf8"));
    return new SluiceError(
      "SLUICE_LOCKED",
      `${this.what} ${this.dir}: taking over its stale lock did not finish` +
        (pid !== undefined && Number.isSafeInteger(pid) ? ` (held by process ${pid})` : "") +
        `; if no process uses the ${this.what}, remove ${mutex}`,
      { details: { dir: this.dir, pid, file: mutex } },
    );
  }
}

function lockedError(what: string, dir: string, pid: number): SluiceError {
  return new SluiceError(
    "SLUICE_LOCKED",
    `${what} ${dir} is already open for writing by ${pid === process.pid ? "this process" : `process ${pid}`}`,
    { details: { dir, pid } },
  );
}
