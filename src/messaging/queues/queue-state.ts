import { Deque } from "./deque.js";
import type { PreparedSend } from "./durable-queue.js";
import type { MessageHeader } from "./message-header.js";
import { headerOfSend } from "./send-header.js";
import { MinHeap } from "./min-heap.js";

/** Hot-body memory of a service unless configured otherwise. */
export const DEFAULT_HOT_BODY_BYTES = 64 * 1024 * 1024;

export const VISIBLE = 0;
export const INFLIGHT = 1;
export const DELAYED = 2;
export const GONE = 3;
export type MessageState = typeof VISIBLE | typeof INFLIGHT | typeof DELAYED | typeof GONE;

/**
 * What a hot body counts against the budget, in bytes (an estimate): a string holds up to two
 * bytes a character; the metadata is small next to the body.
 */
export function hotBodyBytes(body: string): number {
  return 2 * body.length + 256;
}

/**
 * Memory shared by the queues of one service for hot bodies: a send keeps its body in memory
 * only while the total stays under the limit, and gives its share back when first read.
 */
export class HotBodyBudget {
  used = 0;

  constructor(readonly limitBytes: number) {}

  take(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

/**
 * What the queue keeps in memory per message: its place, its timers and its counts. Body,
 * id and attributes stay in the log and are read back on receive, which keeps a backlog of
 * millions small; only recent sends, up to a budget, keep theirs (`hotSend`) until first read.
 */
export class QueuedMessage {
  state: MessageState = VISIBLE;
  /** INFLIGHT: visibility deadline; DELAYED: when it becomes visible (ms since epoch). */
  due = 0;
  receiveCount = 0;
  firstReceiveAt = 0;
  receivedAt = 0;
  /** Bumped on every timer change, so a receive attempt sees whether anyone changed it since. */
  token = 0;
  /** The receipt handle of the latest receive, once issued: checking it needs no MAC. */
  receipt: string | undefined = undefined;
  /**
   * The send, until the first read takes it (see {@link HotBodyBudget}): its body, digest and
   * header fields, with the id's place in a MessageIds buffer (unless the send names its id);
   * undefined when the message is cold. No object of its own: a fan-out shares one send among
   * its queues and leaves hundreds of thousands of messages unread, and every object more per
   * message is one more for each young-generation collection to copy.
   */
  hotSend: PreparedSend | undefined = undefined;
  hotIdBytes: Buffer | undefined = undefined;
  hotIdAt = 0;

  constructor(
    /** Sequence number: the offset of the message's first record in this queue's log. */
    readonly seq: number,
    /** Offset of the record that now holds the message (moves when compaction carries it). */
    public offset: number,
    readonly sentAt: number,
    readonly group: MessageGroup | undefined,
  ) {}

  /**
   * Keeps the send in memory, its id at `idAt` of `idBytes` (see MessageIds) unless it names its
   * own (the caller took `hotBodyBytes(send.body)` of the budget).
   */
  keepHot(send: PreparedSend, idBytes: Buffer | undefined, idAt: number): void {
    this.hotSend = send;
    this.hotIdBytes = idBytes;
    this.hotIdAt = idAt;
  }

  /** The header of a hot message, as its record holds it. */
  hotHeader(): MessageHeader {
    return headerOfSend(this.hotSend!, this.hotIdBytes, this.hotIdAt, this.sentAt);
  }

  /** Lets go of the hot body; returns the bytes it counted against the budget (0 if cold). */
  dropHot(): number {
    if (this.hotSend === undefined) return 0;
    const bytes = hotBodyBytes(this.hotSend.body);
    this.hotSend = undefined;
    this.hotIdBytes = undefined;
    return bytes;
  }
}

/** A FIFO message group: its messages in order, and how many of them are in flight. */
export class MessageGroup {
  readonly messages = new Deque<QueuedMessage>();
  inflight = 0;
  /** In the ready heap (possibly with a stale key). */
  queued = false;

  constructor(readonly id: string) {}

  /** The first message not yet gone, dropping gone ones from the front. */
  head(): QueuedMessage | undefined {
    for (let m = this.messages.peekFront(); m !== undefined; m = this.messages.peekFront()) {
      if (m.state !== GONE) return m;
      this.messages.shift();
    }
    return undefined;
  }
}

/**
 * A queue's live messages by sequence number, found by binary search over its sequence index
 * (which holds them in sequence order) rather than kept in a `Map`. A map that takes every
 * message and lets it go a moment later replaces its hash table every few hundred changes, and
 * V8 links each replaced table to its successor: once one of them has been promoted, the chain
 * holds every message since through each young-generation collection until the next full one
 * (measured: 4 MB promoted a scavenge at 50 K messages/s, scavenges of 5-15 ms instead of 2).
 */
export class LiveMessages {
  /** Messages added and not yet gone. */
  size = 0;

  constructor(private readonly bySeq: Deque<QueuedMessage>) {}

  get(seq: number): QueuedMessage | undefined {
    const bySeq = this.bySeq;
    let lo = 0;
    let hi = bySeq.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bySeq.at(mid)!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    const found = bySeq.at(lo);
    return found !== undefined && found.seq === seq && found.state !== GONE ? found : undefined;
  }
}

/**
 * The in-memory state machine of one queue, free of I/O: visible / in flight / delayed, with
 * visibility and delay timers in one heap, standard queues served from a deque of visible
 * messages, FIFO queues from a heap of ready message groups (a group is ready when none of its
 * messages is in flight and its head is visible). Time is always passed in.
 */
export class QueueState {
  /** Every live message in sequence order (gone ones are dropped lazily from the front). */
  readonly bySeq = new Deque<QueuedMessage>();
  readonly messages = new LiveMessages(this.bySeq);
  private readonly visible = new Deque<QueuedMessage>();
  private readonly groups = new Map<string, MessageGroup>();
  private readonly readyGroups = new MinHeap<MessageGroup>();
  /**
   * Visibility and delay timers: a message keyed by its due time. An entry is current while the
   * message is in flight or delayed until exactly that time; any other is stale and skipped (a
   * stale entry of the same time would act as the current one: no object per timer is needed).
   */
  private readonly timers = new MinHeap<QueuedMessage>();
  /**
   * Messages added with an older send time than one before them (moved into a standard queue
   * with their original SentTimestamp): retention finds them here, by send time, since the
   * sequence-order sweep stops at the first message still young enough.
   */
  private readonly lateExpiry = new MinHeap<QueuedMessage>();
  private newestSentAt = Number.NEGATIVE_INFINITY;
  visibleCount = 0;
  inflightCount = 0;
  delayedCount = 0;
  constructor(
    readonly fifo: boolean,
    /** Where hot bodies are counted: a message that goes unread gives its share back too. */
    readonly hotBodies = new HotBodyBudget(DEFAULT_HOT_BODY_BYTES),
  ) {}

  group(id: string): MessageGroup {
    let group = this.groups.get(id);
    if (group === undefined) {
      group = new MessageGroup(id);
      this.groups.set(id, group);
    }
    return group;
  }

  /** The send time of the oldest message not yet deleted (in flight ones too), or undefined. */
  oldestSentAt(): number | undefined {
    let head = this.bySeq.peekFront();
    while (head !== undefined && head.state === GONE) {
      this.bySeq.shift();
      head = this.bySeq.peekFront();
    }
    let oldest = head?.sentAt;
    // Messages moved in with their original send time can be older than the sequence head.
    while (this.lateExpiry.peek()?.state === GONE) this.lateExpiry.pop();
    const late = this.lateExpiry.peekKey();
    if (late !== undefined && (oldest === undefined || late < oldest)) oldest = late;
    return oldest;
  }

  get groupCount(): number {
    return this.groups.size;
  }

  /** Adds a message (new, recovered or moved in) in the state its fields say. */
  add(message: QueuedMessage, now: number): void {
    // `messages.get` searches `bySeq` by halves, so it must stay in sequence order: every path
    // adds in increasing order today (sends, recovery after sorting, moves); a new one that did
    // not would make messages impossible to find, so refuse it before anything changes.
    const last = this.bySeq.at(this.bySeq.length - 1);
    if (last !== undefined && last.seq >= message.seq)
      throw new Error(
        `queue state: message ${message.seq} added after message ${last.seq}; ` +
          `messages must be added in sequence order`,
      );
    this.messages.size++;
    if (message.sentAt < this.newestSentAt) this.lateExpiry.push(message.sentAt, message);
    else this.newestSentAt = message.sentAt;
    this.bySeq.push(message);
    message.group?.messages.push(message);
    if (message.state === INFLIGHT && message.due > now) {
      this.inflightCount++;
      if (message.group !== undefined) message.group.inflight++;
      this.schedule(message);
    } else if (message.state === DELAYED && message.due > now) {
      this.delayedCount++;
      this.schedule(message);
    } else {
      this.makeVisible(message);
    }
  }

  /** Moves due timers and expired messages forward to `now`; returns how many became visible. */
  advance(now: number, retentionMs: number): number {
    let woke = 0;
    for (
      let due = this.timers.peekKey();
      due !== undefined && due <= now;
      due = this.timers.peekKey()
    ) {
      const message = this.timers.pop()!;
      if (message.due !== due) continue;
      if (message.state === INFLIGHT) {
        this.inflightCount--;
        if (message.group !== undefined) message.group.inflight--;
      } else if (message.state === DELAYED) this.delayedCount--;
      else continue;
      this.makeVisible(message);
      woke++;
    }
    const oldest = now - retentionMs;
    for (let m = this.bySeq.peekFront(); m !== undefined; m = this.bySeq.peekFront()) {
      if (m.state !== GONE) {
        if (m.sentAt > oldest) break;
        this.remove(m);
      }
      this.bySeq.shift();
    }
    for (let sent = this.lateExpiry.peekKey(); sent !== undefined && sent <= oldest;) {
      this.remove(this.lateExpiry.pop()!);
      sent = this.lateExpiry.peekKey();
    }
    if (this.lateExpiry.size > 1024 && this.lateExpiry.size > 2 * this.messages.size)
      this.lateExpiry.retain((m) => m.state !== GONE);
    // Messages that expired or were deleted while visible linger in the deque until a receive
    // pops them; a queue nobody reads would keep them all, so sweep once most are stale.
    if (this.visible.length > 1024 && this.visible.length > 2 * this.visibleCount)
      this.visible.retain((m) => m.state === VISIBLE);
    // And the sequence index behind one long-lived message at its front.
    if (this.bySeq.length > 1024 && this.bySeq.length > 2 * this.messages.size)
      this.bySeq.retain((m) => m.state !== GONE);
    // Likewise timers of messages deleted before their visibility ended (at 100 K messages/s
    // and a 30 s timeout that would be millions).
    const timed = this.inflightCount + this.delayedCount;
    if (this.timers.size > 1024 && this.timers.size > 2 * timed) this.timers.retain(isCurrentTimer);
    return woke;
  }

  /** The next time a timer is due, if any. */
  nextDue(): number | undefined {
    return this.timers.peekKey();
  }

  /**
   * Takes up to `max` visible messages for a receive, marking them in flight until
   * `now + visibilityMs`. Messages received `maxReceiveCount` times already are removed and
   * passed to `deadLetter` instead of being returned.
   */
  take(
    max: number,
    now: number,
    visibilityMs: number,
    maxReceiveCount: number | undefined,
    deadLetter: (message: QueuedMessage) => void,
  ): QueuedMessage[] {
    const taken: QueuedMessage[] = [];
    const receivable = (m: QueuedMessage): boolean => {
      if (maxReceiveCount !== undefined && m.receiveCount >= maxReceiveCount) {
        this.discard(m);
        deadLetter(m);
        return false;
      }
      return true;
    };
    if (!this.fifo) {
      while (taken.length < max) {
        const m = this.visible.shift();
        if (m === undefined) break;
        if (m.state !== VISIBLE || !receivable(m)) continue;
        this.markInflight(m, now, visibilityMs);
        taken.push(m);
      }
      return taken;
    }
    while (taken.length < max) {
      const group = this.readyGroups.pop();
      if (group === undefined) break;
      group.queued = false;
      if (group.inflight > 0) continue;
      for (let i = 0; taken.length < max; i++) {
        const m = group.messages.at(i);
        if (m === undefined || m.state === DELAYED || m.state === INFLIGHT) break;
        if (m.state === GONE || !receivable(m)) continue;
        this.markInflight(m, now, visibilityMs);
        taken.push(m);
      }
      this.offerGroup(group);
    }
    return taken;
  }

  /** Sets an in-flight message's visibility deadline (now or earlier: visible at once). */
  setVisibility(message: QueuedMessage, due: number, now: number): void {
    if (message.state !== INFLIGHT) return;
    message.token++;
    if (due <= now) {
      this.inflightCount--;
      if (message.group !== undefined) message.group.inflight--;
      this.makeVisible(message);
      return;
    }
    message.due = due;
    this.schedule(message);
  }

  /** Re-times a message never received: delayed until `due`, or visible if that has passed. */
  redelay(message: QueuedMessage, due: number, now: number): void {
    if (message.state === DELAYED) {
      message.token++;
      if (due > now) {
        message.due = due;
        this.schedule(message);
      } else {
        this.delayedCount--;
        this.makeVisible(message);
      }
    } else if (message.state === VISIBLE && due > now) {
      // It stays in the visible deque or its group's list; receives skip it while delayed.
      this.visibleCount--;
      this.delayedCount++;
      message.state = DELAYED;
      message.due = due;
      message.token++;
      this.schedule(message);
    }
  }

  /** Removes a message for good (deleted, purged, expired or moved). */
  remove(message: QueuedMessage): void {
    if (message.state === GONE) return;
    this.discard(message);
    if (message.group !== undefined) this.offerGroup(message.group);
  }

  /** Removes a message without re-offering its group (the caller is iterating it). */
  private discard(message: QueuedMessage): void {
    if (message.state === GONE) return;
    if (message.state === VISIBLE) this.visibleCount--;
    else if (message.state === INFLIGHT) {
      this.inflightCount--;
      if (message.group !== undefined) message.group.inflight--;
    } else this.delayedCount--;
    message.state = GONE;
    message.token++;
    this.messages.size--;
    if (message.hotSend !== undefined) this.hotBodies.give(message.dropHot());
  }

  /** Gives back the hot-body budget its messages hold (the queue is closing; it is shared). */
  releaseHotBodies(): void {
    for (const m of this.inOrder()) if (m.hotSend !== undefined) this.hotBodies.give(m.dropHot());
  }

  /** Removes every message with a sequence number below `seq`. */
  removeBefore(seq: number): number {
    let removed = 0;
    for (const m of [...this.inOrder()]) {
      if (m.seq < seq) {
        this.remove(m);
        removed++;
      }
    }
    if (this.messages.size === 0) {
      this.visible.clear();
      this.bySeq.clear();
    }
    return removed;
  }

  /** Live messages in sequence order, from the first with seq > `afterSeq`. */
  *inOrder(afterSeq = -1): Generator<QueuedMessage> {
    let lo = 0;
    let hi = this.bySeq.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bySeq.at(mid)!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.bySeq.length; i++) {
      const m = this.bySeq.at(i)!;
      if (m.state !== GONE) yield m;
    }
  }

  private markInflight(m: QueuedMessage, now: number, visibilityMs: number): void {
    this.visibleCount--;
    this.inflightCount++;
    if (m.group !== undefined) m.group.inflight++;
    m.state = INFLIGHT;
    m.receiveCount++;
    m.receipt = undefined; // handles of earlier receives no longer match (this one gets its own)
    if (m.firstReceiveAt === 0) m.firstReceiveAt = now;
    m.receivedAt = now;
    m.due = now + visibilityMs;
    m.token++;
    this.schedule(m);
  }

  private makeVisible(m: QueuedMessage): void {
    m.state = VISIBLE;
    m.token++;
    this.visibleCount++;
    if (m.group === undefined) this.visible.push(m);
    else this.offerGroup(m.group);
  }

  private schedule(m: QueuedMessage): void {
    this.timers.push(m.due, m);
  }

  /** Puts a group in the ready heap if it can deliver; forgets it once it is empty. */
  private offerGroup(group: MessageGroup): void {
    const head = group.head();
    if (head === undefined) {
      if (group.inflight === 0 && !group.queued) this.groups.delete(group.id);
      return;
    }
    if (group.queued || group.inflight > 0 || head.state !== VISIBLE) return;
    group.queued = true;
    this.readyGroups.push(head.seq, group);
  }
}

function isCurrentTimer(message: QueuedMessage, due: number): boolean {
  return message.due === due && (message.state === INFLIGHT || message.state === DELAYED);
}
