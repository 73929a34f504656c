import * as fs from "node:fs";
import { dirname } from "node:path";
import { SluiceError } from "../errors/index.js";

/**
 * An open file. Reads and writes are synchronous page-cache operations (fast, and they keep
 * the engine's state changes atomic on the event loop); only `sync` waits for the device.
 */
export interface FileHandle {
  readonly path: string;
  size(): number;
  /** Reads up to `length` bytes at `position` into `target`; returns the bytes read. */
  read(target: Buffer, targetOffset: number, length: number, position: number): number;
  /** Writes all of `source` at `position`. */
  write(source: Buffer, position: number): void;
  /**
   * Flushes written data to the device (fdatasync). With `onEventLoop`, the call blocks the
   * event loop instead of running on the thread pool (see `FsyncPlacement`); the promise is
   * settled when it returns.
   */
  sync(options?: SyncOptions): Promise<void>;
  truncate(length: number): void;
  close(): void;
}

export interface SyncOptions {
  readonly onEventLoop?: boolean;
}

export type OpenMode = "read" | "write" | "create-exclusive";

/**
 * The engine's whole view of storage. `NodeFileSystem` is the real disk; `SimulatedFileSystem`
 * keeps files in memory and can fail fsyncs, tear writes, fill the disk and crash.
 */
export interface FileSystem {
  /** Opens a file; "write" creates it if missing, "create-exclusive" fails if it exists. */
  open(path: string, mode: OpenMode): FileHandle;
  exists(path: string): boolean;
  /** Names (not paths) of the entries in a directory. */
  list(dir: string): string[];
  mkdir(dir: string): void;
  rename(from: string, to: string): void;
  /** Adds a second name for an existing file; fails with SLUICE_ALREADY_EXISTS if `to` exists. */
  link(existing: string, to: string): void;
  unlink(path: string): void;
  /**
   * Removes a file off the event loop (no error if it is missing): freeing a large file's
   * blocks can take the kernel a while, and nothing on the loop should wait for that.
   */
  unlinkAsync(path: string): Promise<void>;
  /**
   * Removes a directory and everything in it (no error if it is missing). The name is free when
   * the call returns, so the same name can be created again at once; the contents are freed off
   * the event loop (a large log can take the kernel a while), and the promise settles then. A
   * crash before that leaves a `~removing` sibling that no valid name can equal.
   */
  removeDir(dir: string): Promise<void>;
  readFile(path: string): Buffer;
  /** Replaces a small file atomically and durably (write a temporary, sync, rename, sync the directory). */
  writeFileAtomic(path: string, data: Buffer): Promise<void>;
  /** Makes entries created, renamed or removed in `dir` durable. */
  syncDir(dir: string): Promise<void>;
}

function ioError(op: string, path: string, cause: unknown): SluiceError {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === "EEXIST")
    return new SluiceError("SLUICE_ALREADY_EXISTS", `${op} ${path}: already exists`, {
      cause,
      details: { path },
    });
  if (code === "ENOENT")
    return new SluiceError("SLUICE_NOT_FOUND", `${op} ${path}: no such file or directory`, {
      cause,
      details: { path },
    });
  // Node's message repeats the call and the path ("ENOTDIR: not a directory, scandir 'x'"):
  // keep only what it adds.
  const reason = (cause as Error).message.replace(/, \w+ '.*'$/, "");
  return new SluiceError("SLUICE_IO", `${op} ${path}: ${reason}`, {
    cause,
    details: { path, errno: code },
  });
}

function wrap<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    throw ioError(op, path, cause);
  }
}

class NodeFileHandle implements FileHandle {
  private open = true;
  constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  /**
   * The descriptor, or an error once closed: after close the number may already belong to
   * another file, so a late read, write or fsync must never reach it.
   */
  private descriptor(op: string): number {
    if (!this.open)
      throw new SluiceError("SLUICE_IO", `${op} ${this.path}: the file handle is closed`, {
        details: { path: this.path, errno: "EBADF" },
      });
    return this.fd;
  }

  size(): number {
    return wrap("stat", this.path, () => fs.fstatSync(this.descriptor("stat")).size);
  }

  read(target: Buffer, targetOffset: number, length: number, position: number): number {
    const fd = this.descriptor("read");
    return wrap("read", this.path, () => fs.readSync(fd, target, targetOffset, length, position));
  }

  write(source: Buffer, position: number): void {
    const fd = this.descriptor("write");
    wrap("write", this.path, () => {
      let done = 0;
      while (done < source.length)
        done += fs.writeSync(fd, source, done, source.length - done, position + done);
    });
  }

  sync(options?: SyncOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const fd = this.descriptor("fsync");
      if (options?.onEventLoop !== true) {
        fs.fdatasync(fd, (error) =>
          error ? reject(ioError("fsync", this.path, error)) : resolve(),
        );
        return;
      }
      try {
        fs.fdatasyncSync(fd);
        resolve();
      } catch (error) {
        reject(ioError("fsync", this.path, error));
      }
    });
  }

  truncate(length: number): void {
    const fd = this.descriptor("truncate");
    wrap("truncate", this.path, () => fs.ftruncateSync(fd, length));
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    wrap("close", this.path, () => fs.closeSync(this.fd));
  }
}

/** The real file system through `node:fs`. */
export class NodeFileSystem implements FileSystem {
  open(path: string, mode: OpenMode): FileHandle {
    const flags =
      mode === "read" ? "r" : mode === "write" ? fs.constants.O_RDWR | fs.constants.O_CREAT : "wx+";
    return new NodeFileHandle(
      path,
      wrap("open", path, () => fs.openSync(path, flags, 0o644)),
    );
  }

  exists(path: string): boolean {
    return fs.existsSync(path);
  }

  list(dir: string): string[] {
    return wrap("list", dir, () => fs.readdirSync(dir));
  }

  mkdir(dir: string): void {
    wrap("mkdir", dir, () => fs.mkdirSync(dir, { recursive: true }));
  }

  rename(from: string, to: string): void {
    wrap("rename", from, () => fs.renameSync(from, to));
  }

  link(existing: string, to: string): void {
    wrap("link", to, () => fs.linkSync(existing, to));
  }

  private removingCounter = 0;

  removeDir(dir: string): Promise<void> {
    // "~" is in no queue, topic, bus or archive name, so the moved-away copy never collides.
    const doomed = `${dir}~removing-${process.pid}-${this.removingCounter++}`;
    try {
      fs.renameSync(dir, doomed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return Promise.resolve();
      return Promise.reject(ioError("removeDir", dir, error));
    }
    return fs.promises.rm(doomed, { recursive: true, force: true }).catch((error: unknown) => {
      throw ioError("removeDir", dir, error);
    });
  }

  unlink(path: string): void {
    // A plain unlink: rmSync walks a file through its recursive remover, several times dearer.
    wrap("unlink", path, () => {
      try {
        fs.unlinkSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    });
  }

  unlinkAsync(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.unlink(path, (error) => {
        if (error === null || error.code === "ENOENT") resolve();
        else reject(ioError("unlink", path, error));
      });
    });
  }

  readFile(path: string): Buffer {
    return wrap("read", path, () => fs.readFileSync(path));
  }

  private tmpCounter = 0;

  async writeFileAtomic(path: string, data: Buffer): Promise<void> {
    // A unique temporary name, so concurrent writers of one file never rename each other's.
    const tmp = `${path}.${process.pid}-${this.tmpCounter++}.tmp`;
    const handle = this.open(tmp, "write");
    try {
      handle.truncate(0);
      handle.write(data, 0);
      await handle.sync();
    } finally {
      handle.close();
    }
    this.rename(tmp, path);
    await this.syncDir(dirname(path));
  }

  syncDir(dir: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.open(dir, "r", (openError, fd) => {
        if (openError) return reject(ioError("open", dir, openError));
        fs.fsync(fd, (syncError) => {
          fs.close(fd, () => (syncError ? reject(ioError("fsync", dir, syncError)) : resolve()));
        });
      });
    });
  }
}

export const nodeFileSystem: FileSystem = new NodeFileSystem();

/**
 * Creates `dir` and any missing parents, then fsyncs the parent of each directory it created,
 * top down, so the new entries survive a power loss before anything inside them is acknowledged.
 * A file where the directory (or one of its parents) should be is bad input naming `field`.
 * Returns the directories it created, outermost first (none if `dir` existed), which
 * `removeCreatedDirectories` removes again when what was opened in them fails.
 */
export async function makeDirectory(
  fs: FileSystem,
  dir: string,
  field = "dir",
): Promise<readonly string[]> {
  const created: string[] = [];
  let d = dir;
  for (; !fs.exists(d) && dirname(d) !== d; d = dirname(d)) created.unshift(d);
  try {
    fs.list(d);
  } catch (cause) {
    throw new SluiceError("SLUICE_VALIDATION", `${field}: ${d} is not a directory`, {
      field,
      cause,
    });
  }
  if (created.length === 0) return created;
  fs.mkdir(dir);
  for (const c of created) await fs.syncDir(dirname(c));
  return created;
}

/**
 * Undoes `makeDirectory` after a failure: removes the innermost directory it created, with
 * everything in it, then the parents it created, innermost first, each only while it is empty
 * (another caller may have put something beside it meanwhile).
 */
export async function removeCreatedDirectories(
  fs: FileSystem,
  created: readonly string[],
): Promise<void> {
  const innermost = created.at(-1);
  if (innermost === undefined) return;
  await fs.removeDir(innermost);
  for (const parent of created.slice(0, -1).reverse()) {
    if (!fs.exists(parent) || fs.list(parent).length > 0) return;
    await fs.removeDir(parent);
  }
}
