import type { SendOutcome } from "../../messaging/queues/durable-queue.js";
import { ExpiringMap } from "../../messaging/queues/expiring-map.js";
import type { MessageMeta } from "../../messaging/queues/message-record.js";
import { PayloadBudget } from "./payload-budget.js";

/** SQS's FIFO deduplication interval. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

/**
 * One entry of a queue's stream. Every process applies the same entries in the same (stream)
 * order, so every process arrives at the same state; an entry that names messages says which
 * receive it expects them at (`rc`, their receive counts), so an entry written from a stale
 * view changes nothing instead of clobbering a newer change.
 */
export type QueueEntry =
  /**
   * A message: its body and everything else about it; `bytes`, its size as stored (metadata and
   * body), when read from a stream.
   */
  | {
      readonly kind: "m";
      readonly meta: MessageMeta;
      readonly body: string;
      readonly bytes?: number;
    }
  /**
   * A receive: each message taken if still at receive count `rc`, in flight until `v`. With a
   * FIFO ReceiveRequestAttemptId `a` whose earlier receive is intact, it repeats that receive
   * instead (whichever process made it).
   */
  | {
      readonly kind: "r";
      readonly s: readonly number[];
      readonly rc: readonly number[];
      readonly v: number;
      readonly a?: string;
    }
  /** A delete: each message removed if still at receive count `rc` (-1: whatever it is). */
  | { readonly kind: "d"; readonly s: readonly number[]; readonly rc: readonly number[] }
  /** A visibility change: new deadlines for messages still in flight at receive count `rc`. */
  | {
      readonly kind: "c";
      readonly s: readonly number[];
      readonly rc: readonly number[];
      readonly v: readonly number[];
    }
  /** A purge: every message with a lower sequence number than this entry's is gone. */
  | { readonly kind: "p" }
  /**
   * A FIFO queue's new DelaySeconds (`d` ms): it applies to the messages already queued and
   * never received, counted from their send time, as SQS does.
   */
  | { readonly kind: "y"; readonly d: number };

/**
 * What applying an entry decided: a send's outcome, the messages a receive got, or per message a
 * delete or visibility change named whether it took.
 */
export type ApplyResult = SendOutcome | HeldMessage[] | boolean[] | undefined;

export const VISIBLE = "visible";
export const INFLIGHT = "inflight";
export const DELAYED = "delayed";
export type MessageStatus = typeof VISIBLE | typeof INFLIGHT | typeof DELAYED;

/**
 * A message as every process holds it: metadata, receive state and, unless its queue's service
 * holds as many payloads as it may (`PayloadBudget`), its body and attributes; without them,
 * `body` is undefined and `meta` has no attributes (`NatsQueue.payloads` reads them back).
 */
export class HeldMessage {
  receiveCount = 0;
  firstReceiveAt = 0;
  receivedAt = 0;
  /** Visibility changes applied since the last receive: a receive attempt repeats only untouched. */
  changes = 0;

  constructor(
    /** The stream sequence of the message's entry: SQS's SequenceNumber, in send order. */
    readonly seq: number,
    readonly sentAt: number,
    /** Not receivable before this time (delay or visibility timeout), ms since the epoch. */
    public due: number,
    readonly meta: MessageMeta,
    readonly body: string | undefined,
    /** The payload bytes counted against the budget while this message is held (0: none). */
    readonly heldBytes: number,
  ) {}

  /** Where the message stands at `now`: time alone moves it, no timer has to fire. */
  statusAt(now: number): MessageStatus {
    if (this.due <= now) return VISIBLE;
    return this.receiveCount > 0 ? INFLIGHT : DELAYED;
  }
}

/**
 * A FIFO receive made with a ReceiveRequestAttemptId, kept five minutes: a receive with the same
 * id repeats it (same messages, same receive counts, so the same receipt handles) while every
 * message is still in flight from it, neither deleted, changed nor received again since.
 */
class ReceiveAttempt {
  private readonly receiveCounts: readonly number[];

  constructor(readonly messages: readonly HeldMessage[]) {
    this.receiveCounts = messages.map((m) => m.receiveCount);
  }

  intactAt(t: number, live: ReadonlyMap<number, HeldMessage>): boolean {
    return this.messages.every(
      (m, i) =>
        live.get(m.seq) === m &&
        m.receiveCount === this.receiveCounts[i] &&
        m.changes === 0 &&
        m.statusAt(t) === INFLIGHT,
    );
  }
}

export interface QueueCounts {
  readonly visible: number;
  readonly inflight: number;
  readonly delayed: number;
}

/**
 * The state of one queue, built by applying its stream's entries in order. Free of I/O and of
 * the local clock: an entry carries the time its writer saw, and applying it depends only on the
 * entries before it, so all processes agree. Reads (`select`, `counts`) take the reader's time.
 */
export class ReplicatedQueue {
  /** Live messages in sequence order (entries are applied in stream order). */
  readonly messages = new Map<number, HeldMessage>();
  private readonly groups = new Map<string, Set<HeldMessage>>();
  private readonly dedup = new ExpiringMap<SendOutcome>(DEDUPLICATION_WINDOW_MS);
  /** FIFO receives with a ReceiveRequestAttemptId in the last five minutes, by id. */
  private readonly attempts = new ExpiringMap<ReceiveAttempt>(DEDUPLICATION_WINDOW_MS);
  /** The latest entry time applied so far: windows expire by it, never going backwards. */
  private entryClock = 0;
  /** Sends inside the deduplication window, oldest first: compaction must keep them. */
  private readonly dedupLog: { seq: number; at: number }[] = [];
  lastPurgeAt = Number.NEGATIVE_INFINITY;
  appliedSeq = 0;
  /** The latest send time of a message applied so far. */
  private latestSentAt = Number.NEGATIVE_INFINITY;
  /**
   * Whether a message was applied behind a newer one (a dead letter keeps its source's
   * SentTimestamp): then retention must look at every message, not stop at the first young one.
   */
  private sentOutOfOrder = false;

  constructor(
    readonly fifo: boolean,
    /** DeduplicationScope "messageGroup": the same id in two groups is two messages. */
    private readonly dedupPerGroup: () => boolean,
    /** The payloads this queue may hold, shared with the service's other queues. */
    private readonly budget = new PayloadBudget(Number.POSITIVE_INFINITY),
  ) {}

  /** Applies the entry at stream sequence `seq`, written at time `t`. */
  apply(seq: number, t: number, entry: QueueEntry): ApplyResult {
    // Sequences run without gaps but where compaction purged the stream's head, which holds
    // nothing before the oldest message still live: an entry past a gap (a tail that fell
    // behind a compaction) means every message sent before it is gone, its delete, move or
    // purge among the entries purged.
    if (seq > this.appliedSeq + 1) this.forgetBefore(seq);
    this.appliedSeq = Math.max(this.appliedSeq, seq);
    this.entryClock = Math.max(this.entryClock, t);
    switch (entry.kind) {
      case "m":
        return this.applyMessage(seq, t, entry.meta, entry.body, entry.bytes ?? entry.body.length);
      case "r":
        return this.applyReceive(t, entry);
      case "d":
        return entry.s.map((s, i) => {
          const m = this.messages.get(s);
          if (m === undefined || (entry.rc[i] !== -1 && m.receiveCount !== entry.rc[i]))
            return false;
          this.remove(m);
          return true;
        });
      case "c":
        return entry.s.map((s, i) => {
          const m = this.messages.get(s);
          if (m === undefined || m.receiveCount !== entry.rc[i] || m.statusAt(t) !== INFLIGHT)
            return false;
          m.due = entry.v[i]!;
          m.changes++;
          return true;
        });
      case "p":
        for (const m of [...this.messages.values()]) if (m.seq < seq) this.remove(m);
        this.lastPurgeAt = t;
        return undefined;
      case "y":
        for (const m of this.messages.values())
          if (m.seq < seq && m.receiveCount === 0) m.due = m.sentAt + entry.d;
        return undefined;
    }
  }

  private applyMessage(
    seq: number,
    t: number,
    meta: MessageMeta,
    body: string,
    bytes: number,
  ): SendOutcome {
    // Only original sends deduplicate: moved copies (they carry their SentTimestamp) never do.
    const key = meta.st === undefined ? this.dedupKey(meta) : undefined;
    if (key !== undefined) {
      const earlier = this.dedup.get(key, this.entryClock);
      if (earlier !== undefined) return earlier;
    }
    const sentAt = meta.st ?? t;
    if (sentAt < this.latestSentAt) this.sentOutOfOrder = true;
    this.latestSentAt = Math.max(this.latestSentAt, sentAt);
    const held = this.budget.take(bytes);
    const message = held
      ? new HeldMessage(seq, sentAt, meta.v ?? 0, meta, body, bytes)
      : new HeldMessage(seq, sentAt, meta.v ?? 0, withoutAttributes(meta), undefined, 0);
    this.messages.set(seq, message);
    if (this.fifo) this.groupOf(meta.g ?? "").add(message);
    const outcome = { messageId: meta.i, seq };
    if (key !== undefined) {
      this.dedup.set(key, outcome, this.entryClock);
      this.dedupLog.push({ seq, at: this.entryClock });
    }
    return outcome;
  }

  /** The messages the receive got: those it names that it took, or an attempt's repeated. */
  private applyReceive(t: number, entry: QueueEntry & { kind: "r" }): HeldMessage[] {
    if (entry.a !== undefined) {
      const earlier = this.attempts.get(entry.a, this.entryClock);
      if (earlier?.intactAt(t, this.messages) === true) {
        // As in SQS, the repeat resets their visibility timeout.
        for (const m of earlier.messages) m.due = entry.v;
        return [...earlier.messages];
      }
    }
    const taking = new Set(entry.s);
    const taken: HeldMessage[] = [];
    entry.s.forEach((s, i) => {
      const m = this.messages.get(s);
      if (m === undefined || m.receiveCount !== entry.rc[i] || m.statusAt(t) !== VISIBLE) return;
      // FIFO: one receive at a time per group; a competing receive of the same group loses.
      if (this.fifo) {
        for (const other of this.groupOf(m.meta.g ?? ""))
          if (!taking.has(other.seq) && other.statusAt(t) === INFLIGHT) return;
      }
      m.receiveCount++;
      if (m.firstReceiveAt === 0) m.firstReceiveAt = t;
      m.receivedAt = t;
      m.due = entry.v;
      m.changes = 0;
      taken.push(m);
    });
    if (entry.a !== undefined && taken.length > 0)
      this.attempts.set(entry.a, new ReceiveAttempt(taken), this.entryClock);
    return taken;
  }

  private dedupKey(meta: MessageMeta): string | undefined {
    if (!this.fifo || meta.d === undefined) return undefined;
    return this.dedupPerGroup() ? `${meta.g ?? ""}\u0000${meta.d}` : meta.d;
  }

  private groupOf(id: string): Set<HeldMessage> {
    let group = this.groups.get(id);
    if (group === undefined) {
      group = new Set();
      this.groups.set(id, group);
    }
    return group;
  }

  /** Forgets a message (deleted, purged, expired or moved out). */
  remove(m: HeldMessage): void {
    if (!this.messages.delete(m.seq)) return;
    this.budget.release(m.heldBytes);
    if (!this.fifo) return;
    const id = m.meta.g ?? "";
    const group = this.groups.get(id);
    group?.delete(m);
    if (group?.size === 0) this.groups.delete(id);
  }

  /** Gives back the budget of every payload held here (the queue is closing). */
  releasePayloads(): void {
    for (const m of this.messages.values()) this.budget.release(m.heldBytes);
    this.messages.clear();
    this.groups.clear();
  }

  /** Forgets every message sent before stream sequence `seq`. */
  private forgetBefore(seq: number): void {
    for (const m of this.messages.values()) {
      if (m.seq >= seq) break;
      this.remove(m);
    }
  }

  /** Drops messages older than the retention period (every process does so by its own clock). */
  dropExpired(now: number, retentionMs: number): void {
    for (const m of this.messages.values()) {
      if (m.sentAt + retentionMs > now) {
        if (this.sentOutOfOrder) continue;
        break;
      }
      this.remove(m);
    }
  }

  /**
   * The messages a receive at `now` would take, in order: up to `max` visible ones (on FIFO
   * queues the visible heads of groups with nothing in flight), skipping `reserved` (taken by a
   * receive of this process still on its way). Messages already received `maxReceiveCount`
   * times come back as `dead` instead.
   */
  select(
    max: number,
    now: number,
    reserved: ReadonlySet<number>,
    maxReceiveCount: number | undefined,
  ): { take: HeldMessage[]; dead: HeldMessage[] } {
    const take: HeldMessage[] = [];
    const dead: HeldMessage[] = [];
    const blocked = new Set<string>();
    for (const m of this.messages.values()) {
      if (take.length >= max) break;
      const group = m.meta.g ?? "";
      if (this.fifo && blocked.has(group)) continue;
      if (reserved.has(m.seq) || m.statusAt(now) !== VISIBLE) {
        // A FIFO group delivers in order: nothing after a message that is not receivable.
        if (this.fifo) blocked.add(group);
        continue;
      }
      if (maxReceiveCount !== undefined && m.receiveCount >= maxReceiveCount) dead.push(m);
      else take.push(m);
    }
    return { take, dead };
  }

  counts(now: number): QueueCounts {
    let visible = 0;
    let inflight = 0;
    let delayed = 0;
    for (const m of this.messages.values()) {
      const status = m.statusAt(now);
      if (status === VISIBLE) visible++;
      else if (status === INFLIGHT) inflight++;
      else delayed++;
    }
    return { visible, inflight, delayed };
  }

  /** The earliest time after `now` at which a message becomes receivable, if any. */
  nextDue(now: number): number | undefined {
    let next: number | undefined;
    for (const m of this.messages.values())
      if (m.due > now && (next === undefined || m.due < next)) next = m.due;
    return next;
  }

  /** Live messages in sequence order, from the first with seq > `afterSeq`. */
  *inOrder(afterSeq = 0): Generator<HeldMessage> {
    for (const m of this.messages.values()) if (m.seq > afterSeq) yield m;
  }

  /** The lowest sequence number replay still needs: the oldest message or deduplication entry. */
  oldestNeeded(now: number): number {
    let oldest = this.appliedSeq;
    for (const m of this.messages.values()) {
      oldest = Math.min(oldest, m.seq);
      break;
    }
    while (this.dedupLog.length > 0 && this.dedupLog[0]!.at + DEDUPLICATION_WINDOW_MS <= now)
      this.dedupLog.shift();
    if (this.dedupLog.length > 0) oldest = Math.min(oldest, this.dedupLog[0]!.seq);
    return oldest;
  }
}

/** A message's metadata without its attributes, which stay in the stream with its body. */
function withoutAttributes(meta: MessageMeta): MessageMeta {
  const { a: _attributes, y: _system, ...rest } = meta;
  return rest;
}
