import { type FileSystem, type Log, openLog } from "../../engine/index.js";
import type { Clock } from "../../time/index.js";

/** An archive as kept in the catalog. */
export interface ArchiveRecord {
  readonly name: string;
  readonly uid: string;
  readonly bus: string;
  readonly eventPattern?: string;
  readonly retentionDays: number;
  readonly description?: string;
  readonly createdMs: number;
}

/**
 * The events one archive keeps: an engine log whose record timestamps are the events'
 * ingestion times, so a replay finds its time range by the log's time index; retention drops
 * whole segments older than RetentionDays (0 keeps them forever).
 */
export class ArchiveLog {
  private constructor(
    readonly record: ArchiveRecord,
    readonly log: Log,
  ) {}

  static async open(
    dir: string,
    record: ArchiveRecord,
    clock: Clock,
    fs?: FileSystem,
  ): Promise<ArchiveLog> {
    const log = await openLog(dir, {
      fsync: { intervalMs: 50 },
      clock,
      segmentBytes: 8 * 1024 * 1024,
      ...(record.retentionDays > 0 ? { retentionMs: record.retentionDays * 86_400_000 } : {}),
      maintenanceIntervalMs: 3_600_000,
      name: `archive-${record.name}`,
      ...(fs === undefined ? {} : { fs }),
    });
    return new ArchiveLog(record, log);
  }

  get eventCount(): number {
    return this.log.logEndOffset - this.log.logStartOffset;
  }

  /** Appends events given as their JSON text. */
  async append(events: readonly { text: string; ingestedMs: number }[]): Promise<void> {
    if (events.length === 0) return;
    await this.log.append(
      events.map(({ text, ingestedMs }) => ({
        value: Buffer.from(text, "utf8"),
        timestamp: ingestedMs,
      })),
    );
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
