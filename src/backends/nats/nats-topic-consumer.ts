import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Clock, Timer } from "../../time/index.js";
import {
  type AssignedPartition,
  GroupMemberConsumer,
} from "../../messaging/topics/group-member-consumer.js";
import type { JoinRequest, MemberView } from "../../messaging/topics/group-membership.js";
import { isList } from "../../messaging/topics/input-checks.js";
import { keepProcessAlive } from "../../messaging/topics/keep-alive.js";
import type { OffsetAndMetadata, TopicPartition } from "../../messaging/topics/topic-admin.js";
import type { ConsumerOptions, ConsumerRecord } from "../../messaging/topics/topic-consumer.js";
import { TopicError, invalidTopicInput, unknownTopic } from "../../messaging/topics/topic-error.js";
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
import { answerWithin } from "./answer-within.js";
import { PartitionReader } from "./partition-reader.js";
import type { ReconnectWatch } from "./reconnect-watch.js";
import {
  type PartitionState,
  offsetForTimestamp,
  partitionAddress,
  partitionState,
} from "./partition-stream.js";
import type { WrittenEnds } from "./written-ends.js";

/** How long a poll waits (real time) for records the stream has but the reader has not yet brought. */
const CATCH_UP_MS = 3000;
/** How long a poll waits (real time) for a stream to answer (`answerWithin`). */
const ANSWER_WITHIN_MS = 1500;
/**
 * How long a poll of a member carrying on (see `lookAtGroup`) waits for its look at the group
 * before it goes by its last view; the look runs on, and its answer is taken when it comes.
 */
const CARRY_ON_WAIT_MS = 200;
/**
 * How long a poll may go by the member's last view of a stable group (by the service's clock and
 * by real time) instead of reading the group's value again. Kafka's members hear of a rebalance
 * with their next heartbeat; here a busy consumer's polls would otherwise read it once each.
 */
const GROUP_LOOK_MS = 200;
/**
 * How long (real time) a poll may go by a partition's state the stream gave an earlier poll.
 * A consumer keeping up finds its readers empty at most polls, and each such poll asked the
 * stream for its end; this service's own acknowledged writes are known without asking.
 */
const STATE_FRESH_MS = 100;

/** A reader's records came before its stream's state (`fetch`). */
const ARRIVED: unique symbol = Symbol("arrived");

/** What consumers share within one service. */
export interface ConsumerContext {
  /** The client readers make their consumers with (its request timeout: `READER_TIMEOUT_MS`). */
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly catalog: NatsTopicCatalog;
  readonly groups: NatsGroupStore;
  /** Sends reads again whose answers a dropped connection lost. */
  readonly watch: ReconnectWatch;
  /** What this service's producers have had acknowledged, per partition stream. */
  readonly written: WrittenEnds;
  readonly namespace: string;
  readonly clock: Clock;
  /** Counts background work (heartbeats, commits) so a test's virtual clock can wait for it. */
  track<T>(work: Promise<T>): Promise<T>;
}

interface Assigned extends AssignedPartition {
  reader: PartitionReader | undefined;
  /** The partition's stream, known once its reader is made. */
  stream: string | undefined;
  /** The partition's state as the stream last gave it to a poll, and until when to go by it. */
  state: { value: PartitionState; freshUntil: number } | undefined;
}

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
 * A consumer on JetStream: the shared group member (`GroupMemberConsumer`) with the group in
 * the key-value bucket (`NatsGroupStore`, every change a compare-and-set of the group's value)
 * and each partition read by a `PartitionReader`.
 */
export class NatsTopicConsumer extends GroupMemberConsumer<Assigned> {
  private readonly counts: PartitionCounts;
  /** The group as the last look at it found it: adopted partitions start at its commits. */
  private lastSeen: GroupRecord | undefined;
  /** The member's view at the last look that was answered, and when. */
  private lastView: { memberId: string; seen: MemberView; at: number } | undefined;
  /** Until when (`performance.now()`) polls may go by `lastView` without a look of their own. */
  private viewFreshUntil = 0;
  /** A look a carrying-on poll stopped waiting for, not yet answered. */
  private lookInFlight: Promise<unknown> | undefined;
  /** Counts joins and leaves: a look begun before one is not taken as the member's view. */
  private memberships = 0;
  private readonly stopWatching: () => void;

  constructor(
    private readonly context: ConsumerContext,
    options: ConsumerOptions,
    private readonly onClose: (consumer: NatsTopicConsumer) => void,
  ) {
    super(options, context.clock);
    this.counts = (topic) => context.catalog.get(topic)?.partitions;
    this.stopWatching = context.watch.onReconnect(() => {
      for (const a of this.assigned.values()) {
        a.reader?.lostTouch();
        a.state = undefined;
      }
    });
  }

  private get groupId(): string {
    return this.options.groupId!;
  }

  protected fresh(tp: TopicPartition): Assigned {
    return {
      tp,
      position: undefined,
      paused: false,
      reader: undefined,
      stream: undefined,
      state: undefined,
    };
  }

  protected override released(a: Assigned): void {
    a.reader?.close();
  }

  protected override async prepareTopics(names: readonly string[]): Promise<void> {
    for (const name of names) await this.context.catalog.fetch(name);
  }

  protected async checkPartitions(
    partitions: readonly TopicPartition[],
  ): Promise<TopicPartition[]> {
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
    return wanted;
  }

  // ---------------------------------------------------------------- the group

  protected joinGroup(request: JoinRequest): Promise<string> {
    this.viewFreshUntil = 0;
    this.memberships++;
    return this.context.groups.update(this.groupId, (group) => {
      expire(group, this.context.clock.now(), this.counts);
      return {
        result: join(group, this.groupId, request, this.context.clock.now(), this.counts),
        changed: true,
      };
    });
  }

  protected async leaveGroup(memberId: string): Promise<void> {
    this.viewFreshUntil = 0;
    this.memberships++;
    await this.context.groups.update(this.groupId, (group) => ({
      result: undefined,
      changed: leave(group, memberId, this.context.clock.now(), this.counts),
    }));
  }

  /**
   * While the group's bucket does not answer (its stream has no leader yet, or the request was
   * lost with a server), a member whose last look found the group stable carries on with its
   * assignment until its session would run out, as a Kafka member fetches while its
   * coordinator moves: a poll waits CARRY_ON_WAIT_MS for its look, then reads by the last
   * view; the look runs on (one at a time) and its answer is taken when it comes.
   */
  protected async lookAtGroup(memberId: string, heartbeatMs: number): Promise<MemberView> {
    const last = this.lastView;
    const settled =
      last !== undefined &&
      last.memberId === memberId &&
      last.seen.state === "Stable" &&
      !last.seen.rejoinNeeded;
    const now = this.context.clock.now();
    // Young by the service's clock (which tests may drive) and by real time (the network's).
    // The heartbeat timer keeps the session alive meanwhile: it writes, where polls only read.
    if (settled && now - last.at < GROUP_LOOK_MS && performance.now() < this.viewFreshUntil)
      return last.seen;
    const carryOn = settled && now - last.at < this.options.sessionTimeoutMs;
    if (carryOn && this.lookInFlight !== undefined) return last.seen;
    const memberships = this.memberships;
    const looking = this.look(memberId, heartbeatMs).then((answer) => {
      if (memberships === this.memberships) {
        this.lastSeen = answer.group;
        this.lastView = { memberId, seen: answer.seen, at: now };
        this.viewFreshUntil = performance.now() + GROUP_LOOK_MS;
      }
      return answer.seen;
    });
    if (!carryOn) return looking;
    const inFlight = looking.then(
      () => undefined,
      // the next poll looks again, and is told (an expired session, say)
      () => {
        this.viewFreshUntil = 0;
      },
    );
    this.lookInFlight = inFlight;
    void inFlight.finally(() => {
      if (this.lookInFlight === inFlight) this.lookInFlight = undefined;
    });
    return (await answerWithin(looking, CARRY_ON_WAIT_MS)) ?? last.seen;
  }

  protected heartbeat(memberId: string): void {
    // the next poll finds out about any failure and rejoins
    void this.context.track(this.look(memberId, 0).catch(() => undefined));
  }

  /** The member's view of the group, after expiring whoever's session ran out. */
  private look(
    memberId: string,
    heartbeatMs: number,
  ): Promise<{ seen: MemberView; group: GroupRecord }> {
    return this.context.groups.update(this.groupId, (group) => {
      const now = this.context.clock.now();
      const expired = expire(group, now, this.counts);
      const seen = view(group, this.groupId, memberId, now, heartbeatMs);
      return { result: { seen: seen.view, group }, changed: expired || seen.touched };
    });
  }

  /** Where newly assigned partitions start: the committed offset, else auto.offset.reset. */
  protected async startPositions(list: readonly Assigned[], adopted: boolean): Promise<void> {
    const todo = list.filter((a) => a.position === undefined);
    if (todo.length === 0) return;
    const groupId = this.options.groupId;
    const record = adopted
      ? this.lastSeen
      : groupId === undefined
        ? undefined
        : await this.context.groups.get(groupId);
    for (const a of todo) {
      const committed = record?.offsets[offsetKey(a.tp)];
      a.position =
        committed !== undefined
          ? committed.offset
          : this.reset(a.tp, undefined, await this.state(a.tp));
    }
  }

  protected firstPosition(a: Assigned): number {
    throw new TopicError(
      "ILLEGAL_STATE",
      `partition: the position of ${a.tp.topic}-${a.tp.partition} is not known yet (poll first)`,
      "partition",
    );
  }

  protected async writeCommit(
    groupId: string,
    memberId: string | undefined,
    generation: number,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): Promise<void> {
    const entries = checkOffsets(offsets, this.context.catalog);
    await this.context.groups.update(groupId, (group) => {
      checkMemberCommit(group, groupId, memberId, generation, entries);
      writeOffsets(group, entries);
      return { result: undefined, changed: true };
    });
  }

  protected async readCommitted(
    groupId: string,
    partitions: readonly TopicPartition[],
  ): Promise<Array<(TopicPartition & OffsetAndMetadata) | undefined>> {
    const group = await this.context.groups.get(groupId);
    return partitions.map((tp) => {
      const c = group?.offsets[offsetKey(tp)];
      return c === undefined ? undefined : { topic: tp.topic, partition: tp.partition, ...c };
    });
  }

  protected override track(work: Promise<void>): void {
    void this.context.track(work);
  }

  // ---------------------------------------------------------------- positions

  private state(tp: TopicPartition): Promise<PartitionState> {
    const definition = this.context.catalog.get(tp.topic);
    if (definition === undefined) return Promise.reject(unknownTopic(tp.topic));
    const address = partitionAddress(this.context.namespace, definition, tp.partition);
    return this.context.watch.read(() => partitionState(this.context.jsm, address));
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

  protected async beginningOf(a: Assigned): Promise<number> {
    return (await this.state(a.tp)).logStartOffset;
  }

  protected async endOf(a: Assigned): Promise<number> {
    return (await this.state(a.tp)).highWatermark;
  }

  protected offsetForTimestampOf(a: Assigned, timestampMs: number): Promise<number> {
    const definition = this.context.catalog.get(a.tp.topic);
    if (definition === undefined) return Promise.reject(unknownTopic(a.tp.topic));
    return offsetForTimestamp(
      this.context.jsm,
      partitionAddress(this.context.namespace, definition, a.tp.partition),
      timestampMs,
    );
  }

  // ---------------------------------------------------------------- reading

  private readerOf(a: Assigned): PartitionReader {
    if (a.reader === undefined) {
      const definition = this.context.catalog.get(a.tp.topic);
      if (definition === undefined) throw unknownTopic(a.tp.topic);
      const address = partitionAddress(this.context.namespace, definition, a.tp.partition);
      a.stream = address.stream;
      a.reader = new PartitionReader(this.context.js, address, a.tp.topic, a.tp.partition);
    }
    return a.reader;
  }

  /**
   * Takes what the readers buffered. A partition whose reader has nothing is asked for its
   * stream's end: if the stream holds more than the reader brought, the poll waits for it, so a
   * poll returns what was stored before it began (as a poll of the embedded log does).
   */
  protected async fetch(): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = [];
    const entries = this.rotated().filter((a) => !a.paused && a.position !== undefined);
    if (entries.length === 0) return out;
    const max = this.options.maxPollRecords;
    const empty: Assigned[] = [];
    const takeFrom = (a: Assigned): void => {
      const records = this.readerOf(a).take(a.position!, max - out.length);
      if (records.length === 0) return;
      out.push(...records);
      a.position = records[records.length - 1]!.offset + 1;
    };
    for (const a of entries) {
      if (out.length >= max) break;
      takeFrom(a);
      if (this.readerOf(a).buffered === 0) empty.push(a);
    }
    if (out.length > 0) return out;
    const behind: Assigned[] = [];
    await Promise.all(
      empty.map(async (a) => {
        const reader = this.readerOf(a);
        // Records that come while the stream is asked (it may have no leader to answer, and
        // its reader reads on) are this poll's.
        const state = await Promise.race([
          this.stateForPoll(a),
          reader.arrival().then((): typeof ARRIVED => ARRIVED),
        ]);
        if (state === ARRIVED) return void behind.push(a);
        // No answer: this poll waits for what the reader brings; the next one asks again.
        if (state === undefined) return reader.lostTouch();
        // Only a position below the log start is reset (its records were deleted). One past
        // the high watermark waits for records instead: a stream's state read during a failover
        // can be behind what the reader already brought (seen as an empty stream), and a reset
        // then would read the whole partition again.
        if (a.position! < state.logStartOffset) a.position = this.reset(a.tp, a.position, state);
        if (state.highWatermark > a.position!) {
          reader.behind(a.position!);
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

  /**
   * The state of a partition whose reader has nothing, for a poll: a state the stream gave
   * within STATE_FRESH_MS, or any it gave when this service's acknowledged writes already show
   * records past the position (their end taken as the high watermark when it is further), else
   * the stream's answer now; undefined when none came within ANSWER_WITHIN_MS.
   */
  private async stateForPoll(a: Assigned): Promise<PartitionState | undefined> {
    const written = this.context.written.endOf(a.stream!);
    let state = a.state;
    if (state === undefined || (performance.now() >= state.freshUntil && written <= a.position!)) {
      const answer = await answerWithin(this.state(a.tp), ANSWER_WITHIN_MS);
      a.state = state =
        answer === undefined
          ? undefined
          : { value: answer, freshUntil: performance.now() + STATE_FRESH_MS };
      if (state === undefined) return undefined;
    }
    const { value } = state;
    return written > value.highWatermark ? { ...value, highWatermark: written } : value;
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

  protected async waitForRecords(deadline: number, signal: AbortSignal | undefined): Promise<void> {
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

  protected detach(): void {
    this.stopWatching();
    this.onClose(this);
  }
}
