import { asError } from "../../errors/index.js";
import { hostname } from "node:os";
import type { Clock, Timer } from "../../time/index.js";
import { type ResolvedConsumerOptions, resolveConsumerOptions } from "./consumer-options.js";
import type { JoinRequest, MemberView } from "./group-membership.js";
import {
  checkPartitionList,
  checkTopicOptions,
  checkTopicPartition,
  isList,
} from "./input-checks.js";
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";
import { checkTopicName } from "./topic-config.js";
import type {
  ConsumerOptions,
  ConsumerRecord,
  OffsetCommits,
  PollOptions,
  RebalanceListener,
  TopicConsumer,
} from "./topic-consumer.js";
import { TopicError, invalidTopicInput, isTopicError } from "./topic-error.js";
import type { ConsumerGroupMetadata } from "./topic-producer.js";

/** A partition the consumer reads: where it stands and whether it is paused. */
export interface AssignedPartition {
  readonly tp: TopicPartition;
  position: number | undefined;
  paused: boolean;
}

export const partitionKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;
const HOST = hostname();

/**
 * A consumer's side of Kafka's group protocol and its positions, whatever stores the group and
 * the records. Group work happens inside `poll`, as in Kafka's client: rejoining when the group
 * rebalances (revoking first under the eager protocols, only what moves under
 * cooperative-sticky), adopting a new assignment, auto-committing; a timer keeps the session
 * alive between polls. A backend supplies the group operations (join, leave, look, commit),
 * the reading of records and the ends of its partitions.
 */
export abstract class GroupMemberConsumer<A extends AssignedPartition> implements TopicConsumer {
  protected readonly options: ResolvedConsumerOptions;
  protected readonly assigned = new Map<string, A>();
  protected subscription: readonly string[] | undefined;
  private listener: RebalanceListener = {};
  protected memberId = "";
  protected generation = -1;
  private protocol = "";
  private heartbeatTimer: Timer | undefined;
  private nextAutoCommitAt: number;
  private rotation = 0;
  protected closed = false;
  private silenced = false;

  protected constructor(
    options: ConsumerOptions,
    protected readonly clock: Clock,
  ) {
    this.options = resolveConsumerOptions(options);
    this.nextAutoCommitAt = clock.now() + this.options.autoCommitIntervalMs;
  }

  // ---------------------------------------------------------------- what a backend supplies

  /** A new entry for a partition the consumer starts reading. */
  protected abstract fresh(tp: TopicPartition): A;
  /** Checks the partitions given to `assign` (they exist); typed errors naming the field. */
  protected abstract checkPartitions(
    partitions: readonly TopicPartition[],
  ): Promise<TopicPartition[]>;
  /** Joins (or rejoins) the group; resolves with the member id. */
  protected abstract joinGroup(request: JoinRequest): Promise<string>;
  protected abstract leaveGroup(memberId: string): Promise<void>;
  /**
   * The member's view of its group (UNKNOWN_MEMBER_ID once it is gone); a heartbeat when the
   * last one is older than `heartbeatMs`.
   */
  protected abstract lookAtGroup(memberId: string, heartbeatMs: number): Promise<MemberView>;
  /** Keeps the session alive between polls; failures are found by the next poll. */
  protected abstract heartbeat(memberId: string): void;
  /** Sets where newly assigned partitions start, or leaves it for the first read. */
  protected abstract startPositions(added: readonly A[], adopted: boolean): Promise<void>;
  /** The position of a partition not read yet (or ILLEGAL_STATE when it cannot say). */
  protected abstract firstPosition(a: A): number;
  /** Reads up to `maxPollRecords` from the partitions, in the order of `rotated()`. */
  protected abstract fetch(): Promise<ConsumerRecord[]> | ConsumerRecord[];
  /** Waits for records, the deadline, the next heartbeat or `signal`, whichever comes first. */
  protected abstract waitForRecords(
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<void>;
  /** Checks and stores a commit (member, generation, ownership, offsets). */
  protected abstract writeCommit(
    groupId: string,
    memberId: string | undefined,
    generation: number,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): Promise<void>;
  protected abstract readCommitted(
    groupId: string,
    partitions: readonly TopicPartition[],
  ): Promise<Array<(TopicPartition & OffsetAndMetadata) | undefined>>;
  protected abstract beginningOf(a: A): Promise<number> | number;
  protected abstract endOf(a: A): Promise<number> | number;
  protected abstract offsetForTimestampOf(a: A, timestampMs: number): Promise<number> | number;
  /** Tells the service the consumer is gone. */
  protected abstract detach(): void;
  /** A partition leaves the consumer (a backend frees what reads it). */
  protected released(_a: A): void {}
  /** Topics named in `subscribe`, looked up before the member joins. */
  protected prepareTopics(_names: readonly string[]): Promise<void> {
    return Promise.resolve();
  }
  /** Background work of this consumer (an asynchronous commit), for a backend that counts it. */
  protected track(work: Promise<void>): void {
    void work;
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
    await this.prepareTopics(names);
    this.subscription = [...new Set(names)].sort();
    this.listener = listener;
    await this.join();
    this.startHeartbeats();
    await this.syncGroup();
  }

  async unsubscribe(): Promise<void> {
    if (this.subscription !== undefined && this.memberId !== "") {
      await this.revoke([...this.assigned.values()].map((a) => a.tp));
      await this.leaveGroup(this.memberId);
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
    const wanted = await this.checkPartitions(checkPartitionList(partitions));
    const keep = new Map(this.assigned);
    this.assigned.clear();
    for (const tp of wanted) {
      const existing = keep.get(partitionKey(tp));
      keep.delete(partitionKey(tp));
      this.assigned.set(partitionKey(tp), existing ?? this.fresh(tp));
    }
    for (const gone of keep.values()) this.released(gone);
    await this.startPositions([...this.assigned.values()], false);
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()].map((a) => a.tp);
  }

  private dropAll(): void {
    for (const a of this.assigned.values()) this.released(a);
    this.assigned.clear();
  }

  private async join(): Promise<void> {
    const request: JoinRequest = {
      groupId: this.options.groupId!,
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
      this.memberId = await this.joinGroup(request);
    } catch (error) {
      if (!isTopicError(error, "UNKNOWN_MEMBER_ID") || request.memberId === "") throw error;
      this.memberId = "";
      await this.join();
    }
  }

  private startHeartbeats(): void {
    if (this.heartbeatTimer !== undefined) return;
    this.heartbeatTimer = this.clock.setTimer(this.options.heartbeatIntervalMs, () => {
      this.heartbeatTimer = undefined;
      if (this.closed || this.silenced || this.subscription === undefined) return;
      this.heartbeat(this.memberId);
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
    // A poll counts as a heartbeat (a backend that writes it does so once per interval).
    const heartbeatMs = this.options.heartbeatIntervalMs;
    let view: MemberView;
    try {
      view = await this.lookAtGroup(this.memberId, heartbeatMs);
    } catch (error) {
      if (!isTopicError(error, "UNKNOWN_MEMBER_ID")) throw error;
      // Our session expired: the partitions are someone else's now, so no commit, no revoke.
      const lost = this.assignment();
      this.dropAll();
      this.memberId = "";
      this.generation = -1;
      if (lost.length > 0) await this.listener.onPartitionsLost?.(lost);
      await this.join();
      view = await this.lookAtGroup(this.memberId, heartbeatMs);
    }
    if (view.rejoinNeeded) {
      if (this.protocol !== "cooperative-sticky")
        await this.revoke([...this.assigned.values()].map((a) => a.tp));
      await this.join();
      view = await this.lookAtGroup(this.memberId, heartbeatMs);
    }
    if (view.state === "Stable" && view.generation !== this.generation) await this.adopt(view);
  }

  private async adopt(view: MemberView): Promise<void> {
    this.generation = view.generation;
    this.protocol = view.protocol;
    const next = new Map(view.assignment.map((tp) => [partitionKey(tp), tp]));
    const revoked = [...this.assigned.values()]
      .filter((a) => !next.has(partitionKey(a.tp)))
      .map((a) => a.tp);
    const added = [...next.values()].filter((tp) => !this.assigned.has(partitionKey(tp)));
    if (revoked.length > 0) await this.revoke(revoked);
    const fresh = added.map((tp) => this.fresh(tp));
    for (const a of fresh) this.assigned.set(partitionKey(a.tp), a);
    await this.startPositions(fresh, true);
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
      const a = this.assigned.get(partitionKey(tp));
      if (a !== undefined) this.released(a);
      this.assigned.delete(partitionKey(tp));
    }
  }

  // ---------------------------------------------------------------- reading

  async poll(options: PollOptions = {}): Promise<ConsumerRecord[]> {
    this.ensureOpen();
    const timeoutMs = checkTopicOptions(options).timeoutMs ?? 0;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0)
      throw invalidTopicInput("timeoutMs", "an integer >= 0", timeoutMs, "INVALID_CONFIG");
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      await this.syncGroup();
      await this.maybeAutoCommit();
      const records = await this.fetch();
      if (
        records.length > 0 ||
        this.closed ||
        options.signal?.aborted === true ||
        this.clock.now() >= deadline
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

  /** The assigned partitions, starting from the next one in turn, so each gets its share. */
  protected rotated(): A[] {
    const entries = [...this.assigned.values()];
    if (entries.length === 0) return entries;
    const start = this.rotation++ % entries.length;
    return [...entries.slice(start), ...entries.slice(0, start)];
  }

  // ---------------------------------------------------------------- commits

  private positionsOf(
    partitions: readonly TopicPartition[],
  ): Array<TopicPartition & OffsetAndMetadata> {
    const out: Array<TopicPartition & OffsetAndMetadata> = [];
    for (const tp of partitions) {
      const a = this.assigned.get(partitionKey(tp));
      if (a?.position !== undefined)
        out.push({ topic: a.tp.topic, partition: a.tp.partition, offset: a.position });
    }
    return out;
  }

  private async maybeAutoCommit(): Promise<void> {
    if (!this.options.autoCommit || this.options.groupId === undefined) return;
    const now = this.clock.now();
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
    await this.writeCommit(
      groupId,
      this.subscription === undefined ? undefined : this.memberId,
      this.generation,
      entries,
    );
  }

  commitAsync(offsets?: OffsetCommits, onComplete?: (error: Error | undefined) => void): void {
    this.track(
      this.commitSync(offsets).then(
        () => onComplete?.(undefined),
        (error: unknown) => onComplete?.(asError(error)),
      ),
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
    try {
      return this.readCommitted(groupId, checkPartitionList(partitions));
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  // ---------------------------------------------------------------- positions

  protected owned(tp: TopicPartition, field = "partition"): A {
    checkTopicPartition(tp, field);
    const a = this.assigned.get(partitionKey(tp));
    if (a === undefined)
      throw new TopicError(
        "ILLEGAL_STATE",
        `${field}: ${tp.topic}-${tp.partition} is not assigned to this consumer`,
        field,
      );
    return a;
  }

  position(tp: TopicPartition): number {
    const a = this.owned(tp);
    a.position ??= this.firstPosition(a);
    return a.position;
  }

  seek(tp: TopicPartition, offset: number): void {
    const a = this.owned(tp);
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw invalidTopicInput("offset", "an offset >= 0", offset);
    a.position = offset;
  }

  seekToBeginning(partitions?: readonly TopicPartition[]): Promise<void> {
    return this.seekEach(partitions, (a) => this.beginningOf(a));
  }

  seekToEnd(partitions?: readonly TopicPartition[]): Promise<void> {
    return this.seekEach(partitions, (a) => this.endOf(a));
  }

  seekToTimestamp(tp: TopicPartition, timestampMs: number): Promise<void> {
    if (!Number.isFinite(timestampMs))
      return Promise.reject(
        invalidTopicInput("timestampMs", "milliseconds since the epoch", timestampMs),
      );
    return this.seekEach([tp], (a) => this.offsetForTimestampOf(a, timestampMs));
  }

  private async seekEach(
    partitions: readonly TopicPartition[] | undefined,
    to: (a: A) => Promise<number> | number,
  ): Promise<void> {
    const targets =
      partitions === undefined
        ? [...this.assigned.values()]
        : checkPartitionList(partitions).map((tp, i) => this.owned(tp, `partitions[${i}]`));
    for (const a of targets) a.position = await to(a);
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const a of this.ownedAll(partitions)) a.paused = true;
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const a of this.ownedAll(partitions)) a.paused = false;
  }

  /** Each partition of a caller's list, assigned to this consumer (checked before any changes). */
  private ownedAll(partitions: readonly TopicPartition[]): A[] {
    return checkPartitionList(partitions).map((tp, i) => this.owned(tp, `partitions[${i}]`));
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

  protected ensureOpen(): void {
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
        await this.leaveGroup(this.memberId);
    } finally {
      this.closed = true;
      this.stopHeartbeats();
      this.dropAll();
      this.detach();
    }
  }

  /** Falls silent as a crashed process would: no heartbeats, no leave, no commit. */
  silence(): void {
    this.silenced = true;
    this.closed = true;
    this.stopHeartbeats();
    this.dropAll();
    this.detach();
  }
}
