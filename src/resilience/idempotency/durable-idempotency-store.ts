import { SluiceError, invalid } from "../../errors/index.js";
import { type Log, type LogOptions, openLog } from "../../engine/index.js";
import { type Clock, systemClock } from "../../time/index.js";
import { checkPositiveMs } from "../validate.js";
import {
  type IdempotencyRecord,
  type IdempotencyStore,
  MemoryIdempotencyStore,
} from "./idempotency-store.js";

export interface DurableIdempotencyStoreOptions {
  readonly clock?: Clock;
  /**
   * The longest TTL `set` accepts; also the log's retention, so segments whose every record
   * has expired are deleted. Default 7 days.
   */
  readonly maxTtlMs?: number;
  /**
   * Options for the underlying log when the store opens it (default: fsync "always", so a
   * stored result survives a crash once `set` resolves; compaction keeps one record per key).
   */
  readonly log?: Omit<LogOptions, "clock">;
}

interface StoredValue {
  /** Expiry time, ms since the epoch. */
  readonly e: number;
  /** The result; absent when it was undefined. */
  readonly v?: unknown;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * An idempotency store on a Sluice log: each completed key and its result is appended as one
 * record (key = the idempotency key, value = JSON of the result and its expiry), and on open
 * the log is read back into an in-memory map, skipping expired entries. Lookups never touch
 * the disk. Results must survive JSON (after a restart a duplicate gets the parsed copy).
 */
export class DurableIdempotencyStore implements IdempotencyStore {
  private readonly memory: MemoryIdempotencyStore;
  private readonly clock: Clock;

  private constructor(
    private readonly log: Log,
    /** The longest TTL this store keeps (its log's retention). */
    readonly maxTtlMs: number,
    clock: Clock,
    private readonly ownsLog: boolean,
  ) {
    this.clock = clock;
    this.memory = new MemoryIdempotencyStore({ clock });
  }

  /** Opens (or creates) the store's log in `dir` and loads the live keys. */
  static async open(
    dir: string,
    options: DurableIdempotencyStoreOptions = {},
  ): Promise<DurableIdempotencyStore> {
    const clock = options.clock ?? systemClock;
    const maxTtlMs = options.maxTtlMs ?? 7 * DAY_MS;
    checkPositiveMs("maxTtlMs", maxTtlMs);
    const log = await openLog(dir, {
      fsync: "always",
      cleanupPolicy: "compact,delete",
      retentionMs: maxTtlMs,
      ...options.log,
      clock,
    });
    const store = new DurableIdempotencyStore(log, maxTtlMs, clock, true);
    try {
      store.load();
    } catch (error) {
      await log.close();
      throw error;
    }
    return store;
  }

  /** Uses an already open log (the caller keeps ownership and closes it). */
  static fromLog(
    log: Log,
    options: Omit<DurableIdempotencyStoreOptions, "log"> = {},
  ): DurableIdempotencyStore {
    const maxTtlMs = options.maxTtlMs ?? 7 * DAY_MS;
    checkPositiveMs("maxTtlMs", maxTtlMs);
    const store = new DurableIdempotencyStore(log, maxTtlMs, options.clock ?? systemClock, false);
    store.load();
    return store;
  }

  get size(): number {
    return this.memory.size;
  }

  get(key: string): IdempotencyRecord | undefined {
    return this.memory.get(key);
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    checkPositiveMs("ttlMs", ttlMs);
    if (ttlMs > this.maxTtlMs) throw invalid("ttlMs", `at most maxTtlMs (${this.maxTtlMs})`, ttlMs);
    const expiresAtMs = this.clock.now() + ttlMs;
    const stored: StoredValue =
      value === undefined ? { e: expiresAtMs } : { e: expiresAtMs, v: value };
    let json: string;
    try {
      json = JSON.stringify(stored);
    } catch (error) {
      throw new SluiceError(
        "SLUICE_VALIDATION",
        `value for key ${JSON.stringify(key)} is not JSON-serialisable`,
        {
          field: "value",
          cause: error,
        },
      );
    }
    await this.log.append([{ key: Buffer.from(key, "utf8"), value: Buffer.from(json, "utf8") }]);
    // Visible to lookups only once durable: a duplicate never sees a result a crash could lose.
    this.memory.restore(key, stored.v, expiresAtMs);
  }

  async delete(key: string): Promise<boolean> {
    const had = this.memory.get(key) !== undefined;
    await this.log.append([{ key: Buffer.from(key, "utf8"), value: null }]);
    this.memory.delete(key);
    return had;
  }

  /** Closes the log if the store opened it. */
  async close(): Promise<void> {
    await this.memory.close();
    if (this.ownsLog) await this.log.close();
  }

  private load(): void {
    const now = this.clock.now();
    let offset = this.log.logStartOffset;
    const end = this.log.logEndOffset;
    while (offset < end) {
      const records = this.log.read(offset, { maxRecords: 10_000, maxBytes: 4 * 1024 * 1024 });
      if (records.length === 0) break;
      for (const record of records) {
        if (record.key === null) continue;
        const key = record.key.toString("utf8");
        if (record.value === null) {
          this.memory.delete(key);
          continue;
        }
        const stored = parse(record.value, record.offset);
        if (stored.e > now) this.memory.restore(key, stored.v, stored.e);
        else this.memory.delete(key);
      }
      offset = records[records.length - 1]!.offset + 1;
    }
  }
}

function parse(value: Buffer, offset: number): StoredValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString("utf8"));
  } catch (error) {
    throw new SluiceError("SLUICE_CORRUPT", `idempotency record at offset ${offset} is not JSON`, {
      cause: error,
    });
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    typeof (parsed as { e?: unknown }).e !== "number"
  ) {
    throw new SluiceError("SLUICE_CORRUPT", `idempotency record at offset ${offset} has no expiry`);
  }
  return parsed as StoredValue;
}
