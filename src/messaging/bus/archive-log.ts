import { type FileSystem, type Log, openLog } from "../../engine/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
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

const SEGMENT_BYTES = 8 * 1024 * 1024;

/** The log settings an archive's retention changes (the others as the engine's defaults). */
function retentionOptions(retentionDays: number): { segmentBytes: number; retentionMs?: number } {
  return {
    segmentBytes: SEGMENT_BYTES,
    ...(retentionDays > 0 ? { retentionMs: retentionDays * 86_400_000 } : {}),
  };
}

/**
 * The events one archive keeps: an engine log whose record timestamps are the events'
 * ingestion times, so a replay finds its time range by the log's time index; retention drops
 * whole segments older than RetentionDays (0 keeps them forever).
 */
export class ArchiveLog {
  private constructor(readonly log: Log) {}

  static async open(
    dir: string,
    record: ArchiveRecord,
    clock: Clock,
    fs?: FileSystem,
    metrics?: MetricsRegistry,
  ): Promise<ArchiveLog> {
    const log = await openLog(dir, {
      fsync: { intervalMs: 50 },
      clock,
      ...retentionOptions(record.retentionDays),
      maintenanceIntervalMs: 3_600_000,
      name: `archive/${record.name}`,
      ...(fs === undefined ? {} : { fs }),
      ...(metrics === undefined ? {} : { metrics }),
    });
    return new ArchiveLog(log);
  }

  /** Keeps events for `retentionDays` from now on (0: forever); a shorter time drops old ones now. */
  async setRetentionDays(retentionDays: number): Promise<void> {
    this.log.reconfigure(retentionOptions(retentionDays));
    await this.log.enforceRetention();
  }

  /** Whether its log stopped after an I/O failure (a failed fsync): it takes no more events. */
  get hasFailed(): boolean {
    return this.log.hasFailed;
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
