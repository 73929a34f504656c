import type { PreparedSend } from "../../messaging/queues/durable-queue.js";
import { fromJsonMeta } from "../../messaging/queues/message-record.js";
import type { MoveTaskRecord } from "../../messaging/queues/message-move-task.js";
import type {
  MessageMoveTask as MoveTaskView,
  MessageMoveTaskStatus,
} from "../../messaging/queues/queue-service.js";
import type { Writable } from "../../messaging/queues/writable.js";
import type { Clock, Timer } from "../../time/index.js";
import type { NatsQueue } from "./nats-queue.js";
import { type HeldMessage, VISIBLE } from "./replicated-queue.js";

const TICK_MS = 100;
const BATCH = 10;

export interface NatsMoveTaskOptions {
  readonly handle: string;
  readonly source: NatsQueue;
  readonly sourceArn: string;
  readonly destinationArn: string | undefined;
  readonly rate: number;
  readonly resolve: (arn: string) => NatsQueue | undefined;
  readonly clock: Clock;
  readonly persist: (record: MoveTaskRecord) => Promise<void>;
  readonly restored?: MoveTaskRecord;
}

/**
 * Redrive on JetStream: moves the messages a dead-letter queue held when the task started back
 * to the queue each came from (or to one destination), at most `rate` a second on average. Each
 * batch is stored in its destination before it is deleted from the source, so a crash between
 * the two duplicates a message and never loses one (and a retried batch is stored once).
 */
export class NatsMoveTask {
  status: MessageMoveTaskStatus;
  moved: number;
  readonly toMove: number;
  readonly startedAt: number;
  failureReason: string | undefined;
  private readonly seqLimit: number;
  /** The budget counts from here: the start, or the reopen that resumed the task. */
  private readonly resumedAt: number;
  private readonly movedAtResume: number;
  private ticker: Timer | undefined;
  private working: Promise<void> = Promise.resolve();
  private busy = false;
  private stopped = false;

  constructor(private readonly options: NatsMoveTaskOptions) {
    const { source, restored, clock } = options;
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
      this.seqLimit = source.state.appliedSeq + 1;
      this.toMove = source.state.counts(clock.now()).visible;
      this.startedAt = clock.now();
    }
    this.resumedAt = clock.now();
    this.movedAtResume = this.moved;
    if (this.status === "RUNNING") this.tick();
  }

  get handle(): string {
    return this.options.handle;
  }

  get sourceArn(): string {
    return this.options.sourceArn;
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

  /** The task under SQS's names. */
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

  /** Resolves once the work the elapsed time allows so far is done. */
  settled(): Promise<void> {
    return this.working;
  }

  /** Cancels a running task for good (recorded, so it stays cancelled after a restart). */
  async cancel(): Promise<void> {
    if (this.status !== "RUNNING") return;
    this.status = "CANCELLED";
    this.stop();
    await this.working;
    await this.options.persist(this.record());
  }

  /** Stops the work without changing the status: a running task resumes on the next open. */
  stop(): void {
    this.stopped = true;
    this.ticker?.cancel();
  }

  get done(): Promise<void> {
    return this.working;
  }

  /** Every tick lets the work catch up with the time passed, whether or not the last is done. */
  private tick(): void {
    if (this.stopped || this.status !== "RUNNING") return;
    this.kick();
    this.ticker = this.options.clock.setTimer(TICK_MS, () => this.tick());
  }

  private kick(): void {
    if (this.busy) return;
    this.busy = true;
    this.working = this.work().finally(() => (this.busy = false));
  }

  private allowance(): number {
    const elapsed = this.options.clock.now() - this.resumedAt;
    return this.movedAtResume + Math.floor((this.options.rate * elapsed) / 1000);
  }

  private async work(): Promise<void> {
    const { source } = this.options;
    try {
      while (this.status === "RUNNING" && !this.stopped && !source.isClosed) {
        await source.caughtUp();
        const room = Math.min(BATCH, this.allowance() - this.moved);
        const batch = this.nextBatch(Math.max(0, room));
        if (batch === "done") {
          this.status = "COMPLETED";
          await this.options.persist(this.record());
          this.ticker?.cancel();
          return;
        }
        if (batch.length === 0) return;
        await this.move(batch);
        await this.options.persist(this.record());
      }
    } catch (error) {
      if (this.status === "RUNNING" && !this.stopped) {
        this.status = "FAILED";
        this.failureReason = error instanceof Error ? error.message : String(error);
        this.ticker?.cancel();
        await this.options.persist(this.record()).catch(() => undefined);
      }
    }
  }

  /** Up to `n` visible messages that were in the queue when the task started. */
  private nextBatch(n: number): HeldMessage[] | "done" {
    const { source, clock } = this.options;
    source.advance();
    const now = clock.now();
    const batch: HeldMessage[] = [];
    let remaining = false;
    for (const m of source.state.inOrder()) {
      if (m.seq >= this.seqLimit) break;
      if (m.statusAt(now) !== VISIBLE || source.reserved.has(m.seq)) continue;
      remaining = true;
      if (batch.length >= n) break;
      batch.push(m);
    }
    return remaining ? batch : "done";
  }

  private async move(batch: HeldMessage[]): Promise<void> {
    const { source, clock } = this.options;
    const byDestination = new Map<NatsQueue, HeldMessage[]>();
    for (const m of batch) {
      const arn = this.options.destinationArn ?? m.meta.src;
      const destination = arn === undefined ? undefined : this.options.resolve(arn);
      if (destination === undefined)
        throw new Error(
          `message ${m.meta.i} has no destination queue (${arn ?? "no DeadLetterQueueSourceArn"})`,
        );
      byDestination.set(destination, [...(byDestination.get(destination) ?? []), m]);
    }
    await transferHeld(source, byDestination, clock.now());
    this.moved += batch.length;
  }
}

/**
 * Moves messages out of `source`: stored in each destination first (keeping MessageId, body and
 * attributes), then deleted from the source if nobody received them in between.
 */
export async function transferHeld(
  source: NatsQueue,
  byDestination: ReadonlyMap<NatsQueue, readonly HeldMessage[]>,
  now: number,
  deadLetterSourceArn?: string,
): Promise<void> {
  const all = [...byDestination.values()].flat();
  for (const m of all) source.reserved.add(m.seq);
  try {
    await Promise.all(
      [...byDestination].map(([destination, messages]) =>
        destination.send(
          messages.map((m) => asSend(m, destination.config.fifo, now, deadLetterSourceArn)),
          messages.map((m) => `${m.meta.i}.${source.uid}.${m.seq}.${m.receiveCount}`),
        ),
      ),
    );
    await source.remove(all.map((m) => ({ seq: m.seq, receiveCount: m.receiveCount })));
  } finally {
    for (const m of all) source.reserved.delete(m.seq);
  }
}

function asSend(
  m: HeldMessage,
  fifo: boolean,
  now: number,
  deadLetterSourceArn: string | undefined,
): PreparedSend {
  const { meta } = m;
  // SQS keeps the enqueue time of a message moved into a standard queue; a FIFO queue resets it.
  const send: Writable<PreparedSend> = {
    body: m.body,
    delayMs: 0,
    messageId: meta.i,
    sentAt: fifo ? now : m.sentAt,
    skipDeduplication: true,
  };
  const { a: attributes, y: systemAttributes } = fromJsonMeta(meta);
  if (attributes !== undefined) send.attributes = attributes;
  if (systemAttributes !== undefined) send.systemAttributes = systemAttributes;
  if (meta.g !== undefined) send.groupId = meta.g;
  if (meta.d !== undefined) send.deduplicationId = meta.d;
  if (deadLetterSourceArn !== undefined) send.deadLetterSourceArn = deadLetterSourceArn;
  return send;
}
