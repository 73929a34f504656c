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

/** An fsync completes on a later turn of the event loop, as a real one does: work in flight interleaves with it. */
function deviceLatency(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

type NamespaceOp =
  | { readonly kind: "set"; readonly path: string; readonly inode: Inode }
  | { readonly kind: "unlink" | "mkdir" | "rmdir"; readonly path: string };

/** A file's contents; several names may point at one inode (hard links). */
interface Inode {
  data: Buffer;
  length: number;
  /** What the device holds: the contents at the last successful fdatasync. */
  durable: Buffer;
}

/** The page size of the simulated device: unsynced data is lost, zeroed or kept per page. */
export const SIMULATED_PAGE_BYTES = 512;

/**
 * What a crash does to what was not synced. "random" decides each page and each directory entry
 * from the seed; "lose" drops all of it; "keep" keeps all of it (a process crash, not power loss).
 */
export type CrashFate = "random" | "lose" | "keep";

export interface CrashOptions {
  /** Pages written or cut since the file's last fdatasync (default "random"). */
  readonly unsyncedPages?: CrashFate;
  /** Entries created, renamed, linked or removed since the directory's last fsync: "random" keeps a random prefix of them (default). */
  readonly unsyncedEntries?: CrashFate;
}

/**
 * An in-memory file system for deterministic durability tests, modelled on what a real disk
 * may do at power loss. `crash()` decides, from the seed, the fate of everything not yet made
 * durable. Each unsynced page of a file, independently: kept, or lost (the old contents come
 * back, and a page that had none reads back as zeros), so later pages can survive while
 * earlier ones do not. A file's length: its synced or its written length. The entries created,
 * renamed, linked or removed in a directory since its last fsync: a prefix of them, in order,
 * reached the device (a journaling file system commits them in order), the rest is forgotten.
 */
export class SimulatedFileSystem implements FileSystem {
  /** The namespace as processes see it: path -> inode. */
  private names = new Map<string, Inode>();
  /** The namespace as the device holds it: entries as of each directory's last fsync. */
  private durableNames = new Map<string, Inode>();
  private dirs = new Set<string>(["/"]);
  private durableDirs = new Set<string>(["/"]);
  /** Namespace changes since each directory's last fsync, in order, by directory. */
  private pendingOps = new Map<string, NamespaceOp[]>();
  private generation = 0;
  private syncFailures = 0;
  private tornWrite: number | undefined;
  private tornWritePath = "";
  private readFailures = 0;
  private readFailurePath = "";
  private readonly random: () => number;
  /** Total bytes the disk holds; writes beyond fail with ENOSPC. */
  capacityBytes = Number.POSITIVE_INFINITY;
  syncCount = 0;
  dirSyncCount = 0;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  /** The next `count` fsyncs (of files or directories) fail with an I/O error and sync nothing. */
  failNextSyncs(count = 1): void {
    this.syncFailures += count;
  }

  /** Disarms pending fsync failures, torn writes and read failures. */
  clearFaults(): void {
    this.syncFailures = 0;
    this.tornWrite = undefined;
    this.readFailures = 0;
  }

  /**
   * The next `count` reads (of files whose path contains `pathPart`, if given) fail with an I/O
   * error, as a bad sector does: the data stays on the disk, and a later read succeeds.
   */
  failNextReads(count = 1, pathPart = ""): void {
    this.readFailures = count;
    this.readFailurePath = pathPart;
  }

  /**
   * The next write (to a path that contains `pathPart`, if given) stores only its first
   * `keepBytes` bytes, then fails.
   */
  tearNextWrite(keepBytes: number, pathPart = ""): void {
    this.tornWrite = keepBytes;
    this.tornWritePath = pathPart;
  }

  /** Power loss: decides the fate of everything unsynced (see the class doc); open handles die. */
  crash(options: CrashOptions = {}): void {
    const pages = options.unsyncedPages ?? "random";
    const entries = options.unsyncedEntries ?? "random";
    this.generation++;
    this.crashEntries(entries);
    const seen = new Set<Inode>();
    for (const inode of this.names.values()) {
      if (seen.has(inode)) continue;
      seen.add(inode);
      this.crashInode(inode, pages);
    }
    this.durableNames = new Map(this.names);
    this.durableDirs = new Set(this.dirs);
  }

  private decide(fate: CrashFate): boolean {
    return fate === "keep" || (fate === "random" && this.random() < 0.5);
  }

  /**
   * Directory operations reach the device in order (as a journaling file system commits them):
   * of those made in a directory since its last fsync, a prefix survives.
   */
  private crashEntries(fate: CrashFate): void {
    const names = new Map(this.durableNames);
    const dirs = new Set(this.durableDirs);
    for (const ops of this.pendingOps.values()) {
      const kept =
        fate === "keep"
          ? ops.length
          : fate === "lose"
            ? 0
            : Math.floor(this.random() * (ops.length + 1));
      for (const op of ops.slice(0, kept)) {
        if (op.kind === "set") names.set(op.path, op.inode);
        else if (op.kind === "unlink") names.delete(op.path);
        else if (op.kind === "mkdir") dirs.add(op.path);
        else {
          const inside = (p: string): boolean => p === op.path || p.startsWith(op.path + "/");
          for (const p of [...names.keys()]) if (inside(p)) names.delete(p);
          for (const d of [...dirs]) if (inside(d)) dirs.delete(d);
        }
      }
    }
    // An entry whose directory did not survive goes with it.
    for (const d of [...dirs].sort()) if (d !== "/" && !dirs.has(dirname(d))) dirs.delete(d);
    for (const p of [...names.keys()]) if (!dirs.has(dirname(p))) names.delete(p);
    this.names = names;
    this.dirs = dirs;
    this.pendingOps.clear();
  }

  private record(op: NamespaceOp): void {
    const parent = dirname(op.path);
    const ops = this.pendingOps.get(parent) ?? [];
    ops.push(op);
    this.pendingOps.set(parent, ops);
  }

  private crashInode(inode: Inode, fate: CrashFate): void {
    const old = inode.durable;
    const lengths = [old.length, inode.length];
    const length =
      fate === "keep"
        ? inode.length
        : fate === "lose"
          ? old.length
          : lengths[Math.floor(this.random() * 2)]!;
    const restored = Buffer.alloc(Math.max(length, 16));
    for (let page = 0; page * SIMULATED_PAGE_BYTES < length; page++) {
      const start = page * SIMULATED_PAGE_BYTES;
      const end = Math.min(start + SIMULATED_PAGE_BYTES, length);
      const written = inode.data.subarray(start, Math.min(end, inode.length));
      const synced = old.subarray(start, Math.min(end, old.length));
      if (written.equals(synced) && end <= old.length && end <= inode.length) {
        synced.copy(restored, start);
        continue;
      }
      // Kept, or lost: the device still holds the old contents, and a page that had none
      // (past the synced length) reads back as zeros.
      if (this.decide(fate)) written.copy(restored, start);
      else synced.copy(restored, start);
    }
    inode.data = restored;
    inode.length = length;
    inode.durable = Buffer.from(restored.subarray(0, length));
  }

  usedBytes(): number {
    let total = 0;
    for (const inode of new Set(this.names.values())) total += inode.length;
    return total;
  }

  /** Direct access for tests that corrupt bytes on "disk". */
  rawFile(path: string): Buffer {
    const inode = this.must(path);
    return inode.data.subarray(0, inode.length);
  }

  /** Replaces a file's bytes (durably, entry included), as a test that damages a disk would. */
  setRawFile(path: string, bytes: Buffer): void {
    const inode = { data: Buffer.from(bytes), length: bytes.length, durable: Buffer.from(bytes) };
    this.names.set(path, inode);
    this.durableNames.set(path, inode);
  }

  open(path: string, mode: OpenMode): FileHandle {
    if (!this.dirs.has(dirname(path))) throw this.error("ENOENT", "open", path);
    let inode = this.names.get(path);
    if (mode === "create-exclusive" && inode !== undefined)
      throw this.error("EEXIST", "open", path);
    if (inode === undefined) {
      if (mode === "read") throw this.error("ENOENT", "open", path);
      inode = { data: Buffer.alloc(4096), length: 0, durable: Buffer.alloc(0) };
      this.names.set(path, inode);
      this.record({ kind: "set", path, inode });
    }
    return new SimulatedFileHandle(this, inode, path, this.generation);
  }

  exists(path: string): boolean {
    return this.names.has(path) || this.dirs.has(path);
  }

  list(dir: string): string[] {
    if (!this.dirs.has(dir)) {
      if (this.names.has(dir)) throw this.error("ENOTDIR", "list", dir);
      throw this.error("ENOENT", "list", dir);
    }
    const names: string[] = [];
    for (const p of [...this.names.keys(), ...this.dirs])
      if (p !== dir && dirname(p) === dir) names.push(basename(p));
    return names.sort();
  }

  mkdir(dir: string): void {
    const created: string[] = [];
    for (let d = dir; !this.dirs.has(d); d = dirname(d)) {
      if (this.names.has(d)) throw this.error("ENOTDIR", "mkdir", d);
      created.unshift(d);
    }
    for (const d of created) {
      this.dirs.add(d);
      this.record({ kind: "mkdir", path: d });
    }
  }

  rename(from: string, to: string): void {
    const inode = this.must(from);
    if (!this.dirs.has(dirname(to))) throw this.error("ENOENT", "rename", to);
    this.names.delete(from);
    this.names.set(to, inode);
    this.record({ kind: "unlink", path: from });
    this.record({ kind: "set", path: to, inode });
  }

  link(existing: string, to: string): void {
    const inode = this.must(existing);
    if (this.exists(to)) throw this.error("EEXIST", "link", to);
    if (!this.dirs.has(dirname(to))) throw this.error("ENOENT", "link", to);
    this.names.set(to, inode);
    this.record({ kind: "set", path: to, inode });
  }

  unlink(path: string): void {
    this.removeName(path);
  }

  /**
   * The unlink lands a turn later, as one on a worker thread does; a crash before then (or a
   * killed process's last calls) leaves the file in place.
   */
  async unlinkAsync(path: string): Promise<void> {
    const generation = this.generation;
    await deviceLatency();
    if (generation === this.generation) this.removeName(path);
  }

  private removeName(path: string): void {
    if (this.names.delete(path)) this.record({ kind: "unlink", path });
  }

  /** The namespace changes at once, as the real one's rename away does; freeing is not modelled. */
  removeDir(dir: string): Promise<void> {
    const inside = (p: string): boolean => p === dir || p.startsWith(dir + "/");
    for (const p of [...this.names.keys()]) if (inside(p)) this.names.delete(p);
    for (const d of [...this.dirs]) if (inside(d)) this.dirs.delete(d);
    this.record({ kind: "rmdir", path: dir });
    return Promise.resolve();
  }

  readFile(path: string): Buffer {
    this.checkRead(path);
    return Buffer.from(this.rawFile(path));
  }

  /** @internal used by handles: throws when an armed read failure applies to `path`. */
  checkRead(path: string): void {
    if (this.readFailures === 0 || !path.includes(this.readFailurePath)) return;
    this.readFailures--;
    throw this.error("EIO", "read", path);
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
    await this.syncDir(dirname(path));
  }

  syncDir(dir: string): Promise<void> {
    this.dirSyncCount++;
    if (!this.dirs.has(dir)) return Promise.reject(this.error("ENOENT", "fsync", dir));
    if (this.syncFailures > 0) {
      this.syncFailures--;
      return Promise.reject(this.error("EIO", "fsync", dir));
    }
    for (const path of new Set([...this.names.keys(), ...this.durableNames.keys()])) {
      if (dirname(path) !== dir) continue;
      const inode = this.names.get(path);
      if (inode === undefined) this.durableNames.delete(path);
      else this.durableNames.set(path, inode);
    }
    for (const d of this.dirs) if (dirname(d) === dir) this.durableDirs.add(d);
    for (const d of [...this.durableDirs])
      if (dirname(d) === dir && d !== dir && !this.dirs.has(d)) this.durableDirs.delete(d);
    this.pendingOps.delete(dir);
    return deviceLatency();
  }

  /** @internal used by handles: fails once a crash has killed the handle. */
  checkGeneration(path: string, generation: number): void {
    if (generation !== this.generation)
      throw new SluiceError("SLUICE_IO", `${path}: handle lost in a simulated crash`, {
        details: { path },
      });
  }

  /** @internal */
  writeBytes(inode: Inode, path: string, source: Buffer, position: number): void {
    let bytes = source;
    const torn = path.includes(this.tornWritePath) ? this.tornWrite : undefined;
    if (torn !== undefined) {
      this.tornWrite = undefined;
      bytes = source.subarray(0, Math.min(torn, source.length));
    }
    const end = position + bytes.length;
    if (end > inode.length && this.usedBytes() + (end - inode.length) > this.capacityBytes)
      throw this.error("ENOSPC", "write", path);
    if (end > inode.data.length) {
      const grown = Buffer.alloc(Math.max(end, inode.data.length * 2));
      inode.data.copy(grown, 0, 0, inode.length);
      inode.data = grown;
    }
    if (position > inode.length) inode.data.fill(0, inode.length, position);
    bytes.copy(inode.data, position);
    inode.length = Math.max(inode.length, end);
    if (torn !== undefined) throw this.error("EIO", "write", path);
  }

  /** @internal */
  syncFile(inode: Inode, path: string): Promise<void> {
    this.syncCount++;
    if (this.syncFailures > 0) {
      this.syncFailures--;
      return Promise.reject(this.error("EIO", "fsync", path));
    }
    inode.durable = Buffer.from(inode.data.subarray(0, inode.length));
    return deviceLatency();
  }

  private must(path: string): Inode {
    const inode = this.names.get(path);
    if (inode === undefined) throw this.error("ENOENT", "open", path);
    return inode;
  }

  /** @internal */
  error(errno: string, op: string, path: string): SluiceError {
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
  private closed = false;

  constructor(
    private readonly fs: SimulatedFileSystem,
    private readonly inode: Inode,
    readonly path: string,
    private readonly generation: number,
  ) {}

  /** Every operation on a closed or crashed handle is an error, as EBADF would be. */
  private live(op: string): Inode {
    if (this.closed) throw this.fs.error("EBADF", op, this.path);
    this.fs.checkGeneration(this.path, this.generation);
    return this.inode;
  }

  size(): number {
    return this.live("stat").length;
  }

  read(target: Buffer, targetOffset: number, length: number, position: number): number {
    const inode = this.live("read");
    this.fs.checkRead(this.path);
    const n = Math.max(0, Math.min(length, inode.length - position));
    inode.data.copy(target, targetOffset, position, position + n);
    return n;
  }

  write(source: Buffer, position: number): void {
    this.fs.writeBytes(this.live("write"), this.path, source, position);
  }

  sync(): Promise<void> {
    try {
      return this.fs.syncFile(this.live("fsync"), this.path);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  truncate(length: number): void {
    const inode = this.live("truncate");
    if (length > inode.data.length) {
      const grown = Buffer.alloc(length);
      inode.data.copy(grown, 0, 0, inode.length);
      inode.data = grown;
    }
    if (length < inode.length) inode.data.fill(0, length, inode.length);
    else inode.data.fill(0, inode.length, length);
    inode.length = length;
  }

  close(): void {
    this.closed = true;
  }
}
