import pg from "pg";
import type { ExpectedVersion } from "../../eventstore/event-store.js";
import type { PreparedEvent } from "../../eventstore/event-validation.js";

/** What the database answered for one append. */
export interface AppendRow {
  status: "ok" | "conflict" | "deleted" | "duplicate";
  first_position: number | null;
  first_version: number | null;
  actual_version: number;
  stored_at: number | null;
}

/** One append waiting for its batch. */
export interface QueuedAppend {
  readonly stream: string;
  readonly expected: ExpectedVersion;
  readonly events: readonly PreparedEvent[];
}

export interface AppendBatcherLimits {
  /** Batches in the database at once: the next one waits on the sequencer, already sent. */
  readonly maxInFlight: number;
  /** Most events in one batch (an append bigger than this goes alone). */
  readonly maxEvents: number;
  /** Most bytes of event JSON in one batch (an append bigger than this goes alone). */
  readonly maxBytes: number;
}

const DEFAULT_LIMITS: AppendBatcherLimits = {
  maxInFlight: 2,
  maxEvents: 10_000,
  maxBytes: 16 * 1024 * 1024,
};

interface Pending {
  readonly append: QueuedAppend;
  readonly bytes: number;
  readonly resolve: (row: AppendRow) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for the appends of one process. Appends commit one after another anyway (the
 * sequencer row is held to commit, WAL flush included), so while batches are in the database
 * the appends that arrive queue up, and the next batch carries all of them in one transaction:
 * one round trip and one WAL flush for many appends. Each append is still checked on its own
 * and gets its own answer. A batch the database refuses as a whole (a unique violation: a
 * duplicate event id) is retried one append at a time, so one append's error is its own.
 */
export class AppendBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly sendBatch: (appends: readonly QueuedAppend[]) => Promise<AppendRow[]>,
    private readonly sendOne: (append: QueuedAppend) => Promise<AppendRow>,
    private readonly limits: AppendBatcherLimits = DEFAULT_LIMITS,
  ) {}

  /** Queues `append` for the next batch; resolves with the database's answer for it. */
  append(append: QueuedAppend): Promise<AppendRow> {
    let bytes = 0;
    for (const e of append.events) bytes += e.dataJson.length + e.metadataJson.length;
    return new Promise((resolve, reject) => {
      this.queue.push({ append, bytes, resolve, reject });
      // Appends made in the same turn (a Promise.all of several) share the first batch.
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Resolves once every queued append has its answer. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.limits.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.queue.length === 0 && this.inFlight === 0)
          for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  /** The next batch: queued appends in order, within the limits (at least one). */
  private take(): Pending[] {
    let events = 0;
    let bytes = 0;
    let count = 0;
    for (const pending of this.queue) {
      events += pending.append.events.length;
      bytes += pending.bytes;
      if (count > 0 && (events > this.limits.maxEvents || bytes > this.limits.maxBytes)) break;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async run(batch: readonly Pending[]): Promise<void> {
    let rows: AppendRow[];
    try {
      rows = await this.sendBatch(batch.map((p) => p.append));
    } catch (error) {
      // A server error rolled the whole transaction back: retry each append alone, in order,
      // so that only the one at fault fails. Any other error (a lost connection) leaves the
      // outcome unknown, and nothing is retried.
      if (batch.length > 1 && hasSqlState(error)) {
        for (const p of batch) await this.sendOne(p.append).then(p.resolve, p.reject);
        return;
      }
      for (const p of batch) p.reject(error);
      return;
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(rows[i]!);
  }
}

/** Whether the server reported `error` (so the statement's transaction was rolled back). */
function hasSqlState(error: unknown): boolean {
  return error instanceof pg.DatabaseError;
}
