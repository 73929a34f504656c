import type { Timer } from "../../time/index.js";
import type { GroupCoordinator } from "./group-coordinator.js";
import type { JoinRequest, MemberView } from "./group-membership.js";
import { type AssignedPartition, GroupMemberConsumer } from "./group-member-consumer.js";
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";
import type { PartitionLog } from "./partition-log.js";
import type { TopicBroker } from "./topic-broker.js";
import type { ConsumerOptions, ConsumerRecord } from "./topic-consumer.js";
import { TopicError } from "./topic-error.js";

/**
 * The embedded consumer: the shared group member (`GroupMemberConsumer`) on the in-process
 * coordinator, reading the partition logs directly.
 */
export class EmbeddedConsumer extends GroupMemberConsumer<AssignedPartition> {
  constructor(
    private readonly broker: TopicBroker,
    private readonly coordinator: GroupCoordinator,
    options: ConsumerOptions,
    private readonly onClose: (consumer: EmbeddedConsumer) => void,
  ) {
    super(options, broker.clock);
  }

  protected fresh(tp: TopicPartition): AssignedPartition {
    return { tp, position: undefined, paused: false };
  }

  protected checkPartitions(partitions: readonly TopicPartition[]): Promise<TopicPartition[]> {
    return Promise.resolve(
      partitions.map((tp, i) => {
        const log = this.broker.partitionLog(
          tp?.topic,
          tp?.partition,
          `partitions[${i}].partition`,
        );
        return { topic: log.topic, partition: log.partition };
      }),
    );
  }

  // ---------------------------------------------------------------- the group

  protected joinGroup(request: JoinRequest): Promise<string> {
    return Promise.resolve(this.coordinator.join(request));
  }

  protected leaveGroup(memberId: string): Promise<void> {
    this.coordinator.leave(this.options.groupId!, memberId);
    return Promise.resolve();
  }

  protected lookAtGroup(memberId: string): Promise<MemberView> {
    return Promise.resolve(this.coordinator.view(this.options.groupId!, memberId));
  }

  protected heartbeat(memberId: string): void {
    try {
      this.coordinator.heartbeat(this.options.groupId!, memberId);
    } catch {
      // the next poll finds out and rejoins
    }
  }

  /** Positions are found at the first read (committed offsets may still be in a transaction). */
  protected startPositions(): Promise<void> {
    return Promise.resolve();
  }

  protected writeCommit(
    groupId: string,
    memberId: string | undefined,
    generation: number,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): Promise<void> {
    return this.coordinator.commit(groupId, memberId, generation, offsets);
  }

  protected readCommitted(
    groupId: string,
    partitions: readonly TopicPartition[],
  ): Promise<Array<(TopicPartition & OffsetAndMetadata) | undefined>> {
    return Promise.resolve(partitions.map((tp) => this.coordinator.committed(groupId, tp)));
  }

  // ---------------------------------------------------------------- reading

  protected fetch(): ConsumerRecord[] {
    let out: ConsumerRecord[] = [];
    for (const a of this.rotated()) {
      if (out.length >= this.options.maxPollRecords) break;
      if (a.paused) continue;
      const log = this.broker.partitionLog(a.tp.topic, a.tp.partition);
      // Offsets a transaction is still committing for this partition: wait, as Kafka's
      // consumer does on UNSTABLE_OFFSET_COMMIT, rather than start from the older offset.
      if (a.position === undefined && this.hasPendingOffsets(a.tp)) continue;
      let position = a.position ?? this.firstPosition(a);
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

  /** The committed offset, else auto.offset.reset. */
  protected firstPosition(a: AssignedPartition): number {
    const groupId = this.options.groupId;
    const committed = groupId === undefined ? undefined : this.coordinator.committed(groupId, a.tp);
    if (committed !== undefined) return committed.offset;
    return this.resetPosition(a.tp, undefined);
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
    return this.options.autoOffsetReset === "earliest" ? log.logStartOffset : this.logEnd(log);
  }

  /** The end a consumer sees: the last stable offset under read_committed, as Kafka's endOffsets. */
  private logEnd(log: PartitionLog): number {
    return this.options.isolationLevel === "read_committed"
      ? log.lastStableOffset
      : log.highWatermark;
  }

  /**
   * Waits for records on any assigned partition, the deadline, the next heartbeat (to look at
   * the group again) or `signal`, whichever comes first. Polls that find nothing come here at
   * the record rate when the consumer keeps up, so a wait allocates one promise: the wake
   * function, the partitions it watches and the timer are the consumer's own and reused.
   */
  protected waitForRecords(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) return Promise.resolve();
    const isolation = this.options.isolationLevel;
    for (const a of this.assigned.values()) {
      if (a.paused || a.position === undefined) continue;
      const log = this.broker.partitionLog(a.tp.topic, a.tp.partition);
      if (log.hasRecordsFor(a.position, isolation)) {
        this.stopWatching();
        return Promise.resolve();
      }
      log.watch(this.wake);
      this.watched.push(log);
    }
    const now = this.clock.now();
    const wakeAt = Math.min(deadline, now + this.options.heartbeatIntervalMs);
    // A timer armed for an earlier wait stays when it fires no later than this one must: it
    // wakes this wait early at worst, and `poll` waits again until its deadline.
    if (this.waitTimer === undefined || this.waitTimerAt > wakeAt) {
      this.waitTimer?.cancel();
      this.waitTimerAt = wakeAt;
      this.waitTimer = this.clock.setTimer(Math.max(0, wakeAt - now), this.onWaitTimer, {
        keepAlive: true,
      });
    } else this.waitTimer.setKeepAlive?.(true);
    if (signal !== undefined) {
      this.waitSignal = signal;
      signal.addEventListener("abort", this.wake, { once: true });
    }
    return new Promise<void>((resolve) => {
      const other = this.waitResolve; // a concurrent poll: one wake ends both waits
      this.waitResolve =
        other === undefined
          ? resolve
          : () => {
              other();
              resolve();
            };
    });
  }

  private waitResolve: (() => void) | undefined;
  private waitSignal: AbortSignal | undefined;
  private waitTimer: Timer | undefined;
  private waitTimerAt = Number.POSITIVE_INFINITY;
  private readonly watched: PartitionLog[] = [];

  /** Ends the current wait (records, timer, abort or close). */
  private readonly wake = (): void => {
    const resolve = this.waitResolve;
    if (resolve === undefined) return;
    this.waitResolve = undefined;
    this.stopWatching();
    // Between polls the timer must not hold the process open.
    this.waitTimer?.setKeepAlive?.(false);
    this.waitSignal?.removeEventListener("abort", this.wake);
    this.waitSignal = undefined;
    resolve();
  };

  private readonly onWaitTimer = (): void => {
    this.waitTimer = undefined;
    this.waitTimerAt = Number.POSITIVE_INFINITY;
    this.wake();
  };

  private stopWatching(): void {
    for (const log of this.watched) log.unwatch(this.wake);
    this.watched.length = 0;
  }

  // ---------------------------------------------------------------- positions

  protected beginningOf(a: AssignedPartition): number {
    return this.broker.partitionLog(a.tp.topic, a.tp.partition).logStartOffset;
  }

  protected endOf(a: AssignedPartition): number {
    return this.logEnd(this.broker.partitionLog(a.tp.topic, a.tp.partition));
  }

  protected offsetForTimestampOf(a: AssignedPartition, timestampMs: number): number {
    return this.broker.partitionLog(a.tp.topic, a.tp.partition).offsetForTimestamp(timestampMs);
  }

  protected detach(): void {
    // A poll still waiting keeps its timer and wakes on it, as it would have without close.
    if (this.waitResolve === undefined) {
      this.waitTimer?.cancel();
      this.waitTimer = undefined;
    }
    this.onClose(this);
  }
}
