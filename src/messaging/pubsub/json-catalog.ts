import { SluiceError } from "../../errors/index.js";
import { type FileSystem, type FsyncPolicy, type Log, openLog } from "../../engine/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import type { Clock } from "../../time/index.js";

export interface JsonCatalogOptions {
  readonly clock: Clock;
  /** Definitions use "always" (rare, must never be lost); delivery cursors can use an interval. */
  readonly fsync: FsyncPolicy;
  readonly fs?: FileSystem;
  /** Its log's name in metrics. */
  readonly name: string;
  readonly metrics?: MetricsRegistry;
}

/**
 * A small durable key -> JSON map: a compacted engine log (a null value deletes a key) read
 * into memory on open. Topics, subscriptions, rules, archives and cursors live in these.
 */
export class JsonCatalog<V> {
  private constructor(
    private readonly log: Log,
    readonly entries: Map<string, V>,
  ) {}

  /** Opens the catalog in `dir`; `check` says whether a stored value is well formed. */
  static async open<V>(
    dir: string,
    options: JsonCatalogOptions,
    check: (value: unknown) => value is V,
  ): Promise<JsonCatalog<V>> {
    const log = await openLog(dir, {
      fsync: options.fsync,
      clock: options.clock,
      cleanupPolicy: "compact",
      segmentBytes: 1024 * 1024,
      maintenanceIntervalMs: 60_000,
      name: options.name,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    });
    const entries = new Map<string, V>();
    try {
      for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
        const records = log.read(offset);
        if (records.length === 0) break;
        for (const record of records) {
          const key = record.key?.toString("utf8") ?? "";
          if (record.value === null) {
            entries.delete(key);
            continue;
          }
          let value: unknown;
          try {
            value = JSON.parse(record.value.toString("utf8"));
          } catch {
            value = undefined;
          }
          if (!check(value))
            throw new SluiceError(
              "SLUICE_CORRUPT",
              `catalog ${dir}: record at offset ${record.offset} (key ${key}) is not valid`,
            );
          entries.set(key, value);
        }
        offset = records[records.length - 1]!.offset + 1;
      }
    } catch (error) {
      await log.close();
      throw error;
    }
    return new JsonCatalog(log, entries);
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /**
   * Stores `value` under `key`; resolves once durable per the catalog's fsync policy. Seen by
   * `get` at once; if the append fails, `get` gives what it gave before (unless another change
   * of the key came since).
   */
  async put(key: string, value: V): Promise<void> {
    const undo = this.undoOf(key);
    this.entries.set(key, value);
    try {
      await this.log.append([
        { key: Buffer.from(key, "utf8"), value: Buffer.from(JSON.stringify(value), "utf8") },
      ]);
    } catch (error) {
      if (this.entries.get(key) === value) undo();
      throw error;
    }
  }

  /** Deletes `key`; if the append fails the key is kept, so a retried delete writes it again. */
  async delete(key: string): Promise<void> {
    if (!this.entries.has(key)) return;
    const undo = this.undoOf(key);
    this.entries.delete(key);
    try {
      await this.log.append([{ key: Buffer.from(key, "utf8"), value: null }]);
    } catch (error) {
      if (!this.entries.has(key)) undo();
      throw error;
    }
  }

  /** Puts `key` back as it is now. */
  private undoOf(key: string): () => void {
    if (!this.entries.has(key)) return () => this.entries.delete(key);
    const before = this.entries.get(key)!;
    return () => this.entries.set(key, before);
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
