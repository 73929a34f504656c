import { join } from "node:path";
import { SluiceError, isSluiceError } from "../errors/index.js";
import type { FileSystem } from "./file-system.js";

const LOCK_FILE = ".lock";
/** Directories this process holds, per file system (the simulated one is per instance). */
const heldByThisProcess = new WeakMap<FileSystem, Set<string>>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One writer per log: a `.lock` file holding the writer's pid. A lock left by a dead process
 * (a crash) is taken over; a live holder gets a SLUICE_LOCKED error naming its pid.
 */
export class DirLock {
  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
  ) {}

  static async acquire(fs: FileSystem, dir: string): Promise<DirLock> {
    const held = heldByThisProcess.get(fs) ?? new Set<string>();
    heldByThisProcess.set(fs, held);
    const path = join(dir, LOCK_FILE);
    if (held.has(dir)) throw lockedError(dir, process.pid);
    try {
      const handle = fs.open(path, "create-exclusive");
      handle.write(Buffer.from(String(process.pid)), 0);
      await handle.sync(); // a torn pid could name a live stranger after a crash
      handle.close();
    } catch (error) {
      if (!isSluiceError(error, "SLUICE_ALREADY_EXISTS")) throw error;
      const holder = Number(fs.readFile(path).toString("utf8").trim());
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder))
        throw lockedError(dir, holder);
      // Stale: its writer died. Take it over.
      const handle = fs.open(path, "write");
      handle.truncate(0);
      handle.write(Buffer.from(String(process.pid)), 0);
      await handle.sync();
      handle.close();
    }
    held.add(dir);
    return new DirLock(fs, dir);
  }

  release(): void {
    heldByThisProcess.get(this.fs)?.delete(this.dir);
    this.fs.unlink(join(this.dir, LOCK_FILE));
  }

  /** Forgets the lock without removing the file, as a crashed process would. */
  abandon(): void {
    heldByThisProcess.get(this.fs)?.delete(this.dir);
  }
}

function lockedError(dir: string, pid: number): SluiceError {
  return new SluiceError(
    "SLUICE_LOCKED",
    `log ${dir} is already open for writing by process ${pid}`,
    { details: { dir, pid } },
  );
}
