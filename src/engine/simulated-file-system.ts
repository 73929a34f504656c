import { basename, dirname } from "node:path";
import { SluiceError, asError } from "../errors/index.js";
import type { FileHandle, FileSystem, OpenMode } from "./file-system.js";

/** A small seeded PRNG (mulberry32) so simulated crashes are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimFile {
  data: Buffer;
  length: number;
  /** What the device holds: the contents at the last successful sync. */
  durable: Buffer;
}

export interface CrashOptions {
  /** Keep a random prefix of each file's unsynced bytes, as a torn write would (default true). */
  readonly keepRandomUnsyncedPrefix?: boolean;
}

/**
 * An in-memory file system for deterministic durability tests. Everything written but not
 * synced is lost (or torn) by `crash()`. Directory operations are treated as durable at once.
 */
export class SimulatedFileSystem implements FileSystem {
  private files = new Map<string, SimFile>();
  private dirs = new Set<string>(["/"]);
  private generation = 0;
  private syncFailures = 0;
  private tornWrite: number | undefined;
  private readonly random: () => number;
  /** Total bytes the disk holds; writes beyond fail with ENOSPC. */
  capacityBytes = Number.POSITIVE_INFINITY;
  syncCount = 0;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  /** The next `count` fsyncs fail with an I/O error (and sync nothing). */
  failNextSyncs(count = 1): void {
    this.syncFailures += count;
  }

  /** Disarms pending fsync failures and torn writes. */
  clearFaults(): void {
    this.syncFailures = 0;
    this.tornWrite = undefined;
  }

  /** The next write stores only its first `keepBytes` bytes, then fails. */
  tearNextWrite(keepBytes: number): void {
    this.tornWrite = keepBytes;
  }

  /** Drops everything not synced (keeping a random torn prefix by default); open handles die. */
  crash(options: CrashOptions = {}): void {
    const keepPrefix = options.keepRandomUnsyncedPrefix ?? true;
    this.generation++;
    for (const file of this.files.values()) {
      let keep = file.durable.length;
      if (keepPrefix && file.length > keep && file.data.subarray(0, keep).equals(file.durable)) {
        keep += Math.floor(this.random() * (file.length - keep + 1));
      }
      const restored = Buffer.alloc(Math.max(keep, 16));
      file.durable.copy(restored);
      if (keep > file.durable.length)
        file.data.copy(restored, file.durable.length, file.durable.length, keep);
      file.data = restored;
      file.length = keep;
      file.durable = Buffer.from(restored.subarray(0, keep));
    }
  }

  usedBytes(): number {
    let total = 0;
    for (const f of this.files.values()) total += f.length;
    return total;
  }

  /** Direct access for tests that corrupt bytes on "disk". */
  rawFile(path: string): Buffer {
    const file = this.must(path);
    return file.data.subarray(0, file.length);
  }

  /** Replaces a file's bytes (durably), as a test that damages a disk would. */
  setRawFile(path: string, bytes: Buffer): void {
    this.files.set(path, {
      data: Buffer.from(bytes),
      length: bytes.length,
      durable: Buffer.from(bytes),
    });
  }

  open(path: string, mode: OpenMode): FileHandle {
    if (!this.dirs.has(dirname(path))) throw this.error("ENOENT", "open", path);
    let file = this.files.get(path);
    if (mode === "create-exclusive" && file !== undefined) throw this.error("EEXIST", "open", path);
    if (file === undefined) {
      if (mode === "read") throw this.error("ENOENT", "open", path);
      file = { data: Buffer.alloc(4096), length: 0, durable: Buffer.alloc(0) };
      this.files.set(path, file);
    }
    return new SimulatedFileHandle(this, path, this.generation);
  }

  exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }

  list(dir: string): string[] {
    if (!this.dirs.has(dir)) throw this.error("ENOENT", "list", dir);
    const names: string[] = [];
    for (const p of [...this.files.keys(), ...this.dirs])
      if (p !== dir && dirname(p) === dir) names.push(basename(p));
    return names.sort();
  }

  mkdir(dir: string): void {
    for (let d = dir; !this.dirs.has(d); d = dirname(d)) this.dirs.add(d);
  }

  rename(from: string, to: string): void {
    const file = this.must(from);
    this.files.delete(from);
    this.files.set(to, file);
  }

  link(existing: string, to: string): void {
    const file = this.must(existing);
    if (this.exists(to)) throw this.error("EEXIST", "link", to);
    if (!this.dirs.has(dirname(to))) throw this.error("ENOENT", "link", to);
    this.files.set(to, file);
  }

  unlink(path: string): void {
    this.files.delete(path);
  }

  removeDir(dir: string): void {
    const inside = (p: string): boolean => p === dir || p.startsWith(dir + "/");
    for (const p of [...this.files.keys()]) if (inside(p)) this.files.delete(p);
    for (const d of [...this.dirs]) if (inside(d)) this.dirs.delete(d);
  }

  readFile(path: string): Buffer {
    return Buffer.from(this.rawFile(path));
  }

  private tmpCounter = 0;

  async writeFileAtomic(path: string, data: Buffer): Promise<void> {
    const tmp = `${path}.${this.tmpCounter++}.tmp`;
    const handle = this.open(tmp, "write");
    handle.truncate(0);
    handle.write(data, 0);
    await handle.sync();
    handle.close();
    this.rename(tmp, path);
  }

  syncDir(): Promise<void> {
    return Promise.resolve();
  }

  /** @internal used by handles */
  fileFor(path: string, generation: number): SimFile {
    if (generation !== this.generation)
      throw new SluiceError("SLUICE_IO", `${path}: handle lost in a simulated crash`, {
        details: { path },
      });
    return this.must(path);
  }

  /** @internal */
  writeBytes(file: SimFile, path: string, source: Buffer, position: number): void {
    let bytes = source;
    const torn = this.tornWrite;
    if (torn !== undefined) {
      this.tornWrite = undefined;
      bytes = source.subarray(0, Math.min(torn, source.length));
    }
    const end = position + bytes.length;
    if (end > file.length && this.usedBytes() + (end - file.length) > this.capacityBytes)
      throw this.error("ENOSPC", "write", path);
    if (end > file.data.length) {
      const grown = Buffer.alloc(Math.max(end, file.data.length * 2));
      file.data.copy(grown, 0, 0, file.length);
      file.data = grown;
    }
    if (position > file.length) file.data.fill(0, file.length, position);
    bytes.copy(file.data, position);
    file.length = Math.max(file.length, end);
    if (torn !== undefined) throw this.error("EIO", "write", path);
  }

  /** @internal */
  syncFile(file: SimFile, path: string): Promise<void> {
    this.syncCount++;
    if (this.syncFailures > 0) {
      this.syncFailures--;
      return Promise.reject(this.error("EIO", "fsync", path));
    }
    file.durable = Buffer.from(file.data.subarray(0, file.length));
    return Promise.resolve();
  }

  private must(path: string): SimFile {
    const file = this.files.get(path);
    if (file === undefined) throw this.error("ENOENT", "open", path);
    return file;
  }

  private error(errno: string, op: string, path: string): SluiceError {
    if (errno === "ENOENT")
      return new SluiceError("SLUICE_NOT_FOUND", `${op} ${path}: no such file or directory`, {
        details: { path },
      });
    if (errno === "EEXIST")
      return new SluiceError("SLUICE_ALREADY_EXISTS", `${op} ${path}: already exists`, {
        details: { path },
      });
    return new SluiceError("SLUICE_IO", `${op} ${path}: simulated ${errno}`, {
      details: { path, errno },
    });
  }
}

class SimulatedFileHandle implements FileHandle {
  constructor(
    private readonly fs: SimulatedFileSystem,
    readonly path: string,
    private readonly generation: number,
  ) {}

  size(): number {
    return this.fs.fileFor(this.path, this.generation).length;
  }

  read(target: Buffer, targetOffset: number, length: number, position: number): number {
    const file = this.fs.fileFor(this.path, this.generation);
    const n = Math.max(0, Math.min(length, file.length - position));
    file.data.copy(target, targetOffset, position, position + n);
    return n;
  }

  write(source: Buffer, position: number): void {
    this.fs.writeBytes(this.fs.fileFor(this.path, this.generation), this.path, source, position);
  }

  sync(): Promise<void> {
    try {
      return this.fs.syncFile(this.fs.fileFor(this.path, this.generation), this.path);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  truncate(length: number): void {
    const file = this.fs.fileFor(this.path, this.generation);
    if (length > file.data.length) {
      const grown = Buffer.alloc(length);
      file.data.copy(grown, 0, 0, file.length);
      file.data = grown;
    }
    if (length < file.length) file.data.fill(0, length, file.length);
    else file.data.fill(0, file.length, length);
    file.length = length;
  }

  close(): void {}
}
