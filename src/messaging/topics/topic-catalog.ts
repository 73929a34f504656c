import { SluiceError } from "../../errors/index.js";
import { type FileSystem, type Log, openLog } from "../../engine/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import type { Clock } from "../../time/index.js";
import type { TopicConfig } from "./topic-admin.js";

/** A topic as the catalog stores it. */
export interface TopicDefinition {
  readonly name: string;
  readonly partitions: number;
  readonly config: TopicConfig;
  readonly internal: boolean;
  readonly createdAt: number;
}

/** Catalog key of the producer id counter; topic names cannot contain ":". */
const PRODUCER_IDS_KEY = "producer-ids:next";
/** Producer ids are handed out in blocks, so the catalog is written once per block, not per producer. */
const PRODUCER_ID_BLOCK = 1000;

/**
 * The list of topics and the producer id counter: a compacted log keyed by topic name (a null
 * value marks a deletion), read into memory on open. Always fsynced: these changes are rare
 * and must never be lost.
 */
export class TopicCatalog {
  private nextProducerId = 0;
  private producerIdLimit = 0;

  private constructor(private readonly log: Log) {}

  static async open(
    dir: string,
    clock: Clock,
    fs?: FileSystem,
    metrics?: MetricsRegistry,
  ): Promise<{ catalog: TopicCatalog; definitions: TopicDefinition[] }> {
    const log = await openLog(dir, {
      fsync: "always",
      clock,
      cleanupPolicy: "compact",
      segmentBytes: 1024 * 1024,
      name: "catalog/topics",
      ...(fs === undefined ? {} : { fs }),
      ...(metrics === undefined ? {} : { metrics }),
    });
    const byName = new Map<string, TopicDefinition>();
    const catalog = new TopicCatalog(log);
    try {
      for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
        const records = log.read(offset);
        if (records.length === 0) break;
        for (const record of records) {
          const key = record.key?.toString("utf8") ?? "";
          if (key === PRODUCER_IDS_KEY) {
            const limit = Number(record.value?.toString("utf8"));
            if (!Number.isSafeInteger(limit)) throw corrupt(record.offset);
            // Ids below a written limit may have been handed out before a crash: start past it.
            catalog.nextProducerId = catalog.producerIdLimit = limit;
          } else if (record.value === null) byName.delete(key);
          else byName.set(key, parseDefinition(record.value, record.offset));
        }
        offset = records[records.length - 1]!.offset + 1;
      }
    } catch (error) {
      await log.close();
      throw error;
    }
    return { catalog, definitions: [...byName.values()] };
  }

  async put(definition: TopicDefinition): Promise<void> {
    await this.log.append([
      { key: Buffer.from(definition.name), value: Buffer.from(JSON.stringify(definition)) },
    ]);
  }

  async remove(name: string): Promise<void> {
    await this.log.append([{ key: Buffer.from(name), value: null }]);
  }

  /** A producer id never handed out before, in this directory's whole history. */
  async allocateProducerId(): Promise<number> {
    if (this.nextProducerId >= this.producerIdLimit) {
      const limit = this.nextProducerId + PRODUCER_ID_BLOCK;
      await this.log.append([
        { key: Buffer.from(PRODUCER_IDS_KEY), value: Buffer.from(String(limit)) },
      ]);
      this.producerIdLimit = limit;
    }
    return this.nextProducerId++;
  }

  close(): Promise<void> {
    return this.log.close();
  }

  kill(): void {
    this.log.kill();
  }
}

function corrupt(offset: number): SluiceError {
  return new SluiceError("SLUICE_CORRUPT", `topic catalog record at offset ${offset} is not valid`);
}

function parseDefinition(value: Buffer, offset: number): TopicDefinition {
  try {
    const parsed = JSON.parse(value.toString("utf8")) as Partial<TopicDefinition>;
    if (
      typeof parsed.name === "string" &&
      typeof parsed.partitions === "number" &&
      typeof parsed.config === "object"
    )
      return parsed as TopicDefinition;
  } catch {
    // reported below
  }
  throw corrupt(offset);
}
