import { SluiceError, invalid } from "../../errors/index.js";
import type { Clock, Timer } from "../../time/index.js";
import type { EventStore, RecordedEvent } from "../event-store.js";
import type {
  GroupRecord,
  GroupSettings,
  NackAction,
  ParkedEvent,
  PersistentDelivery,
  PersistentSubscriptionStateStore,
} from "./persistent-subscription.js";

/** An event waiting for a consumer. */
interface Pending {
  readonly seq: number;
  readonly event: RecordedEvent;
  readonly replayed: boolean;
}

/** One delivery of a pending event to one consumer; stale once settled or expired. */
interface Attempt {
  readonly pending: Pending;
  readonly consumer: Consumer;
  readonly retryCount: number;
  readonly timer: Timer;
}

interface Consumer {
  readonly maxInFlight: number;
  inFlight: number;
  closed: boolean;
  /** Set while the consumer waits for an event. */
  handoff: ((pending: Pending | undefined) => void) | undefined;
  /** Set while the consumer waits for room under maxInFlight. */
  room: (() => void) | undefined;
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const NACK_ACTIONS: readonly NackAction[] = ["retry", "park", "skip"];

/** What is wrong with a nack's action or reason as a caller gave them, if anything. */
export function nackError(action: unknown, reason: unknown): SluiceError | undefined {
  if (!NACK_ACTIONS.includes(action as NackAction))
    return invalid("action", `one of ${NACK_ACTIONS.join(", ")}`, action);
  if (reason !== undefined && typeof reason !== "string")
    return invalid("reason", "a string", reason);
  return undefined;
}

/**
 * One running persistent subscription group: reads its source after the checkpoint, hands each
 * event to one of its consumers (competing consumers), and keeps what was settled durable.
 * Events are settled in any order; the checkpoint moves over the settled prefix and the settled
 * events above it are stored too, so a restart delivers no acknowledged event again.
 */
export class SubscriptionGroup {
  readonly settings: GroupSettings;
  private checkpoint: number;
  /** Sequence numbers read and not yet passed by the checkpoint, in order. */
  private readonly order: number[] = [];
  /** Settled sequence numbers above the checkpoint. */
  private readonly done: Set<number>;
  private readonly retries: Map<number, number>;
  private readonly replayRetries = new Map<number, number>();
  private readonly ready: Pending[] = [];
  private readonly inFlight = new Map<string, Attempt>();
  private readonly waiting: Consumer[] = [];
  private readonly consumers = new Set<Consumer>();
  private parkedChanges = new Map<number, ParkedEvent | null>();
  private nextWrite: Deferred | undefined;
  private writing: Promise<void> | undefined;
  private readerRoom: (() => void) | undefined;
  private readonly abort = new AbortController();
  private reader: Promise<void> | undefined;
  private failure: Error | undefined;
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    private readonly state: PersistentSubscriptionStateStore,
    private readonly clock: Clock,
    record: GroupRecord,
  ) {
    this.settings = record.settings;
    this.checkpoint = record.checkpoint;
    this.done = new Set(record.settled);
    this.retries = new Map(Object.entries(record.retries).map(([k, v]) => [Number(k), v]));
  }

  get name(): string {
    return this.settings.group;
  }

  get consumerCount(): number {
    return this.consumers.size;
  }

  get lastCheckpoint(): number {
    return this.checkpoint;
  }

  /** Starts reading, with the parked events that were being replayed before a restart. */
  start(replaying: readonly ParkedEvent[]): void {
    for (const parked of replaying) this.enqueueReplay(parked);
    this.reader = this.read().catch((error: unknown) => this.fail(error));
  }

  private async read(): Promise<void> {
    const { stream, filter } = this.settings;
    const events = this.store.subscribe({
      after: this.checkpoint,
      signal: this.abort.signal,
      ...(stream === null ? {} : { stream }),
      ...(filter === null ? {} : { filter }),
    });
    for await (const event of events) {
      if (this.stopped) return;
      const seq = stream === null ? event.position : event.version;
      this.order.push(seq);
      if (this.done.has(seq)) {
        // Settled before a restart, out of order: pass it.
        this.advance();
        continue;
      }
      this.enqueue({ seq, event, replayed: false }, false);
      while (this.ready.length >= this.settings.bufferSize && !this.stopped)
        await new Promise<void>((resolve) => (this.readerRoom = resolve));
    }
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    for (const consumer of this.waiting.splice(0)) consumer.handoff?.(undefined);
  }

  // ---------------------------------------------------------------- dispatch

  private enqueue(pending: Pending, front: boolean): void {
    const consumer = this.waiting.shift();
    if (consumer !== undefined) {
      const handoff = consumer.handoff!;
      consumer.handoff = undefined;
      handoff(pending);
    } else if (front) this.ready.unshift(pending);
    else this.ready.push(pending);
  }

  private enqueueReplay(parked: ParkedEvent): void {
    const seq = this.seqOf(parked.event);
    const key = keyOf({ seq, replayed: true });
    if (this.inFlight.has(key) || this.ready.some((p) => p.replayed && p.seq === seq)) return;
    this.enqueue({ seq, event: parked.event, replayed: true }, false);
  }

  private seqOf(event: RecordedEvent): number {
    return this.settings.stream === null ? event.position : event.version;
  }

  /** Deliveries for one consumer until `signal` aborts, the group stops or the loop breaks. */
  async *consume(
    maxInFlight: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<PersistentDelivery, void, undefined> {
    const consumer: Consumer = {
      maxInFlight,
      inFlight: 0,
      closed: false,
      handoff: undefined,
      room: undefined,
    };
    const close = (): void => {
      consumer.closed = true;
      const waiting = this.waiting.indexOf(consumer);
      if (waiting >= 0) this.waiting.splice(waiting, 1);
      consumer.handoff?.(undefined);
      consumer.handoff = undefined;
      consumer.room?.();
      consumer.room = undefined;
    };
    this.consumers.add(consumer);
    signal?.addEventListener("abort", close, { once: true });
    try {
      if (signal?.aborted === true) return;
      while (!consumer.closed && !this.stopped) {
        if (this.failure !== undefined) throw this.failure;
        if (consumer.inFlight >= consumer.maxInFlight) {
          await new Promise<void>((resolve) => (consumer.room = resolve));
          continue;
        }
        let pending = this.ready.shift();
        if (pending !== undefined) this.wakeReader();
        else
          pending = await new Promise<Pending | undefined>((resolve) => {
            consumer.handoff = resolve;
            this.waiting.push(consumer);
          });
        if (pending === undefined) continue;
        if (consumer.closed || this.stopped) {
          this.enqueue(pending, true);
          break;
        }
        yield this.deliver(pending, consumer);
      }
      if (this.failure !== undefined && !this.stopped) throw this.failure;
    } finally {
      signal?.removeEventListener("abort", close);
      close();
      this.consumers.delete(consumer);
      // Whatever it still held goes to the others, counted as a failed delivery.
      for (const attempt of [...this.inFlight.values()])
        if (attempt.consumer === consumer && !this.stopped)
          this.settle(attempt, "retry", "consumer disconnected").catch(() => undefined);
    }
  }

  private wakeReader(): void {
    const wake = this.readerRoom;
    this.readerRoom = undefined;
    wake?.();
  }

  private deliver(pending: Pending, consumer: Consumer): PersistentDelivery {
    const retryCount =
      (pending.replayed ? this.replayRetries.get(pending.seq) : this.retries.get(pending.seq)) ?? 0;
    const key = keyOf(pending);
    const timer = this.clock.setTimer(this.settings.messageTimeoutMs, () => {
      if (this.inFlight.get(key) === attempt)
        this.settle(attempt, "retry", "no ack within messageTimeoutMs").catch(() => undefined);
    });
    const attempt: Attempt = { pending, consumer, retryCount, timer };
    this.inFlight.set(key, attempt);
    consumer.inFlight++;
    return {
      event: pending.event,
      retryCount,
      replayed: pending.replayed,
      ack: () => this.settle(attempt, "ack"),
      nack: (action, reason) => {
        const error = nackError(action, reason);
        return error === undefined ? this.settle(attempt, action, reason) : Promise.reject(error);
      },
    };
  }

  // ---------------------------------------------------------------- settling

  /** Settles an attempt; a stale one (settled, expired, or its group stopped) is a no-op. */
  private settle(attempt: Attempt, action: NackAction | "ack", reason?: string): Promise<void> {
    const { pending, consumer } = attempt;
    const key = keyOf(pending);
    if (this.inFlight.get(key) !== attempt || this.stopped) return Promise.resolve();
    this.inFlight.delete(key);
    attempt.timer.cancel();
    consumer.inFlight--;
    const room = consumer.room;
    consumer.room = undefined;
    room?.();
    switch (action) {
      case "ack":
      case "skip":
        this.finish(pending);
        break;
      case "park":
        this.park(pending, reason ?? "parked by a consumer", attempt.retryCount + 1);
        break;
      case "retry": {
        const count = attempt.retryCount + 1;
        if (count > this.settings.maxRetryCount) {
          this.park(
            pending,
            `gave up after ${count} deliveries${reason === undefined ? "" : `: ${reason}`}`,
            count,
          );
        } else {
          (pending.replayed ? this.replayRetries : this.retries).set(pending.seq, count);
          this.enqueue(pending, true);
        }
        break;
      }
    }
    return this.persist();
  }

  private finish(pending: Pending): void {
    if (pending.replayed) {
      this.replayRetries.delete(pending.seq);
      this.parkedChanges.set(pending.seq, null);
      return;
    }
    this.retries.delete(pending.seq);
    this.done.add(pending.seq);
    this.advance();
  }

  private park(pending: Pending, reason: string, deliveries: number): void {
    this.parkedChanges.set(pending.seq, {
      group: this.name,
      event: pending.event,
      reason,
      retryCount: deliveries,
      parkedAt: this.clock.now(),
      replaying: false,
    });
    if (pending.replayed) {
      this.replayRetries.delete(pending.seq);
      return;
    }
    this.retries.delete(pending.seq);
    this.done.add(pending.seq);
    this.advance();
  }

  /** Moves the checkpoint over the settled prefix of what was read. */
  private advance(): void {
    while (this.order.length > 0 && this.done.has(this.order[0]!)) {
      const seq = this.order.shift()!;
      this.done.delete(seq);
      this.checkpoint = seq;
    }
  }

  /** Writes the group's state; calls made while a write runs share the next one. */
  private persist(): Promise<void> {
    const write = (this.nextWrite ??= deferred());
    this.writing ??= this.pump();
    return write.promise;
  }

  private async pump(): Promise<void> {
    try {
      while (this.nextWrite !== undefined) {
        const write = this.nextWrite;
        this.nextWrite = undefined;
        const parked = this.parkedChanges;
        this.parkedChanges = new Map();
        const park: ParkedEvent[] = [];
        const unpark: number[] = [];
        for (const [seq, entry] of parked)
          if (entry === null) unpark.push(seq);
          else park.push(entry);
        try {
          await this.state.commit(this.name, {
            state: {
              checkpoint: this.checkpoint,
              settled: [...this.done].sort((a, b) => a - b),
              retries: Object.fromEntries(this.retries),
            },
            park,
            unpark,
          });
          write.resolve();
        } catch (error) {
          // Keep the parked changes for the next write; state is written whole each time.
          for (const [seq, entry] of parked)
            if (!this.parkedChanges.has(seq)) this.parkedChanges.set(seq, entry);
          write.reject(error);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  /** Resolves once everything settled so far is durable. */
  async flush(): Promise<void> {
    // A pending write always has a pump running (the pump loops until none is left).
    while (this.writing !== undefined) await this.writing;
  }

  /** Hands every parked event back to the consumers; returns how many. */
  async replayParked(): Promise<number> {
    if (this.parkedChanges.size > 0) await this.persist();
    await this.flush();
    const parked = await this.state.markReplaying(this.name);
    for (const entry of parked) this.enqueueReplay(entry);
    return parked.length;
  }

  /** Stops reading and delivering; what was settled is written, in-flight events are not. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.wakeReader();
    for (const attempt of this.inFlight.values()) attempt.timer.cancel();
    this.inFlight.clear();
    for (const consumer of [...this.consumers]) {
      consumer.closed = true;
      consumer.handoff?.(undefined);
      consumer.room?.();
    }
    this.waiting.length = 0;
    await this.reader;
    await this.flush();
  }

  /** Throws the reason the group stopped delivering, if it failed. */
  assertHealthy(): void {
    if (this.failure !== undefined)
      throw new SluiceError("SLUICE_INTERNAL", `persistent subscription ${this.name} failed`, {
        cause: this.failure,
      });
  }
}

function keyOf(pending: Pick<Pending, "seq" | "replayed">): string {
  return `${pending.replayed ? "p" : "e"}${pending.seq}`;
}
