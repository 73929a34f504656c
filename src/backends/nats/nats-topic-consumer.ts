import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { hostname } from "node:os";
import { asError } from "../../errors/index.js";
import type { Clock, Timer } from "../../time/index.js";
import { resolveConsumerOptions } from "../../messaging/topics/embedded-consumer.js";
import type { JoinRequest, MemberView } from "../../messaging/topics/group-coordinator.js";
import { isList } from "../../messaging/topics/input-checks.js";
import { keepProcessAlive } from "../../messaging/topics/keep-alive.js";
import type { OffsetAndMetadata, TopicPartition } from "../../messaging/topics/topic-admin.js";
import { checkTopicName } from "../../messaging/topics/topic-config.js";
import type {
  ConsumerOptions,
  ConsumerRecord,
  OffsetCommits,
  PollOptions,
  RebalanceListener,
  TopicConsumer,
} from "../../messaging/topics/topic-consumer.js";
import {
  TopicError,
  invalidTopicInput,
  isTopicError,
  unknownTopic,
} from "../../messaging/topics/topic-error.js";
import type { ConsumerGroupMetadata } from "../../messaging/topics/topic-producer.js";
import {
  type PartitionCounts,
  checkMemberCommit,
  expire,
  join,
  leave,
  view,
} from "../../messaging/topics/group-membership.js";
import { type GroupRecord, offsetKey } from "./nats-group-record.js";
import type { NatsGroupStore } from "./nats-group-store.js";
import type { NatsTopicCatalog } from "./nats-topic-catalog.js";
import { PartitionReader } from "./partition-reader.js";
import {
  type PartitionState,
  offsetForTimestamp,
  partitionAddress,
  partitionState,
} from "./partition-stream.js";

/** How long a poll waits (real time) for records the stream has but the reader has not yet brought. */
const CATCH_UP_MS = 3000;

/** What consumers share within one service. */
export interface ConsumerContext {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly catalog: NatsTopicCatalog;
  readonly groups: NatsGroupStore;
  readonly namespace: string;
  readonly clock: Clock;
  /** Counts background work (heartbeats, commits) so a test's virtual clock can wait for it. */
  track<T>(work: Promise<T>): Promise<T>;
}

interface Assigned {
  readonly tp: TopicPartition;
  position: number | undefined;
  paused: boolean;
  reader: PartitionReader | undefined;
}

const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;
const HOST = hostname();

/** Checks commit offsets and puts them in the record's form. */
export function checkOffsets(
  offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  catalog: NatsTopicCatalog,
): Array<TopicPartition & { offset: number; metadata: string }> {
  if (!isList(offsets))
    throw invalidTopicInput("offsets", "an array of { topic, partition, offset }", offsets);
  return offsets.map((o, i) => {
    const definition = typeof o?.topic === "string" ? catalog.get(o.topic) : undefined;
    if (definition === undefined)
      throw unknownTopic(String(o?.topic), undefined, `offsets[${i}].topic`);
    if (!Number.isInteger(o.partition) || o.partition < 0 || o.partition >= definition.partitions)
      throw unknownTopic(o.topic, o.partition, `offsets[${i}].partition`);
    if (!Number.isSafeInteger(o.offset) || o.offset < 0)
      throw invalidTopicInput("offset", `an offset >= 0 for offsets[${i}]`, o.offset);
    if (o.metadata !== undefined && typeof o.metadata !== "string")
      throw invalidTopicInput(`offsets[${i}].metadata`, "a string", o.metadata);
    return { topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata ?? "" };
  });
}

/** Writes checked offsets into a group record. */
export function writeOffsets(
  group: GroupRecord,
  entries: ReadonlyArray<TopicPartition & { offset: number; metadata: string }>,
): void {
  for (const e of entries) group.offsets[offsetKey(e)] = { offset: e.offset, metadata: e.metadata };
}

/**
 * A consumer on JetStream with the embedded consumer's behaviour: group work inside `poll`
 * (rejoin when the group rebalances, revoking first under the eager protocols and only what
 * moves under cooperative-sticky; adopt a new assignment; auto-commit), a heartbeat timer
 * between polls. The group lives in the key-value bucket (`NatsGroupStore`); each partition is
 * read by a `PartitionReader`.
 */
export class NatsTopicConsumer implements TopicConsumer {
  private readonly options: ReturnType<typeof resolveConsumerOptions>;
  private readonly assigned = new Map<string, Assigned>();
  private subscription: readonly string[] | undefined;
  private listener: RebalanceListener = {};
  private memberId = "";
  private generation = -1;
  private protocol = "";
  private heartbeatTimer: Timer | undefined;
  private nextAutoCommitAt: number;
  private rotation = 0;
  private closed = false;
  private silenced = false;
  private readonly counts: PartitionCounts;

  constructor(
    private readonly context: ConsumerContext,
    options: ConsumerOptions,
    private readonly onClose: (consumer: NatsTopicConsumer) => void,
  ) {
    this.options = resolveConsumerOptions(options);
    this.nextAutoCommitAt = context.clock.now() + this.options.autoCommitIntervalMs;
    this.counts = (topic) => context.catalog.get(topic)?.partitions;
  }

  private get groupId(): string {
    return this.options.groupId!;
  }

  // ---------------------------------------------------------------- subscription

  async subscribe(topics: readonly string[], listener: RebalanceListener = {}): Promise<void> {
    this.ensureOpen();
    if (this.options.groupId === undefined)
      throw new TopicError(
        "INVALID_GROUP_ID",
        "groupId: subscribe needs a consumer group",
        "groupId",
      );
    if (!isList(topics) || topics.length === 0)
      throw invalidTopicInput("topics", "a non-empty array of topic names", topics);
    const names = topics.map((t, i) => checkTopicName(t, `topics[${i}]`));
    if (this.subscription === undefined && this.assigned.size > 0)
      throw new TopicError(
        "ILLEGAL_STATE",
        "topics: the consumer uses assign(); unsubscribe first",
      );
    for (const name of names) await this.context.catalog.fetch(name);
    this.subscription = [...new Set(names)].sort();
    this.listener = listener;
    await this.join();
    this.startHeartbeats();
    await this.syncGroup();
  }

  async unsubscribe(): Promise<void> {
    if (this.subscription !== undefined && this.memberId !== "") {
      await this.revoke([...this.assigned.values()].map((a) => a.tp));
      await this.leaveGroup();
    }
    this.stopHeartbeats();
    this.subscription = undefined;
    this.memberId = "";
    this.generation = -1;
    this.dropAll();
  }

  async assign(partitions: readonly TopicPartition[]): Promise<void> {
    this.ensureOpen();
    if (this.subscription !== undefined)
      throw new TopicError(
        "ILLEGAL_STATE",
        "partitions: the consumer is subscribed; unsubscribe first",
      );
    if (!isList(partitions))
      throw invalidTopicInput("partitions", "an array of { topic, partition }", partitions);
    const wanted: TopicPartition[] = [];
    for (const [i, tp] of partitions.entries()) {
      const definition =
        typeof tp?.topic === "string" ? await this.context.catalog.fetch(tp.topic) : undefined;
      if (definition === undefined)
        throw unknownTopic(String(tp?.topic), undefined, `partitions[${i}].topic`);
      if (
        !Number.isInteger(tp.partition) ||
        tp.partition < 0 ||
        tp.partition >= definition.partitions
      )
        throw unknownTopic(tp.topic, tp.partition, `partitions[${i}].partition`);
      wanted.push({ topic: tp.topic, partition: tp.partition });
    }
    const keep = new Map(this.assigned);
    this.assigned.clear();
    for (const tp of wanted) {
      const existing = keep.get(keyOf(tp));
      keep.delete(keyOf(tp));
      this.assigned.set(keyOf(tp), existing ?? this.fresh(tp));
    }
    for (const gone of keep.values()) gone.reader?.close();
    await this.initialPositions([...this.assigned.values()], undefined);
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()].map((a) => a.tp);
  }

  private fresh(tp: TopicPartition): Assigned {
    return { tp, position: undefined, paused: false, reader: undefined };
  }

  private dropAll(): void {
    for (const a of this.assigned.values()) a.reader?.close();
    this.assigned.clear();
  }

  private async join(): Promise<void> {
    const request: JoinRequest = {
      groupId: this.groupId,
      memberId: this.memberId,
      clientId: this.options.clientId,
      host: HOST,
      topics: this.subscription ?? [],
      assignors: this.options.assignors,
      owned: this.assignment(),
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
    };
    try {
      this.memberId = await this.context.groups.update(this.groupId, (group) => {
        expire(group, this.context.clock.now(), this.counts);
        return {
          result: join(group, this.groupId, request, this.context.clock.now(), this.counts),
          changed: true,
        };
      });
    } catch (error) {
      if (!isTopicError(error, "UNKNOWN_MEMBER_ID") || request.memberId === "") throw error;
      this.memberId = "";
      await this.join();
    }
  }

  private leaveGroup(): Promise<unknown> {
    const memberId = this.memberId;
    return this.context.groups.update(this.groupId, (group) => ({
      result: undefined,
      changed: leave(group, memberId, this.context.clock.now(), this.counts),
    }));
  }

  /** The member's view of the group, after expiring whoever's session ran out. */
  private look(heartbeatMs: number): Promise<{ view: MemberView; group: GroupRecord }> {
    return this.context.groups.update(this.groupId, (group) => {
      const now = this.context.clock.now();
      const expired = expire(group, now, this.counts);
      const seen = view(group, this.groupId, this.memberId, now, heartbeatMs);
      return { result: { view: seen.view, group }, changed: expired || seen.touched };
    });
  }

  private startHeartbeats(): void {
    if (this.heartbeatTimer !== undefined) return;
    this.heartbeatTimer = this.context.clock.setTimer(this.options.heartbeatIntervalMs, () => {
      this.heartbeatTimer = undefined;
      if (this.closed || this.silenced || this.subscription === undefined) return;
      // the next poll finds out about any failure and rejoins
      void this.context.track(this.look(0).catch(() => undefined));
      this.startHeartbeats();
    });
  }

  private stopHeartbeats(): void {
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = undefined;
  }

  /** Follows the group: rejoin when it rebalances, adopt a new assignment, handle expiry. */
  private async syncGroup(): Promise<void> {
    if (this.subscription === undefined) return;
    // A poll counts as a heartbeat, written at most once per heartbeat interval.
    const heartbeatMs = this.options.heartbeatIntervalMs;
    let seen: { view: MemberView; group: GroupRecord };
    try {
      seen = await this.look(heartbeatMs);
    } catch (error) {
      if (!isTopicError(error, "UNKNOWN_MEMBER_ID")) throw error;
      // Our session expired: the partitions are someone else's now, so no commit, no revoke.
      const lost = this.assignment();
      this.dropAll();
      this.memberId = "";
      this.generation = -1;
      if (lost.length > 0) await this.listener.onPartitionsLost?.(lost);
      await this.join();
      seen = await this.look(heartbeatMs);
    }
    if (seen.view.rejoinNeeded) {
      if (this.protocol !== "cooperative-sticky")
        await this.revoke([...this.assigned.values()].map((a) => a.tp));
      await this.join();
      seen = await this.look(heartbeatMs);
    }
    if (seen.view.state === "Stable" && seen.view.generation !== this.generation)
      await this.adopt(seen.view, seen.group);
  }

  private async adopt(v: MemberView, group: GroupRecord): Promise<void> {
    this.generation = v.generation;
    this.protocol = v.protocol;
    const next = new Map(v.assignment.map((tp) => [keyOf(tp), tp]));
    const revoked = [...this.assigned.values()]
      .filter((a) => !next.has(keyOf(a.tp)))
      .map((a) => a.tp);
    const added = [...next.values()].filter((tp) => !this.assigned.has(keyOf(tp)));
    if (revoked.length > 0) await this.revoke(revoked);
    const fresh = added.map((tp) => this.fresh(tp));
    for (const a of fresh) this.assigned.set(keyOf(a.tp), a);
    await this.initialPositions(fresh, group);
    if (added.length > 0 || this.protocol !== "cooperative-sticky")
      await this.listener.onPartitionsAssigned?.(added);
    // Cooperative: what we gave up goes to its new owner in a follow-up rebalance.
    if (revoked.length > 0 && this.protocol === "cooperative-sticky") await this.join();
  }

  /** Commits (with auto-commit on) and tells the listener before partitions leave. */
  private async revoke(partitions: readonly TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return;
    if (this.options.autoCommit && this.memberId !== "") {
      try {
        await this.commitSync(this.positionsOf(partitions));
      } catch (error) {
        if (!isTopicError(error)) throw error;
      }
    }
    await this.listener.onPartitionsRevoked?.(partitions);
    for (const tp of partitions) {
      this.assigned.get(keyOf(tp))?.reader?.close();
      this.assigned.delete(keyOf(tp));
    }
  }

  // ---------------------------------------------------------------- positions

  /** Where newly assigned partitions start: the committed offset, else auto.offset.reset. */
  private async initialPositions(
    list: readonly Assigned[],
    group: GroupRecord | undefined,
  ): Promise<void> {
    const todo = list.filter((a) => a.position === undefined);
    if (todo.length === 0) return;
    const groupId = this.options.groupId;
    const record =
      group ?? (groupId === undefined ? undefined : await this.context.groups.get(groupId));
    for (const a of todo) {
      const committed = record?.offsets[offsetKey(a.tp)];
      a.position =
        committed !== undefined
          ? committed.offset
          : this.reset(a.tp, undefined, await this.state(a.tp));
    }
  }

  private state(tp: TopicPartition): Promise<PartitionState> {
    const definition = this.context.catalog.get(tp.topic);
    if (definition === undefined) return Promise.reject(unknownTopic(tp.topic));
    return partitionState(
      this.context.jsm,
      partitionAddress(this.context.namespace, definition, tp.partition),
    );
  }

  /** Kafka's auto.offset.reset, for a partition with no (valid) position. */
  private reset(tp: TopicPartition, from: number | undefined, state: PartitionState): number {
    if (this.options.autoOffsetReset === "none")
      throw new TopicError(
        "OFFSET_OUT_OF_RANGE",
        `${tp.topic}-${tp.partition}: ${from === undefined ? "no committed offset" : `offset ${from} is out of range [${state.logStartOffset}, ${state.highWatermark}]`} and autoOffsetReset is "none"`,
        "autoOffsetReset",
      );
    return this.options.autoOffsetReset === "earliest" ? state.logStartOffset : state.highWatermark;
  }

  // ---------------------------------------------------------------- reading

  async poll(options: PollOptions = {}): Promise<ConsumerRecord[]> {
    this.ensureOpen();
    const timeoutMs = options.timeoutMs ?? 0;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0)
      throw invalidTopicInput("timeoutMs", "an integer >= 0", timeoutMs, "INVALID_CONFIG");
    const clock = this.context.clock;
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      await this.syncGroup();
      await this.maybeAutoCommit();
      const records = await this.fetch();
      if (
        records.length > 0 ||
        this.closed ||
        options.signal?.aborted === true ||
        clock.now() >= deadline
      )
        return records;
      await this.waitForRecords(deadline, options.signal);
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

  private readerOf(a: Assigned): PartitionReader {
    if (a.reader === undefined) {
      const definition = this.context.catalog.get(a.tp.topic);
      if (definition === undefined) throw unknownTopic(a.tp.topic);
      a.reader = new PartitionReader(
        this.context.js,
        partitionAddress(this.context.namespace, definition, a.tp.partition),
        a.tp.topic,
        a.tp.partition,
      );
    }
    return a.reader;
  }

  /**
   * Takes what the readers buffered. A partition whose reader has nothing is asked for its
   * stream's end: if the stream holds more than the reader brought, the poll waits for it, so a
   * poll returns what was stored before it began (as a poll of the embedded log does).
   */
  private async fetch(): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = [];
    const entries = [...this.assigned.values()].filter(
      (a) => !a.paused && a.position !== undefined,
    );
    if (entries.length === 0) return out;
    const max = this.options.maxPollRecords;
    const start = this.rotation++ % entries.length;
    const empty: Assigned[] = [];
    const takeFrom = (a: Assigned): void => {
      const records = this.readerOf(a).take(a.position!, max - out.length);
      if (records.length === 0) return;
      out.push(...records);
      a.position = records[records.length - 1]!.offset + 1;
    };
    for (let n = 0; n < entries.length && out.length < max; n++) {
      const a = entries[(start + n) % entries.length]!;
      takeFrom(a);
      if (this.readerOf(a).buffered === 0) empty.push(a);
    }
    if (out.length > 0) return out;
    const behind: Assigned[] = [];
    await Promise.all(
      empty.map(async (a) => {
        const state = await this.state(a.tp);
        // Only a position below the log start is reset (its records were deleted). One past
        // the high watermark waits for records instead: a stream's state read during a failover
        // can be behind what the reader already brought (seen as an empty stream), and a reset
        // then would read the whole partition again.
        if (a.position! < state.logStartOffset) a.position = this.reset(a.tp, a.position, state);
        if (state.highWatermark > a.position!) {
          this.readerOf(a).take(a.position!, 0); // starts the reader there if it is elsewhere
          behind.push(a);
        }
      }),
    );
    if (behind.length === 0) return out;
    await this.firstArrival(
      behind.map((a) => this.readerOf(a)),
      CATCH_UP_MS,
    );
    for (const a of behind) {
      if (out.length < max) takeFrom(a);
      // Still nothing from a stream that has more: its reader is stuck (see restartAt).
      if (out.length === 0 && this.readerOf(a).buffered === 0)
        this.readerOf(a).restartAt(a.position!);
    }
    return out;
  }

  /** Resolves when any reader has records, or after `ms` of real time. */
  private async firstArrival(readers: readonly PartitionReader[], ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ...readers.map((r) => r.arrival()),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
  }

  private async waitForRecords(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    const clock = this.context.clock;
    const release = keepProcessAlive();
    let onAbort: (() => void) | undefined;
    const wakeAt = Math.min(deadline, clock.now() + this.options.heartbeatIntervalMs);
    let timer: Timer | undefined;
    const waits: Promise<void>[] = [
      new Promise<void>((resolve) => (timer = clock.setTimer(wakeAt - clock.now(), resolve))),
    ];
    if (signal !== undefined)
      waits.push(
        new Promise<void>((resolve) => {
          onAbort = () => resolve();
          signal.addEventListener("abort", onAbort, { once: true });
        }),
      );
    for (const a of this.assigned.values())
      if (!a.paused && a.position !== undefined) waits.push(this.readerOf(a).arrival());
    try {
      await Promise.race(waits);
    } finally {
      timer?.cancel();
      release();
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    }
  }

  // ---------------------------------------------------------------- commits

  private positionsOf(
    partitions: readonly TopicPartition[],
  ): Array<TopicPartition & OffsetAndMetadata> {
    const out: Array<TopicPartition & OffsetAndMetadata> = [];
    for (const tp of partitions) {
      const a = this.assigned.get(keyOf(tp));
      if (a?.position !== undefined) out.push({ ...a.tp, offset: a.position });
    }
    return out;
  }

  private async maybeAutoCommit(): Promise<void> {
    if (!this.options.autoCommit || this.options.groupId === undefined) return;
    const now = this.context.clock.now();
    if (now < this.nextAutoCommitAt) return;
    this.nextAutoCommitAt = now + this.options.autoCommitIntervalMs;
    try {
      await this.commitSync();
    } catch (error) {
      if (!isTopicError(error)) throw error; // a rebalance raced us: the next round commits
    }
  }

  async commitSync(offsets?: OffsetCommits): Promise<void> {
    this.ensureOpen();
    const groupId = this.options.groupId;
    if (groupId === undefined)
      throw new TopicError("INVALID_GROUP_ID", "groupId: commits need a consumer group", "groupId");
    const entries = checkOffsets(
      offsets ?? this.positionsOf(this.assignment()),
      this.context.catalog,
    );
    if (entries.length === 0 && offsets === undefined) return;
    const memberId = this.subscription === undefined ? undefined : this.memberId;
    const generation = this.generation;
    await this.context.groups.update(groupId, (group) => {
      checkMemberCommit(group, groupId, memberId, generation, entries);
      writeOffsets(group, entries);
      return { result: undefined, changed: true };
    });
  }

  commitAsync(offsets?: OffsetCommits, onComplete?: (error: Error | undefined) => void): void {
    void this.context.track(
      this.commitSync(offsets).then(
        () => onComplete?.(undefined),
        (error: unknown) => onComplete?.(asError(error)),
      ),
    );
  }

  async committed(
    partitions: readonly TopicPartition[],
  ): Promise<Array<(TopicPartition & OffsetAndMetadata) | undefined>> {
    const groupId = this.options.groupId;
    if (groupId === undefined)
      throw new TopicError(
        "INVALID_GROUP_ID",
        "groupId: committed offsets need a consumer group",
        "groupId",
      );
    const group = await this.context.groups.get(groupId);
    return partitions.map((tp) => {
      const c = group?.offsets[offsetKey(tp)];
      return c === undefined ? undefined : { topic: tp.topic, partition: tp.partition, ...c };
    });
  }

  // ---------------------------------------------------------------- positions

  private owned(tp: TopicPartition, field = "partition"): Assigned {
    const a = tp === null || typeof tp !== "object" ? undefined : this.assigned.get(keyOf(tp));
    if (a === undefined)
      throw new TopicError(
        "ILLEGAL_STATE",
        `${field}: ${tp?.topic}-${tp?.partition} is not assigned to this consumer`,
        field,
      );
    return a;
  }

  position(tp: TopicPartition): number {
    const a = this.owned(tp);
    if (a.position === undefined)
      throw new TopicError(
        "ILLEGAL_STATE",
        `partition: the position of ${tp.topic}-${tp.partition} is not known yet (poll first)`,
        "partition",
      );
    return a.position;
  }

  seek(tp: TopicPartition, offset: number): void {
    const a = this.owned(tp);
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw invalidTopicInput("offset", "an offset >= 0", offset);
    a.position = offset;
  }

  seekToBeginning(partitions?: readonly TopicPartition[]): Promise<void> {
    return this.seekEach(partitions, async (a) => (await this.state(a.tp)).logStartOffset);
  }

  seekToEnd(partitions?: readonly TopicPartition[]): Promise<void> {
    return this.seekEach(partitions, async (a) => (await this.state(a.tp)).highWatermark);
  }

  seekToTimestamp(tp: TopicPartition, timestampMs: number): Promise<void> {
    if (!Number.isFinite(timestampMs))
      return Promise.reject(
        invalidTopicInput("timestampMs", "milliseconds since the epoch", timestampMs),
      );
    return this.seekEach([tp], async (a) => {
      const definition = this.context.catalog.get(a.tp.topic);
      if (definition === undefined) throw unknownTopic(a.tp.topic);
      return offsetForTimestamp(
        this.context.jsm,
        partitionAddress(this.context.namespace, definition, a.tp.partition),
        timestampMs,
      );
    });
  }

  private async seekEach(
    partitions: readonly TopicPartition[] | undefined,
    to: (a: Assigned) => Promise<number>,
  ): Promise<void> {
    const targets =
      partitions === undefined
        ? [...this.assigned.values()]
        : partitions.map((tp) => this.owned(tp));
    for (const a of targets) a.position = await to(a);
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.owned(tp).paused = true;
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.owned(tp).paused = false;
  }

  paused(): TopicPartition[] {
    return [...this.assigned.values()].filter((a) => a.paused).map((a) => a.tp);
  }

  groupMetadata(): ConsumerGroupMetadata {
    return {
      groupId: this.options.groupId ?? "",
      generationId: this.generation,
      memberId: this.memberId,
    };
  }

  // ---------------------------------------------------------------- lifecycle

  private ensureOpen(): void {
    if (this.closed) throw new TopicError("ILLEGAL_STATE", "the consumer is closed");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.options.autoCommit && this.options.groupId !== undefined && !this.silenced) {
        try {
          await this.commitSync();
        } catch (error) {
          if (!isTopicError(error)) throw error;
        }
      }
      if (this.subscription !== undefined && this.memberId !== "" && !this.silenced)
        await this.leaveGroup();
    } finally {
      this.closed = true;
      this.stopHeartbeats();
      this.dropAll();
      this.onClose(this);
    }
  }

  /** Falls silent as a crashed process would: no heartbeats, no leave, no commit. */
  silence(): void {
    this.silenced = true;
    this.closed = true;
    this.stopHeartbeats();
    this.dropAll();
    this.onClose(this);
  }
}
