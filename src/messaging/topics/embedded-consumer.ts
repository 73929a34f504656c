import { asError } from "../../errors/index.js";
import { hostname } from "node:os";
import type { Timer } from "../../time/index.js";
import { isList } from "./input-checks.js";
import type { GroupCoordinator, MemberView } from "./group-coordinator.js";
import { keepProcessAlive } from "./keep-alive.js";
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";
import type { PartitionLog } from "./partition-log.js";
import type { TopicBroker } from "./topic-broker.js";
import type {
  AssignorName,
  ConsumerOptions,
  ConsumerRecord,
  IsolationLevel,
  OffsetCommits,
  OffsetReset,
  PollOptions,
  RebalanceListener,
  TopicConsumer,
} from "./topic-consumer.js";
import { TopicError, invalidTopicInput, isTopicError } from "./topic-error.js";
import { checkTopicName } from "./topic-config.js";
import type { ConsumerGroupMetadata } from "./topic-producer.js";
import { ASSIGNORS } from "./assignors.js";

interface ResolvedConsumerOptions {
  readonly groupId: string | undefined;
  readonly clientId: string;
  readonly assignors: readonly AssignorName[];
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  readonly autoOffsetReset: OffsetReset;
  readonly maxPollRecords: number;
  readonly maxPartitionFetchBytes: number;
  readonly isolationLevel: IsolationLevel;
}

interface Assigned {
  readonly tp: TopicPartition;
  position: number | undefined;
  paused: boolean;
}

let clientCounter = 0;

function intOption(value: unknown, field: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
    throw invalidTopicInput(field, `an integer >= ${min}`, value, "INVALID_CONFIG");
  return value;
}

/** Validates consumer options at the edge and fills in Kafka's defaults. */
export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  const groupId = options.groupId;
  if (groupId !== undefined && (typeof groupId !== "string" || groupId.length === 0))
    throw invalidTopicInput("groupId", "a non-empty string", groupId, "INVALID_GROUP_ID");
  const assignors = options.assignors ?? ["range", "cooperative-sticky"];
  if (!isList(assignors) || assignors.length === 0)
    throw invalidTopicInput(
      "assignors",
      "a non-empty list of assignors",
      assignors,
      "INVALID_CONFIG",
    );
  for (const a of assignors)
    if (!ASSIGNORS.includes(a))
      throw invalidTopicInput(
        "assignors",
        `"range", "roundrobin" or "cooperative-sticky"`,
        a,
        "INVALID_CONFIG",
      );
  const reset = options.autoOffsetReset ?? "latest";
  if (!["earliest", "latest", "none"].includes(reset))
    throw invalidTopicInput(
      "autoOffsetReset",
      `"earliest", "latest" or "none"`,
      reset,
      "INVALID_CONFIG",
    );
  const isolation = options.isolationLevel ?? "read_uncommitted";
  if (isolation !== "read_uncommitted" && isolation !== "read_committed")
    throw invalidTopicInput(
      "isolationLevel",
      `"read_uncommitted" or "read_committed"`,
      isolation,
      "INVALID_CONFIG",
    );
  const sessionTimeoutMs = intOption(options.sessionTimeoutMs, "sessionTimeoutMs", 1, 45_000);
  const heartbeatIntervalMs = intOption(
    options.heartbeatIntervalMs,
    "heartbeatIntervalMs",
    1,
    3000,
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs)
    throw invalidTopicInput(
      "heartbeatIntervalMs",
      `less than sessionTimeoutMs (${sessionTimeoutMs})`,
      heartbeatIntervalMs,
      "INVALID_SESSION_TIMEOUT",
    );
  return {
    groupId,
    isolationLevel: isolation,
    clientId: options.clientId ?? `consumer-${++clientCounter}`,
    assignors,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: intOption(options.rebalanceTimeoutMs, "rebalanceTimeoutMs", 1, 300_000),
    autoCommit: options.autoCommit ?? true,
    autoCommitIntervalMs: intOption(options.autoCommitIntervalMs, "autoCommitIntervalMs", 0, 5000),
    autoOffsetReset: reset,
    maxPollRecords: intOption(options.maxPollRecords, "maxPollRecords", 1, 500),
    maxPartitionFetchBytes: intOption(
      options.maxPartitionFetchBytes,
      "maxPartitionFetchBytes",
      1,
      1024 * 1024,
    ),
  };
}

const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;
const HOST = hostname();

/**
 * The embedded consumer. Group work happens inside `poll`, as in Kafka's client: rejoining
 * when the group rebalances (revoking first under the eager protocols, only what moves under
 * cooperative-sticky), adopting a new assignment, auto-committing; a background timer keeps
 * the session alive between polls.
 */
export class EmbeddedConsumer implements TopicConsumer {
  private readonly options: ResolvedConsumerOptions;
  private readonly assigned = new Map<string, Assigned>();
  private subscription: readonly string[] | undefined;
  private listener: RebalanceListener = {};
  private memberId = "";
  private generation = -1;
  private protocol = "";
  private heartbeatTimer: Timer | undefined;
  private nextAutoCommitAt = 0;
  private rotation = 0;
  private closed = false;
  private silenced = false;

  constructor(
    private readonly broker: TopicBroker,
    private readonly coordinator: GroupCoordinator,
    options: ConsumerOptions,
    private readonly onClose: (consumer: EmbeddedConsumer) => void,
  ) {
    this.options = resolveConsumerOptions(options);
    this.nextAutoCommitAt = broker.clock.now() + this.options.autoCommitIntervalMs;
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
    this.subscription = [...new Set(names)].sort();
    this.listener = listener;
    this.join();
    this.startHeartbeats();
    await this.syncGroup();
  }

  async unsubscribe(): Promise<void> {
    if (this.subscription !== undefined && this.memberId !== "") {
      await this.revoke([...this.assigned.values()].map((a) => a.tp));
      this.coordinator.leave(this.options.groupId!, this.memberId);
    }
    this.stopHeartbeats();
    this.subscription = undefined;
    this.memberId = "";
    this.generation = -1;
    this.assigned.clear();
  }

  assign(partitions: readonly TopicPartition[]): Promise<void> {
    try {
      this.ensureOpen();
      if (this.subscription !== undefined)
        throw new TopicError(
          "ILLEGAL_STATE",
          "partitions: the consumer is subscribed; unsubscribe first",
        );
      if (!isList(partitions))
        throw invalidTopicInput("partitions", "an array of { topic, partition }", partitions);
      const wanted = partitions.map((tp, i) => {
        const log = this.broker.partitionLog(
          tp?.topic,
          tp?.partition,
          `partitions[${i}].partition`,
        );
        return { topic: log.topic, partition: log.partition };
      });
      const keep = new Map(this.assigned);
      this.assigned.clear();
      for (const tp of wanted)
        this.assigned.set(
          keyOf(tp),
          keep.get(keyOf(tp)) ?? { tp, position: undefined, paused: false },
        );
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()].map((a) => a.tp);
  }

  private join(): void {
    const owned = [...this.assigned.values()].map((a) => a.tp);
    try {
      this.memberId = this.coordinator.join({
        groupId: this.options.groupId!,
        memberId: this.memberId,
        clientId: this.options.clientId,
        host: HOST,
        topics: this.subscription ?? [],
        assignors: this.options.assignors,
        owned,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
      });
    } catch (error) {
      if (!isTopicError(error, "UNKNOWN_MEMBER_ID")) throw error;
      this.memberId = "";
      this.join();
    }
  }

  private startHeartbeats(): void {
    if (this.heartbeatTimer !== undefined) return;
    this.heartbeatTimer = this.broker.clock.setTimer(this.options.heartbeatIntervalMs, () => {
      this.heartbeatTimer = undefined;
      if (this.closed || this.silenced || this.subscription === undefined) return;
      try {
        this.coordinator.heartbeat(this.options.groupId!, this.memberId);
      } catch {
        // the next poll finds out and rejoins
      }
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
    const groupId = this.options.groupId!;
    let view: MemberView;
    try {
      view = this.coordinator.view(groupId, this.memberId);
    } catch (error) {
      if (!isTopicError(error, "UNKNOWN_MEMBER_ID")) throw error;
      // Our session expired: the partitions are someone else's now, so no commit, no revoke.
      const lost = this.assignment();
      this.assigned.clear();
      this.memberId = "";
      this.generation = -1;
      if (lost.length > 0) await this.listener.onPartitionsLost?.(lost);
      this.join();
      view = this.coordinator.view(groupId, this.memberId);
    }
    if (view.rejoinNeeded) {
      if (this.protocol !== "cooperative-sticky")
        await this.revoke([...this.assigned.values()].map((a) => a.tp));
      this.join();
      view = this.coordinator.view(groupId, this.memberId);
    }
    if (view.state === "Stable" && view.generation !== this.generation) await this.adopt(view);
  }

  private async adopt(view: MemberView): Promise<void> {
    this.generation = view.generation;
    this.protocol = view.protocol;
    const next = new Map(view.assignment.map((tp) => [keyOf(tp), tp]));
    const revoked = [...this.assigned.values()]
      .filter((a) => !next.has(keyOf(a.tp)))
      .map((a) => a.tp);
    const added = [...next.values()].filter((tp) => !this.assigned.has(keyOf(tp)));
    if (revoked.length > 0) await this.revoke(revoked);
    for (const tp of added)
      this.assigned.set(keyOf(tp), { tp, position: undefined, paused: false });
    if (added.length > 0 || this.protocol !== "cooperative-sticky")
      await this.listener.onPartitionsAssigned?.(added);
    // Cooperative: what we gave up goes to its new owner in a follow-up rebalance.
    if (revoked.length > 0 && this.protocol === "cooperative-sticky") this.join();
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
    for (const tp of partitions) this.assigned.delete(keyOf(tp));
  }

  // ---------------------------------------------------------------- reading

  async poll(options: PollOptions = {}): Promise<ConsumerRecord[]> {
    this.ensureOpen();
    const timeoutMs = intOption(options.timeoutMs, "timeoutMs", 0, 0);
    const clock = this.broker.clock;
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      await this.syncGroup();
      await this.maybeAutoCommit();
      const records = this.fetch();
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

  private fetch(): ConsumerRecord[] {
    let out: ConsumerRecord[] = [];
    const entries = [...this.assigned.values()];
    if (entries.length === 0) return out;
    const start = this.rotation++ % entries.length;
    for (let n = 0; n < entries.length && out.length < this.options.maxPollRecords; n++) {
      const a = entries[(start + n) % entries.length]!;
      if (a.paused) continue;
      const log = this.broker.partitionLog(a.tp.topic, a.tp.partition);
      // Offsets a transaction is still committing for this partition: wait, as Kafka's
      // consumer does on UNSTABLE_OFFSET_COMMIT, rather than start from the older offset.
      if (a.position === undefined && this.hasPendingOffsets(a.tp)) continue;
      let position = a.position ?? this.initialPosition(a.tp);
      if (position < log.logStartOffset || position > log.highWatermark)
        position = this.resetPosition(a.tp, position);
      a.position = position;
      const { topic, partition } = a.tp;
      // Each record is built once, straight from the batch bytes.
      const { records, nextOffset } = log.read(
        position,
        this.options.maxPollRecords - out.length,
        this.options.maxPartitionFetchBytes,
        this.options.isolationLevel,
        (offset, timestamp, key, value, headers): ConsumerRecord => ({
          topic,
          partition,
          offset,
          timestamp,
          key,
          value,
          headers,
        }),
      );
      if (out.length === 0) out = records;
      else for (const r of records) out.push(r);
      a.position = nextOffset;
    }
    return out;
  }

  private hasPendingOffsets(tp: TopicPartition): boolean {
    const groupId = this.options.groupId;
    return (
      groupId !== undefined && this.coordinator.offsets.hasPending(groupId, tp.topic, tp.partition)
    );
  }

  private initialPosition(tp: TopicPartition): number {
    const groupId = this.options.groupId;
    const committed = groupId === undefined ? undefined : this.coordinator.committed(groupId, tp);
    if (committed !== undefined) return committed.offset;
    return this.resetPosition(tp, undefined);
  }

  /** Kafka's auto.offset.reset, for a partition with no (valid) position. */
  private resetPosition(tp: TopicPartition, from: number | undefined): number {
    const log = this.broker.partitionLog(tp.topic, tp.partition);
    if (this.options.autoOffsetReset === "none")
      throw new TopicError(
        "OFFSET_OUT_OF_RANGE",
        `${tp.topic}-${tp.partition}: ${from === undefined ? "no committed offset" : `offset ${from} is out of range [${log.logStartOffset}, ${log.highWatermark}]`} and autoOffsetReset is "none"`,
        "autoOffsetReset",
      );
    return this.options.autoOffsetReset === "earliest" ? log.logStartOffset : this.endOf(log);
  }

  /** The end a consumer sees: the last stable offset under read_committed, as Kafka's endOffsets. */
  private endOf(log: PartitionLog): number {
    return this.options.isolationLevel === "read_committed"
      ? log.lastStableOffset
      : log.highWatermark;
  }

  /**
   * Waits for records on any assigned partition, the deadline, the next heartbeat (to look at
   * the group again) or `signal`, whichever comes first. Polls that find nothing come here at
   * the record rate when the consumer keeps up, so it costs one promise, no abort controller.
   */
  private waitForRecords(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    const clock = this.broker.clock;
    return new Promise<void>((resolve) => {
      const cancels: Array<() => void> = [];
      let waiting = true;
      const wake = (): void => {
        if (!waiting) return;
        waiting = false;
        for (const cancel of cancels) cancel();
        timer?.cancel();
        release();
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      const release = keepProcessAlive();
      const wakeAt = Math.min(deadline, clock.now() + this.options.heartbeatIntervalMs);
      let timer: Timer | undefined;
      signal?.addEventListener("abort", wake, { once: true });
      if (signal?.aborted === true) wake();
      for (const a of this.assigned.values()) {
        if (!waiting) break;
        if (a.paused || a.position === undefined) continue;
        cancels.push(
          this.broker
            .partitionLog(a.tp.topic, a.tp.partition)
            .whenRecords(a.position, this.options.isolationLevel, wake),
        );
      }
      if (waiting) timer = clock.setTimer(Math.max(0, wakeAt - clock.now()), wake);
    });
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
    const now = this.broker.clock.now();
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
    const entries = offsets ?? this.positionsOf(this.assignment());
    if (entries.length === 0 && offsets === undefined) return;
    await this.coordinator.commit(
      groupId,
      this.subscription === undefined ? undefined : this.memberId,
      this.generation,
      entries,
    );
  }

  commitAsync(offsets?: OffsetCommits, onComplete?: (error: Error | undefined) => void): void {
    this.commitSync(offsets).then(
      () => onComplete?.(undefined),
      (error: unknown) => onComplete?.(error as Error),
    );
  }

  committed(
    partitions: readonly TopicPartition[],
  ): Promise<Array<(TopicPartition & OffsetAndMetadata) | undefined>> {
    const groupId = this.options.groupId;
    if (groupId === undefined)
      return Promise.reject(
        new TopicError(
          "INVALID_GROUP_ID",
          "groupId: committed offsets need a consumer group",
          "groupId",
        ),
      );
    return Promise.resolve(partitions.map((tp) => this.coordinator.committed(groupId, tp)));
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
    a.position ??= this.initialPosition(a.tp);
    return a.position;
  }

  seek(tp: TopicPartition, offset: number): void {
    const a = this.owned(tp);
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw invalidTopicInput("offset", "an offset >= 0", offset);
    a.position = offset;
  }

  seekToBeginning(partitions?: readonly TopicPartition[]): Promise<void> {
    return this.seekEach(
      partitions,
      (a) => this.broker.partitionLog(a.tp.topic, a.tp.partition).logStartOffset,
    );
  }

  seekToEnd(partitions?: readonly TopicPartition[]): Promise<void> {
    return this.seekEach(partitions, (a) =>
      this.endOf(this.broker.partitionLog(a.tp.topic, a.tp.partition)),
    );
  }

  seekToTimestamp(tp: TopicPartition, timestampMs: number): Promise<void> {
    if (!Number.isFinite(timestampMs))
      return Promise.reject(
        invalidTopicInput("timestampMs", "milliseconds since the epoch", timestampMs),
      );
    return this.seekEach([tp], (a) =>
      this.broker.partitionLog(a.tp.topic, a.tp.partition).offsetForTimestamp(timestampMs),
    );
  }

  private seekEach(
    partitions: readonly TopicPartition[] | undefined,
    to: (a: Assigned) => number,
  ): Promise<void> {
    try {
      const targets =
        partitions === undefined
          ? [...this.assigned.values()]
          : partitions.map((tp) => this.owned(tp));
      for (const a of targets) a.position = to(a);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(asError(error));
    }
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
        this.coordinator.leave(this.options.groupId!, this.memberId);
    } finally {
      this.closed = true;
      this.stopHeartbeats();
      this.onClose(this);
    }
  }

  /** Falls silent as a crashed process would: no heartbeats, no leave, no commit. */
  silence(): void {
    this.silenced = true;
    this.closed = true;
    this.stopHeartbeats();
    this.onClose(this);
  }
}
