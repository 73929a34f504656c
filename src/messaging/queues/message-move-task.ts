import type { Writable } from "./writable.js";
import type { Clock } from "../../time/index.js";
import type { DurableQueue } from "./durable-queue.js";
import { transferMessages } from "./message-transfer.js";
import type { MessageMoveTask as MoveTaskView, MessageMoveTaskStatus } from "./queue-service.js";
import { type QueuedMessage, VISIBLE } from "./queue-state.js";

const TICK_MS = 100;
export const MAX_MOVE_RATE = 500;

/** What the catalog keeps of a move task, so a redrive in progress resumes after a restart. */
export interface MoveTaskRecord {
  readonly handle: string;
  readonly sourceArn: string;
  readonly destinationArn?: string;
  readonly rate: number;
  /** Only messages with a lower sequence number (those there at the start) are moved. */
  readonly seqLimit: number;
  readonly toMove: number;
  readonly moved: number;
  readonly startedAt: number;
  readonly status: MessageMoveTaskStatus;
  readonly failureReason?: string;
}

export interface MoveTaskOptions {
  readonly handle: string;
  readonly source: DurableQueue;
  readonly sourceArn: string;
  readonly destinationArn: string | undefined;
  readonly rate: number;
  readonly resolve: (arn: string) => DurableQueue | undefined;
  readonly clock: Clock;
  /** Stores the task's progress (after each batch and on every status change). */
  readonly persist: (record: MoveTaskRecord) => Promise<void>;
  /** A task read back from the catalog: it carries on where it was. */
  readonly restored?: MoveTaskRecord;
}

/**
 * Redrive: moves the messages a dead-letter queue holds when the task starts back to the queue
 * each came from (or to one destination), at most `rate` messages a second.
 */
export class MessageMoveTask {
  status: MessageMoveTaskStatus;
  moved: number;
  readonly toMove: number;
  readonly startedAt: number;
  failureReason: string | undefined;
  private readonly seqLimit: number;
  private tokens = 0;
  private readonly abort = new AbortController();
  readonly done: Promise<void>;

  constructor(private readonly options: MoveTaskOptions) {
    const { source, restored } = options;
    if (restored !== undefined) {
      this.status = restored.status;
      this.moved = restored.moved;
      this.toMove = restored.toMove;
      this.startedAt = restored.startedAt;
      this.seqLimit = restored.seqLimit;
      this.failureReason = restored.failureReason;
    } else {
      source.advance();
      this.status = "RUNNING";
      this.moved = 0;
      this.seqLimit = source.endOffset;
      this.toMove = source.state.visibleCount;
      this.startedAt = options.clock.now();
    }
    this.done = this.status === "RUNNING" ? this.run() : Promise.resolve();
  }

  get handle(): string {
    return this.options.handle;
  }

  get sourceArn(): string {
    return this.options.sourceArn;
  }

  private get source(): DurableQueue {
    return this.options.source;
  }

  record(): MoveTaskRecord {
    const { handle, sourceArn, destinationArn, rate } = this.options;
    const record: Writable<MoveTaskRecord> = {
      handle,
      sourceArn,
      rate,
      seqLimit: this.seqLimit,
      toMove: this.toMove,
      moved: this.moved,
      startedAt: this.startedAt,
      status: this.status,
    };
    if (destinationArn !== undefined) record.destinationArn = destinationArn;
    if (this.failureReason !== undefined) record.failureReason = this.failureReason;
    return record;
  }

  /** The task as listMessageMoveTasks reports it: the record under SQS's names. */
  view(): MoveTaskView {
    const r = this.record();
    const view: Writable<MoveTaskView> = {
      TaskHandle: r.handle,
      Status: r.status,
      SourceArn: r.sourceArn,
      MaxNumberOfMessagesPerSecond: r.rate,
      ApproximateNumberOfMessagesMoved: r.moved,
      ApproximateNumberOfMessagesToMove: r.toMove,
      StartedTimestamp: r.startedAt,
    };
    if (r.destinationArn !== undefined) view.DestinationArn = r.destinationArn;
    if (r.failureReason !== undefined) view.FailureReason = r.failureReason;
    return view;
  }

  /** Cancels a running task for good (recorded, so it stays cancelled after a restart). */
  async cancel(): Promise<void> {
    if (this.status !== "RUNNING") return;
    this.status = "CANCELLED";
    this.abort.abort();
    await this.done;
    await this.options.persist(this.record());
  }

  /** Stops the work without changing the status: on close, a running task resumes on reopen. */
  stop(): void {
    this.abort.abort();
  }

  private async run(): Promise<void> {
    try {
      while (this.status === "RUNNING" && !this.abort.signal.aborted) {
        // A source stopped by a failed append is reopened without this task: it fails, saying why.
        if (this.source.failure !== undefined) throw this.source.failure;
        if (this.source.isClosed) return;
        this.tokens = Math.min(
          this.tokens + (this.options.rate * TICK_MS) / 1000,
          this.options.rate,
        );
        const batch = this.nextBatch(Math.floor(this.tokens));
        if (batch === "done") {
          this.status = "COMPLETED";
          this.save();
          return;
        }
        if (batch.length > 0) {
          this.tokens -= batch.length;
          await this.move(batch);
          this.save();
          if (this.status !== "RUNNING") return;
        }
        // A background task: its pacing never holds the process open.
        await this.options.clock.sleep(TICK_MS, this.abort.signal, { keepAlive: false });
      }
    } catch (error) {
      if (this.status === "RUNNING" && !this.abort.signal.aborted) {
        this.status = "FAILED";
        this.failureReason = error instanceof Error ? error.message : String(error);
        this.save();
      }
    }
  }

  /**
   * Records progress without waiting for it: the catalog appends in call order, so the newest
   * record wins, and a lagging count after a crash only means the task resumes a little early.
   */
  private save(): void {
    void this.options.persist(this.record()).catch(() => undefined);
  }

  /** Up to `n` visible messages that were in the queue when the task started. */
  private nextBatch(n: number): QueuedMessage[] | "done" {
    this.source.advance();
    const batch: QueuedMessage[] = [];
    let remaining = false;
    for (const m of this.source.state.inOrder()) {
      if (m.seq >= this.seqLimit) break;
      if (m.state !== VISIBLE) continue;
      remaining = true;
      if (batch.length >= n) break;
      batch.push(m);
    }
    return remaining ? batch : "done";
  }

  private async move(batch: QueuedMessage[]): Promise<void> {
    const stored = this.source.read(batch);
    const destinations = new Map<number, DurableQueue>();
    for (const s of stored) {
      const arn = this.options.destinationArn ?? s.meta.src;
      const destination = arn === undefined ? undefined : this.options.resolve(arn);
      if (destination === undefined)
        throw new Error(
          `message ${s.meta.i} has no destination queue (${arn ?? "no DeadLetterQueueSourceArn"})`,
        );
      destinations.set(s.state.seq, destination);
    }
    for (const m of batch) this.source.state.remove(m);
    await transferMessages(
      this.source,
      stored,
      (s) => destinations.get(s.state.seq)!,
      this.options.clock.now(),
    );
    this.moved += batch.length;
  }
}
