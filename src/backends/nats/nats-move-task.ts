import type { PreparedSend } from "../../messaging/queues/durable-queue.js";
import { fromJsonMeta } from "../../messaging/queues/message-record.js";
import type {
  MessageMoveTask as MoveTaskView,
  MessageMoveTaskStatus,
} from "../../messaging/queues/queue-service.js";
import type { Writable } from "../../messaging/queues/writable.js";
import type { Clock, Timer } from "../../time/index.js";
import type { NatsQueue, Payload } from "./nats-queue.js";
import { isConflict } from "./kv-conflict.js";
import type { OwnedMoveTaskRecord, StoredMoveTask } from "./nats-catalog.js";
import { type HeldMessage, VISIBLE } from "./replicated-queue.js";

const TICK_MS = 100;
const BATCH = 10;
/** How often (real time) the owner renews its claim on a running task, and others look at it. */
const RENEW_MS = 1000;
/**
 * How long (real time, on the observer's own clock) a running task's record may stay unchanged
 * before another process takes it over: its owner renews it every RENEW_MS while alive.
 */
export const LEASE_MS = 5000;
const MAX_WRITE_ROUNDS = 50;

/** Where a task's record is kept (the catalog bucket), written on the revision last read. */
export interface MoveTaskStore {
  create(record: OwnedMoveTaskRecord): Promise<number>;
  update(record: OwnedMoveTaskRecord, revision: number): Promise<number>;
  read(handle: string): Promise<StoredMoveTask | undefined>;
}

export interface NatsMoveTaskOptions {
  readonly handle: string;
  readonly source: NatsQueue;
  readonly sourceArn: string;
  readonly destinationArn: string | undefined;
  readonly rate: number;
  readonly resolve: (arn: string) => NatsQueue | undefined;
  readonly clock: Clock;
  /** This process's id: the owner a record names while this process works the task. */
  readonly writer: string;
  readonly store: MoveTaskStore;
  readonly restored?: StoredMoveTask;
}

/**
 * Redrive on JetStream: moves the messages a dead-letter queue held when the task started back
 * to the queue each came from (or to one destination), at most `rate` a second on average. Each
 * batch is stored in its destination before it is deleted from the source, so a crash between
 * the two duplicates a message and never loses one (and a retried batch is stored once).
 *
 * Every process holds every task, but only the one its record names as owner moves messages.
 * The owner rewrites the record at least every RENEW_MS, each write on the revision it last
 * wrote; the others follow the record (`observe`) and take a running task over, by a write on
 * the revision they saw, once that revision has not changed for LEASE_MS on their own clock.
 * An owner whose write is refused reads the record and stops if it was cancelled or taken.
 * Right after a takeover the old owner may still finish a batch: its messages carry the same
 * `Nats-Msg-Id` (message, source stream, sequence, receive count) the new owner would send,
 * so JetStream stores each once, and the second delete names a receive already gone and does
 * nothing; the overlap duplicates no message (the count moved may be a little high).
 */
export class NatsMoveTask {
  status: MessageMoveTaskStatus;
  moved: number;
  readonly toMove: number;
  readonly startedAt: number;
  failureReason: string | undefined;
  private readonly seqLimit: number;
  private owner: string | undefined;
  /** The catalog revision of the record as this process last wrote or heard it. */
  private revision = 0;
  /** When (performance.now(), this process's clock) the revision last changed. */
  private revisionSeenAt = performance.now();
  /** The budget counts from here: the start, or the takeover that resumed the task. */
  private resumedAt = 0;
  private movedAtResume = 0;
  private ticker: Timer | undefined;
  private leaseTimer: ReturnType<typeof setInterval> | undefined;
  private working: Promise<void> = Promise.resolve();
  private writes: Promise<void> = Promise.resolve();
  private claiming: Promise<void> = Promise.resolve();
  private busy = false;
  private writing = false;
  private cancelling = false;
  private stopped = false;

  constructor(private readonly options: NatsMoveTaskOptions) {
    const { source, restored, clock } = options;
    if (restored !== undefined) {
      const { record } = restored;
      this.status = record.status;
      this.moved = record.moved;
      this.toMove = record.toMove;
      this.startedAt = record.startedAt;
      this.seqLimit = record.seqLimit;
      this.failureReason = record.failureReason;
      this.owner = record.owner;
      this.revision = restored.revision;
    } else {
      source.advance();
      this.status = "RUNNING";
      this.moved = 0;
      this.seqLimit = source.state.appliedSeq + 1;
      this.toMove = source.state.counts(clock.now()).visible;
      this.startedAt = clock.now();
    }
  }

  get handle(): string {
    return this.options.handle;
  }

  get sourceArn(): string {
    return this.options.sourceArn;
  }

  /** This process works the task now. */
  get owned(): boolean {
    return this.owner === this.options.writer && this.status === "RUNNING" && !this.stopped;
  }

  /** Stores a new task naming this process its owner, and starts working it. */
  async start(): Promise<void> {
    this.owner = this.options.writer;
    this.revision = await this.options.store.create(this.record());
    this.revisionSeenAt = performance.now();
    this.startWorking();
    this.watchLease();
  }

  /**
   * Follows a restored task: an ownerless running one (the owner closed, or an older release
   * wrote it) is claimed at once; one owned elsewhere is taken over if its owner stops renewing.
   */
  follow(): void {
    this.watchLease();
    if (this.status === "RUNNING" && this.owner === undefined) this.claim();
  }

  record(): OwnedMoveTaskRecord {
    const { handle, sourceArn, destinationArn, rate } = this.options;
    const record: Writable<OwnedMoveTaskRecord> = {
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
    if (this.owner !== undefined) record.owner = this.owner;
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

  /** Resolves once the work the elapsed time allows so far is done (here, if owned here). */
  async settled(): Promise<void> {
    await this.claiming;
    await this.working;
  }

  /**
   * A record of this task heard through the catalog's watch (any process's write, this one's
   * too). Newer ones replace what is held here; the owner stops when another process cancelled
   * or took the task.
   */
  observe(stored: StoredMoveTask): void {
    const { record, revision } = stored;
    if (this.stopped || this.cancelling) return;
    // Only this process writes a running record naming it: the echo of its own write, which
    // may come before that write's answer (and after a later write's status changed here).
    if (record.owner === this.options.writer && record.status === "RUNNING") return;
    if (revision <= this.revision) return;
    if (this.owned) this.stopWork();
    this.adopt(stored);
    if (this.status === "RUNNING" && this.owner === undefined) this.claim(); // its owner closed
  }

  /**
   * Cancels a running task for good (recorded, so it stays cancelled after a restart), whichever
   * process works it: the owner hears the CANCELLED record and stops.
   */
  async cancel(): Promise<void> {
    if (this.status !== "RUNNING") return;
    this.cancelling = true;
    try {
      if (this.owned) {
        this.status = "CANCELLED";
        this.stopWork();
        await this.working;
      }
      await this.writes;
      this.status = "CANCELLED";
      await this.storeOnRevision((latest) => {
        if (latest === undefined) return false;
        this.adopt(latest);
        if (latest.record.status !== "RUNNING") return false; // finished or cancelled elsewhere first
        this.status = "CANCELLED";
        return true;
      });
    } finally {
      this.cancelling = false;
    }
  }

  /** Stops the work without changing the status: a running task resumes on the next open. */
  stop(): void {
    this.stopped = true;
    this.ticker?.cancel();
    if (this.leaseTimer !== undefined) clearInterval(this.leaseTimer);
  }

  /**
   * Stops and, if this process worked the task, stores it ownerless, so the next process to
   * see it carries on at once instead of waiting out the lease.
   */
  async release(): Promise<void> {
    const wasOwned = this.owned;
    this.stop();
    await this.working;
    await this.writes;
    if (!wasOwned || this.status !== "RUNNING" || this.owner !== this.options.writer) return;
    this.owner = undefined;
    await this.options.store.update(this.record(), this.revision).catch(() => undefined);
  }

  get done(): Promise<void> {
    return this.working;
  }

  private adopt({ record, revision }: StoredMoveTask): void {
    this.status = record.status;
    this.moved = record.moved;
    this.failureReason = record.failureReason;
    this.owner = record.owner;
    this.revision = revision;
    this.revisionSeenAt = performance.now();
  }

  /** Renews the claim while this process owns the task, and watches the owner otherwise. */
  private watchLease(): void {
    if (this.leaseTimer !== undefined || this.stopped) return;
    this.leaseTimer = setInterval(() => {
      if (this.status !== "RUNNING") clearInterval(this.leaseTimer); // finished for good
      if (this.stopped || this.status !== "RUNNING") return;
      if (this.owned) {
        if (!this.writing) void this.write().catch(() => undefined); // retried next round
      } else if (this.owner === undefined || performance.now() - this.revisionSeenAt >= LEASE_MS)
        this.claim();
    }, RENEW_MS);
    this.leaseTimer.unref();
  }

  /** Takes the task over by a write naming this process, on the revision last seen. */
  private claim(): void {
    this.claiming = this.claiming
      .then(async () => {
        if (this.stopped || this.status !== "RUNNING" || this.owned) return;
        // Not owned here until stored: the renewal must not write on the revision meanwhile.
        const claimed: OwnedMoveTaskRecord = { ...this.record(), owner: this.options.writer };
        try {
          this.revision = await this.options.store.update(claimed, this.revision);
          this.owner = this.options.writer;
          this.revisionSeenAt = performance.now();
        } catch {
          // Someone else wrote first (or the servers did not answer): look again.
          const latest = await this.options.store.read(this.handle).catch(() => undefined);
          if (latest !== undefined) this.adopt(latest);
          return;
        }
        if (this.stopped) return;
        this.startWorking();
      })
      .catch(() => undefined);
  }

  /** Starts working an owned task: the budget counts from now. */
  private startWorking(): void {
    this.resumedAt = this.options.clock.now();
    this.movedAtResume = this.moved;
    this.tick();
  }

  /** Stops moving (another process cancelled or took the task). */
  private stopWork(): void {
    this.ticker?.cancel();
    this.ticker = undefined;
  }

  /**
   * Stores the task's state on the revision this process last wrote. Refused: another process
   * wrote since; this one reads the record and keeps working only if it still names it owner of
   * a running task.
   */
  private write(): Promise<void> {
    const writing = this.writes.then(async () => {
      if (this.owner !== this.options.writer) return;
      this.writing = true;
      try {
        await this.storeOnRevision((latest) => {
          if (latest === undefined) {
            this.stop(); // deleted with its queue
            return false;
          }
          const stillMine =
            latest.record.owner === this.options.writer && latest.record.status === "RUNNING";
          if (!stillMine) {
            this.stopWork();
            this.adopt(latest);
            return false;
          }
          this.revision = latest.revision;
          return this.owner === this.options.writer;
        });
      } finally {
        this.writing = false;
      }
    });
    this.writes = writing.catch(() => undefined);
    return writing;
  }

  /**
   * Stores the record on the revision last seen. Refused (another process wrote since): reads the
   * stored record and asks `again` whether to write once more (it may take what it read in).
   */
  private async storeOnRevision(
    again: (latest: StoredMoveTask | undefined) => boolean,
  ): Promise<void> {
    for (let round = 0; ; round++) {
      try {
        this.revision = await this.options.store.update(this.record(), this.revision);
        this.revisionSeenAt = performance.now();
        return;
      } catch (error) {
        if (!isConflict(error) || round >= MAX_WRITE_ROUNDS) throw error;
        if (!again(await this.options.store.read(this.handle))) return;
      }
    }
  }

  /** Every tick lets the work catch up with the time passed, whether or not the last is done. */
  private tick(): void {
    if (!this.owned) return;
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
      while (this.owned && !source.isClosed) {
        await source.caughtUp();
        if (!this.owned) return;
        const room = Math.min(BATCH, this.allowance() - this.moved);
        const batch = this.nextBatch(Math.max(0, room));
        if (batch === "done") {
          this.status = "COMPLETED";
          this.ticker?.cancel();
          await this.write();
          return;
        }
        if (batch.length === 0) return;
        await this.move(batch);
        await this.write();
      }
    } catch (error) {
      if (this.owned) {
        this.status = "FAILED";
        this.failureReason = error instanceof Error ? error.message : String(error);
        this.ticker?.cancel();
        await this.write().catch(() => undefined);
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
      [...byDestination].map(async ([destination, held]) => {
        const messages = await source.payloads(held);
        await destination.send(
          messages.map((m) => asSend(m, destination.config.fifo, now, deadLetterSourceArn)),
          messages.map(({ message: m }) => `${m.meta.i}.${source.uid}.${m.seq}.${m.receiveCount}`),
        );
      }),
    );
    await source.remove(all.map((m) => ({ seq: m.seq, receiveCount: m.receiveCount })));
  } finally {
    for (const m of all) source.reserved.delete(m.seq);
  }
}

function asSend(
  { message: m, payload }: { message: HeldMessage; payload: Payload },
  fifo: boolean,
  now: number,
  deadLetterSourceArn: string | undefined,
): PreparedSend {
  const { meta } = payload;
  // SQS keeps the enqueue time of a message moved into a standard queue; a FIFO queue resets it.
  const send: Writable<PreparedSend> = {
    body: payload.body,
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
