import { SluiceError } from "../../errors/index.js";
import { type FileSystem, type Log, openLog } from "../../engine/index.js";
import type { Clock } from "../../time/index.js";
import type { QueueDefinition } from "./durable-queue.js";

/**
 * The list of queues and their attributes and tags: a compacted log keyed by queue name (a
 * null value marks a deletion), read into memory on open. Always fsynced: queue changes are
 * rare and must never be lost.
 */
export class QueueCatalog {
  private constructor(private readonly log: Log) {}

  static async open(
    dir: string,
    clock: Clock,
    fs?: FileSystem,
  ): Promise<{ catalog: QueueCatalog; definitions: QueueDefinition[] }> {
    const log = await openLog(dir, {
      fsync: "always",
      clock,
      cleanupPolicy: "compact",
      segmentBytes: 1024 * 1024,
      ...(fs === undefined ? {} : { fs }),
    });
    const byName = new Map<string, QueueDefinition>();
    try {
      for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
        const records = log.read(offset);
        if (records.length === 0) break;
        for (const record of records) {
          const name = record.key?.toString("utf8") ?? "";
          if (record.value === null) byName.delete(name);
          else byName.set(name, parseDefinition(record.value, record.offset));
        }
        offset = records[records.length - 1]!.offset + 1;
      }
    } catch (error) {
      await log.close();
      throw error;
    }
    return { catalog: new QueueCatalog(log), definitions: [...byName.values()] };
  }

  async put(definition: QueueDefinition): Promise<void> {
    await this.log.append([
      {
        key: Buffer.from(definition.name, "utf8"),
        value: Buffer.from(JSON.stringify(definition), "utf8"),
      },
    ]);
  }

  async remove(name: string): Promise<void> {
    await this.log.append([{ key: Buffer.from(name, "utf8"), value: null }]);
  }

  close(): Promise<void> {
    return this.log.close();
  }

  kill(): void {
    this.log.kill();
  }
}

function parseDefinition(value: Buffer, offset: number): QueueDefinition {
  try {
    const parsed = JSON.parse(value.toString("utf8")) as QueueDefinition;
    if (typeof parsed.name === "string" && typeof parsed.uid === "string") return parsed;
  } catch {
    // reported below
  }
  throw new SluiceError(
    "SLUICE_CORRUPT",
    `queue catalog record at offset ${offset} is not a queue definition`,
  );
}
