import type {
  ConsumerGroupMetadata,
  ConsumerOptions,
  ConsumerRecord,
  OffsetAndMetadata,
  OffsetCommits,
  PollOptions,
  ProducerOptions,
  ProducerRecord,
  RebalanceListener,
  RecordMetadata,
  TopicAdmin,
  TopicConsumer,
  TopicPartition,
  TopicProducer,
  TopicService,
} from "../messaging/topics/index.js";
import { TopicError } from "../messaging/topics/index.js";
import { resolveConsumerOptions } from "../messaging/topics/consumer-options.js";
import { resolveProducerOptions } from "../messaging/topics/embedded-producer.js";
import type { HttpTransport } from "./http-transport.js";
import { TopicSession } from "./topic-session-client.js";

/** Bytes for the wire: Buffers as `{"b64": …}`, anything else as is (the server checks it). */
function bytesToWire(value: unknown): unknown {
  return Buffer.isBuffer(value) ? { b64: value.toString("base64") } : value;
}

function recordToWire(record: ProducerRecord): unknown {
  if (record === null || typeof record !== "object") return record;
  return {
    ...record,
    ...("key" in record ? { key: bytesToWire(record.key) } : {}),
    value: bytesToWire(record.value),
    ...(Array.isArray(record.headers)
      ? {
          headers: (record.headers as ProducerRecord["headers"] & object).map((h) => ({
            ...h,
            value: bytesToWire(h.value),
          })),
        }
      : {}),
  };
}

const fromB64 = (text: string | null): Buffer | null =>
  text === null ? null : Buffer.from(text, "base64");

interface WireRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Array<{ key: string; value: string | null }>;
}

function recordFromWire(r: WireRecord): ConsumerRecord {
  return {
    ...r,
    key: fromB64(r.key),
    value: fromB64(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: fromB64(h.value) })),
  };
}

const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

function notAssigned(tp: TopicPartition, field = "partition"): TopicError {
  return new TopicError(
    "ILLEGAL_STATE",
    `${field}: ${tp?.topic}-${tp?.partition} is not assigned to this consumer`,
    field,
  );
}

class RemoteProducer implements TopicProducer {
  constructor(private readonly session: TopicSession) {}

  async send(record: ProducerRecord): Promise<RecordMetadata> {
    return (await this.session.call("send", [recordToWire(record)])) as RecordMetadata;
  }

  async sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    return (await this.session.call("sendBatch", [records.map(recordToWire)])) as RecordMetadata[];
  }

  async flush(): Promise<void> {
    await this.session.call("flush");
  }

  async initTransactions(): Promise<void> {
    await this.session.call("initTransactions");
  }

  async beginTransaction(): Promise<void> {
    await this.session.call("beginTransaction");
  }

  async sendOffsetsToTransaction(
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    await this.session.call("sendOffsetsToTransaction", [offsets, group]);
  }

  async commitTransaction(): Promise<void> {
    await this.session.call("commitTransaction");
  }

  async abortTransaction(): Promise<void> {
    await this.session.call("abortTransaction");
  }

  async close(): Promise<void> {
    try {
      await this.session.call("close");
    } finally {
      this.session.close();
    }
  }
}

interface ConsumerState {
  assignment: TopicPartition[];
  paused: TopicPartition[];
  positions: Array<number | null>;
  group: ConsumerGroupMetadata;
}

/**
 * A consumer living on the server; this side mirrors its assignment, positions and pauses
 * (sent with every answer) to answer the synchronous methods at once.
 */
export class RemoteConsumer implements TopicConsumer {
  private assigned: TopicPartition[] = [];
  private positions = new Map<string, number | null>();
  private pausedSet = new Map<string, TopicPartition>();
  private group: ConsumerGroupMetadata;
  private closed = false;

  constructor(
    readonly session: TopicSession,
    options: ConsumerOptions,
  ) {
    this.group = { groupId: options.groupId ?? "", generationId: -1, memberId: "" };
    session.onState = (state) => this.mirror(state as ConsumerState);
  }

  private mirror(state: ConsumerState): void {
    this.assigned = state.assignment;
    this.positions = new Map(
      state.assignment.map((tp, i) => [keyOf(tp), state.positions[i] ?? null]),
    );
    this.pausedSet = new Map(state.paused.map((tp) => [keyOf(tp), tp]));
    this.group = state.group;
  }

  private owned(tp: TopicPartition, field = "partition"): string {
    const key = tp === null || typeof tp !== "object" ? undefined : keyOf(tp);
    if (key === undefined || !this.positions.has(key)) throw notAssigned(tp, field);
    return key;
  }

  async subscribe(topics: readonly string[], listener?: RebalanceListener): Promise<void> {
    const names = (
      ["onPartitionsRevoked", "onPartitionsAssigned", "onPartitionsLost"] as const
    ).filter((name) => listener?.[name] !== undefined);
    this.session.onListener = async (event, partitions) => {
      const tps = partitions as TopicPartition[];
      if (event === "onPartitionsRevoked") await listener?.onPartitionsRevoked?.(tps);
      else if (event === "onPartitionsAssigned") await listener?.onPartitionsAssigned?.(tps);
      else if (event === "onPartitionsLost") await listener?.onPartitionsLost?.(tps);
    };
    await this.session.call("subscribe", [topics, names]);
  }

  async unsubscribe(): Promise<void> {
    await this.session.call("unsubscribe");
  }

  async assign(partitions: readonly TopicPartition[]): Promise<void> {
    await this.session.call("assign", [partitions]);
  }

  assignment(): TopicPartition[] {
    return [...this.assigned];
  }

  async poll(options: PollOptions = {}): Promise<ConsumerRecord[]> {
    const { signal, ...rest } = options;
    if (signal?.aborted === true) return [];
    let callId = 0;
    const cancel = (): void => this.session.post("cancel", [callId]);
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      const records = (await this.session.call(
        "poll",
        [rest],
        (id) => (callId = id),
      )) as WireRecord[];
      return records.map(recordFromWire);
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
  }

  async *records(signal?: AbortSignal): AsyncIterableIterator<ConsumerRecord> {
    const aborted = (): boolean => signal?.aborted === true;
    while (!this.closed && !aborted()) {
      const batch = await this.poll({
        timeoutMs: 1000,
        ...(signal === undefined ? {} : { signal }),
      });
      for (const r of batch) {
        yield r;
        if (aborted()) return;
      }
    }
  }

  async commitSync(offsets?: OffsetCommits): Promise<void> {
    await this.session.call("commitSync", offsets === undefined ? [] : [offsets]);
  }

  commitAsync(offsets?: OffsetCommits, onComplete?: (error: Error | undefined) => void): void {
    this.commitSync(offsets).then(
      () => onComplete?.(undefined),
      (error: unknown) => onComplete?.(error as Error),
    );
  }

  async committed(
    partitions: readonly TopicPartition[],
  ): Promise<Array<(TopicPartition & OffsetAndMetadata) | undefined>> {
    const result = (await this.session.call("committed", [partitions])) as Array<
      (TopicPartition & OffsetAndMetadata) | null
    >;
    return result.map((c) => c ?? undefined);
  }

  position(tp: TopicPartition): number {
    const position = this.positions.get(this.owned(tp));
    if (position === null || position === undefined) throw notAssigned(tp);
    return position;
  }

  seek(tp: TopicPartition, offset: number): void {
    const key = this.owned(tp);
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new TopicError(
        "INVALID_REQUEST",
        `offset: expected an offset >= 0, got ${String(offset)}`,
        "offset",
      );
    this.positions.set(key, offset);
    this.session.post("seek", [tp, offset]);
  }

  async seekToBeginning(partitions?: readonly TopicPartition[]): Promise<void> {
    await this.session.call("seekToBeginning", partitions === undefined ? [] : [partitions]);
  }

  async seekToEnd(partitions?: readonly TopicPartition[]): Promise<void> {
    await this.session.call("seekToEnd", partitions === undefined ? [] : [partitions]);
  }

  async seekToTimestamp(tp: TopicPartition, timestampMs: number): Promise<void> {
    await this.session.call("seekToTimestamp", [tp, timestampMs]);
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.owned(tp);
    for (const tp of partitions)
      this.pausedSet.set(keyOf(tp), { topic: tp.topic, partition: tp.partition });
    this.session.post("pause", [partitions]);
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.owned(tp);
    for (const tp of partitions) this.pausedSet.delete(keyOf(tp));
    this.session.post("resume", [partitions]);
  }

  paused(): TopicPartition[] {
    return [...this.pausedSet.values()];
  }

  groupMetadata(): ConsumerGroupMetadata {
    return this.group;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.session.call("close");
    } catch {
      // the server already closed it (or went away)
    } finally {
      this.session.close();
    }
  }
}

class RemoteTopicAdmin {
  constructor(private readonly session: () => TopicSession) {}

  static create(session: () => TopicSession): TopicAdmin {
    const admin = new RemoteTopicAdmin(session);
    return new Proxy({} as TopicAdmin, {
      get: (_target, method) =>
        // Not a thenable: `then` (and symbols) are not admin calls.
        typeof method !== "string" || method === "then"
          ? undefined
          : (...args: unknown[]) => admin.session().call(`admin.${method}`, args),
    });
  }
}

/**
 * The topics of a Sluice server behind the `TopicService` interface. Every producer and
 * consumer is a session with a server-side one (so group membership, rebalances and
 * transactions behave exactly as embedded); the admin calls share one session.
 */
export class RemoteTopicService implements TopicService {
  private adminSession: TopicSession | undefined;
  private readonly sessions = new Set<TopicSession>();
  private readonly open = new Set<{ close(): Promise<void> }>();
  readonly admin: TopicAdmin;

  constructor(private readonly http: HttpTransport) {
    this.admin = RemoteTopicAdmin.create(() => (this.adminSession ??= this.session()));
  }

  private session(): TopicSession {
    const session = new TopicSession(this.http);
    this.sessions.add(session);
    return session;
  }

  producer(options: ProducerOptions = {}): TopicProducer {
    resolveProducerOptions(options);
    const session = this.session();
    session.post("producer", [options]);
    const producer = new RemoteProducer(session);
    this.open.add(producer);
    return producer;
  }

  consumer(options: ConsumerOptions = {}): TopicConsumer {
    resolveConsumerOptions(options);
    const session = this.session();
    session.post("consumer", [options]);
    const consumer = new RemoteConsumer(session, options);
    this.open.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    for (const handle of this.open) await handle.close().catch(() => undefined);
    this.open.clear();
    for (const session of this.sessions) session.close();
    this.sessions.clear();
    this.adminSession = undefined;
  }
}
