import type { Clock } from "../../time/index.js";
import type { DurableQueue } from "./durable-queue.js";
import { transferMessages } from "./message-transfer.js";
import type { MessageMoveTask as MoveTaskView, MessageMoveTaskStatus } from "./queue-service.js";
import { type QueuedMessage, VISIBLE } from "./queue-state.js";

const TICK_MS = 100;
export const MAX_MOVE_RATE = 500;

/**
 * Redrive: moves the messages a dead-letter queue holds when the task starts back to the queue
 * each came from (or to one destination), at most `rate` messages a second.
 */
export class MessageMoveTask {
  status: MessageMoveTaskStatus = "RUNNING";
  moved = 0;
  readonly toMove: number;
  readonly startedAt: number;
  failureReason: string | undefined;
  private readonly seqLimit: number;
  private tokens = 0;
  private readonly abort = new AbortController();
  readonly done: Promise<void>;

  constructor(
    readonly handle: string,
    private readonly source: DurableQueue,
    readonly sourceArn: string,
    readonly destinationArn: string | undefined,
    readonly rate: number,
    private readonly resolve: (arn: string) => DurableQueue | undefined,
    private readonly clock: Clock,
  ) {
    source.advance();
    this.seqLimit = source.log.logEndOffset;
    this.toMove = source.state.visibleCount;
    this.startedAt = clock.now();
    this.done = this.run();
  }

  view(): MoveTaskView {
    const view: { -readonly [K in keyof MoveTaskView]: MoveTaskView[K] } = {
      TaskHandle: this.handle,
      Status: this.status,
      SourceArn: this.sourceArn,
      MaxNumberOfMessagesPerSecond: this.rate,
      ApproximateNumberOfMessagesMoved: this.moved,
      ApproximateNumberOfMessagesToMove: this.toMove,
      StartedTimestamp: this.startedAt,
    };
    if (this.destinationArn !== undefined) view.DestinationArn = this.destinationArn;
    if (this.failureReason !== undefined) view.FailureReason = this.failureReason;
    return view;
  }

  cancel(): void {
    if (this.status !== "RUNNING") return;
    this.status = "CANCELLED";
    this.abort.abort();
  }

  private async run(): Promise<void> {
    try {
      while (this.status === "RUNNING" && !this.source.isClosed) {
        this.tokens = Math.min(this.tokens + (this.rate * TICK_MS) / 1000, this.rate);
        const batch = this.nextBatch(Math.floor(this.tokens));
        if (batch === "done") {
          this.status = "COMPLETED";
          return;
        }
        if (batch.length > 0) {
          this.tokens -= batch.length;
          await this.move(batch);
          if (this.status !== "RUNNING") return;
        }
        await this.clock.sleep(TICK_MS, this.abort.signal);
      }
    } catch (error) {
      if (this.status === "RUNNING") {
        this.status = "FAILED";
        this.failureReason = error instanceof Error ? error.message : String(error);
      }
    }
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
      const arn = this.destinationArn ?? s.meta.src;
      const destination = arn === undefined ? undefined : this.resolve(arn);
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
      this.clock.now(),
    );
    this.moved += batch.length;
  }
}
