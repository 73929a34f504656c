import { SluiceError } from "../../errors/index.js";
import { type FileSystem, type Log, openLog } from "../../engine/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import type { Clock } from "../../time/index.js";
import type { QueueDefinition } from "./durable-queue.js";
import type { MoveTaskRecord } from "./message-move-task.js";
import { RECEIPT_KEY_BYTES, newReceiptKey } from "./receipt-handle.js";

/** Catalog keys of move tasks; queue names cannot contain ":". */
const TASK_PREFIX = "task:";
/** Catalog key of the key that signs receipt handles. */
const RECEIPT_KEY = "key:receipt-handles";

/**
 * The list of queues (attributes, tags) and message move tasks: a compacted log keyed by queue
 * name or `task:<handle>` (a null value marks a deletion), read into memory on open. Always
 * fsynced: these changes are rare and must never be lost.
 */
export class QueueCatalog {
  private constructor(private readonly log: Log) {}

  static async open(
    dir: string,
    clock: Clock,
    fs?: FileSystem,
    metrics?: MetricsRegistry,
  ): Promise<{
    catalog: QueueCatalog;
    definitions: QueueDefinition[];
    tasks: MoveTaskRecord[];
    receiptKey: Buffer;
  }> {
    const log = await openLog(dir, {
      fsync: "always",
      clock,
      cleanupPolicy: "compact",
      segmentBytes: 1024 * 1024,
      name: "catalog/queues",
      ...(fs === undefined ? {} : { fs }),
      ...(metrics === undefined ? {} : { metrics }),
    });
    const byName = new Map<string, QueueDefinition>();
    const tasks = new Map<string, MoveTaskRecord>();
    let receiptKey: Buffer | undefined;
    try {
      for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
        const records = log.read(offset);
        if (records.length === 0) break;
        for (const record of records) {
          const name = record.key?.toString("utf8") ?? "";
          if (name === RECEIPT_KEY) {
            receiptKey = record.value ?? undefined;
          } else if (name.startsWith(TASK_PREFIX)) {
            const handle = name.slice(TASK_PREFIX.length);
            if (record.value === null) tasks.delete(handle);
            else
              tasks.set(handle, parseJson<MoveTaskRecord>(record.value, record.offset, "handle"));
          } else if (record.value === null) byName.delete(name);
          else byName.set(name, parseJson<QueueDefinition>(record.value, record.offset, "uid"));
        }
        offset = records[records.length - 1]!.offset + 1;
      }
      // Made once per data directory: handles stay valid across restarts.
      if (receiptKey === undefined || receiptKey.length !== RECEIPT_KEY_BYTES) {
        receiptKey = newReceiptKey();
        await log.append([{ key: Buffer.from(RECEIPT_KEY, "utf8"), value: receiptKey }]);
      }
    } catch (error) {
      await log.close();
      throw error;
    }
    return {
      catalog: new QueueCatalog(log),
      definitions: [...byName.values()],
      tasks: [...tasks.values()],
      receiptKey,
    };
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

  async putTask(task: MoveTaskRecord): Promise<void> {
    await this.log.append([
      {
        key: Buffer.from(TASK_PREFIX + task.handle, "utf8"),
        value: Buffer.from(JSON.stringify(task), "utf8"),
      },
    ]);
  }

  async removeTask(handle: string): Promise<void> {
    await this.log.append([{ key: Buffer.from(TASK_PREFIX + handle, "utf8"), value: null }]);
  }

  close(): Promise<void> {
    return this.log.close();
  }

  kill(): void {
    this.log.kill();
  }
}

/** A catalog value: JSON with `field` a string (a queue's uid, a task's handle). */
function parseJson<T>(value: Buffer, offset: number, field: string): T {
  try {
    const parsed = JSON.parse(value.toString("utf8")) as Record<string, unknown>;
    if (typeof parsed[field] === "string") return parsed as T;
  } catch {
    // reported below
  }
  throw new SluiceError("SLUICE_CORRUPT", `queue catalog record at offset ${offset} is not valid`);
}
