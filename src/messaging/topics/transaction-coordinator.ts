import { SluiceError, asError } from "../../errors/index.js";
import { encodeBatch, type MarkerType } from "../../engine/index.js";
import type { Clock, Timer } from "../../time/index.js";
import type { GroupCoordinator } from "./group-coordinator.js";
import { isList } from "./input-checks.js";
import { OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from "./internal-topics.js";
import type { PartitionLog } from "./partition-log.js";
import type { OffsetAndMetadata, TopicPartition } from "./topic-admin.js";
import type { TopicBroker } from "./topic-broker.js";
import { ProducerFencedError, TopicError, invalidTopicInput } from "./topic-error.js";
import type { ConsumerGroupMetadata } from "./topic-producer.js";

/**
 * Kafka's transaction states. A transaction goes Empty -> Ongoing (a partition or a group was
 * added) -> PrepareCommit | PrepareAbort (the decision, durable before any marker) ->
 * CompleteCommit | CompleteAbort (every marker written), and the next one starts from there.
 */
export type TransactionState =
  "Empty" | "Ongoing" | "PrepareCommit" | "PrepareAbort" | "CompleteCommit" | "CompleteAbort";

/** What the coordinator stores per transactional id. */
export interface TransactionMetadata {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly timeoutMs: number;
  readonly state: TransactionState;
  /** Partitions written in the open transaction (with __consumer_offsets-0 once offsets were sent). */
  readonly partitions: readonly TopicPartition[];
  /** Consumer groups whose offsets the open transaction carries. */
  readonly groups: readonly string[];
  /** When the open transaction began: it is aborted `timeoutMs` later. */
  readonly startedAt: number;
  readonly updatedAt: number;
}

/** A transactional producer's identity, as InitProducerId returns it. */
export interface ProducerIdAndEpoch {
  readonly producerId: number;
  readonly producerEpoch: number;
}

export interface TransactionCoordinatorOptions {
  /** How often open transactions are checked against their timeout (default 1 s). */
  readonly timeoutCheckIntervalMs?: number;
}

/** Kafka's limits: transaction.max.timeout.ms defaults to 15 minutes. */
export const MAX_TRANSACTION_TIMEOUT_MS = 15 * 60 * 1000;
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000;
/** Epochs are int16; past this the id gets a new producer id at epoch 0. */
const MAX_EPOCH = 32766;

const keyOf = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

/**
 * The transaction coordinator: gives each transactional id a producer id and an epoch (a new
 * instance bumps the epoch, fencing the old one), tracks which partitions and groups a
 * transaction touched, and ends it by writing the decision durably first (PrepareCommit or
 * PrepareAbort), then a control batch (marker) to every partition, then the completion. Its state
 * lives in the compacted `__transaction_state` topic; on open, a transaction found open is
 * aborted and one found prepared is completed, so a crash leaves every transaction all in or all
 * out. Every call is also what the Kafka listener's InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn, TxnOffsetCommit and EndTxn need.
 */
export class TransactionCoordinator {
  private readonly transactions = new Map<string, TransactionMetadata>();
  private readonly byProducer = new Map<number, string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private timer: Timer | undefined;
  private closed = false;

  private constructor(
    private readonly broker: TopicBroker,
    private readonly groups: GroupCoordinator,
    private readonly log: PartitionLog,
    private readonly clock: Clock,
    private readonly checkIntervalMs: number,
  ) {}

  /** Loads the stored state, settles what a crash left open or prepared, and starts the timeout checks. */
  static async open(
    broker: TopicBroker,
    groups: GroupCoordinator,
    clock: Clock,
    options: TransactionCoordinatorOptions = {},
  ): Promise<TransactionCoordinator> {
    if (!broker.hasTopic(TRANSACTION_STATE_TOPIC))
      await broker.createTopic(
        {
          name: TRANSACTION_STATE_TOPIC,
          partitions: 1,
          cleanupPolicy: "compact",
          retentionMs: -1,
        },
        true,
      );
    const log = broker.partitionLog(TRANSACTION_STATE_TOPIC, 0);
    const coordinator = new TransactionCoordinator(
      broker,
      groups,
      log,
      clock,
      options.timeoutCheckIntervalMs ?? 1000,
    );
    coordinator.load();
    broker.setTransactionGuard((producerId, epoch, topic, partition) =>
      coordinator.checkTransactionalWrite(producerId, epoch, topic, partition),
    );
    await coordinator.recover();
    coordinator.scheduleTimeoutCheck();
    return coordinator;
  }

  private load(): void {
    for (let offset = this.log.logStartOffset; offset < this.log.highWatermark;) {
      const { records, nextOffset } = this.log.read(offset, 10_000, 4 * 1024 * 1024);
      for (const r of records) {
        const id = r.key?.toString("utf8") ?? "";
        if (r.value === null) this.forget(id);
        else this.remember(parseMetadata(r.value, r.offset));
      }
      if (nextOffset <= offset) break;
      offset = nextOffset;
    }
  }

  private remember(meta: TransactionMetadata): void {
    const previous = this.transactions.get(meta.transactionalId);
    if (previous !== undefined && previous.producerId !== meta.producerId)
      this.byProducer.delete(previous.producerId);
    this.transactions.set(meta.transactionalId, meta);
    this.byProducer.set(meta.producerId, meta.transactionalId);
  }

  private forget(transactionalId: string): void {
    const previous = this.transactions.get(transactionalId);
    if (previous !== undefined) this.byProducer.delete(previous.producerId);
    this.transactions.delete(transactionalId);
  }

  /** After a crash: abort what was open, finish what was decided, close strays. */
  private async recover(): Promise<void> {
    for (const meta of [...this.transactions.values()]) {
      if (meta.state === "Ongoing") await this.abortOpen(meta);
      else if (meta.state === "PrepareCommit" || meta.state === "PrepareAbort")
        await this.complete(meta);
    }
    // A transactional batch no stored transaction owns (its state write never became durable):
    // nobody will close it, so abort it here rather than hold back the last stable offset.
    for (const topic of this.broker.listTopics(true))
      for (let p = 0; p < (this.broker.partitionCount(topic) ?? 0); p++) {
        const log = this.broker.partitionLog(topic, p);
        for (const producerId of log.openTransactions())
          await log.appendMarker(producerId, log.producerEpochOf(producerId), "abort");
      }
  }

  /** Runs `work` after every earlier call for the same transactional id. */
  private serialize<T>(transactionalId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(transactionalId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.locks.set(transactionalId, settled);
    void settled.then(() => {
      if (this.locks.get(transactionalId) === settled) this.locks.delete(transactionalId);
    });
    return next;
  }

  // ---------------------------------------------------------------- the calls

  /**
   * Kafka's InitProducerId for a transactional id: a new producer id the first time, else the
   * same id with the next epoch (fencing every older instance). A transaction the previous
   * instance left open is aborted first; one it left prepared is completed first.
   */
  initProducerId(
    transactionalId: string,
    transactionTimeoutMs = DEFAULT_TRANSACTION_TIMEOUT_MS,
  ): Promise<ProducerIdAndEpoch> {
    try {
      this.checkInitArguments(transactionalId, transactionTimeoutMs);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return this.serialize(transactionalId, async () => {
      let meta = this.transactions.get(transactionalId);
      if (meta?.state === "Ongoing") meta = await this.abortOpen(meta);
      else if (meta?.state === "PrepareCommit" || meta?.state === "PrepareAbort")
        meta = await this.complete(meta);
      let producerId: number;
      let producerEpoch: number;
      if (meta === undefined || meta.producerEpoch >= MAX_EPOCH) {
        producerId = await this.broker.allocateProducerId();
        producerEpoch = 0;
      } else {
        producerId = meta.producerId;
        producerEpoch = meta.producerEpoch + 1;
      }
      const now = this.clock.now();
      await this.store({
        transactionalId,
        producerId,
        producerEpoch,
        timeoutMs: transactionTimeoutMs,
        state: "Empty",
        partitions: [],
        groups: [],
        startedAt: now,
        updatedAt: now,
      });
      return { producerId, producerEpoch };
    });
  }

  /**
   * What Kafka's coordinator does when InitProducerId finds the id's transaction still open:
   * start aborting it (under the next epoch, fencing its producer) and answer at once, so the
   * client retries (CONCURRENT_TRANSACTIONS) instead of holding its request for the markers.
   * Returns false, starting nothing, when no transaction of the id is open; the arguments are
   * checked as `initProducerId` checks them, so a call that will fail aborts nothing.
   */
  startAbortForInit(transactionalId: string, transactionTimeoutMs: number): boolean {
    this.checkInitArguments(transactionalId, transactionTimeoutMs);
    if (this.transactions.get(transactionalId)?.state !== "Ongoing") return false;
    // A retry that comes before the abort has stored its decision queues a second call, which
    // finds nothing open any more.
    void this.serialize(transactionalId, async () => {
      const open = this.transactions.get(transactionalId);
      if (open?.state === "Ongoing") await this.abortOpen(open);
    }).catch(() => undefined); // a failed abort stays prepared: the next InitProducerId completes it
    return true;
  }

  private checkInitArguments(transactionalId: string, transactionTimeoutMs: number): void {
    this.ensureOpen();
    checkTransactionalId(transactionalId);
    if (
      !Number.isSafeInteger(transactionTimeoutMs) ||
      transactionTimeoutMs < 1 ||
      transactionTimeoutMs > MAX_TRANSACTION_TIMEOUT_MS
    )
      throw invalidTopicInput(
        "transactionTimeoutMs",
        `an integer from 1 to ${MAX_TRANSACTION_TIMEOUT_MS}`,
        transactionTimeoutMs,
        "INVALID_TRANSACTION_TIMEOUT",
      );
  }

  /** Kafka's AddPartitionsToTxn: the producer may write to these partitions in its transaction. */
  addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
  ): Promise<void> {
    return this.serialize(transactionalId, async () => {
      const meta = this.current(transactionalId, producerId, producerEpoch);
      if (!isList(partitions))
        throw invalidTopicInput("partitions", "an array of { topic, partition }", partitions);
      const wanted = partitions.map((tp, i) => {
        const log = this.broker.partitionLog(tp?.topic, tp?.partition, `partitions[${i}]`);
        return { topic: log.topic, partition: log.partition };
      });
      await this.extend(meta, wanted, []);
    });
  }

  /** Kafka's AddOffsetsToTxn: the transaction will carry offsets of this group. */
  addOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
  ): Promise<void> {
    return this.serialize(transactionalId, async () => {
      const meta = this.current(transactionalId, producerId, producerEpoch);
      if (typeof groupId !== "string" || groupId.length === 0)
        throw invalidTopicInput("groupId", "a non-empty string", groupId, "INVALID_GROUP_ID");
      await this.extend(meta, [{ topic: OFFSETS_TOPIC, partition: 0 }], [groupId]);
    });
  }

  /**
   * Kafka's TxnOffsetCommit: checks the offsets as a consumer's commit is checked (member,
   * generation, ownership) and writes them into the transaction: they count only if it commits.
   * A member id of "" skips the member checks, as Kafka does (consumers using `assign`, and
   * Kafka clients older than KIP-447, which send no member id).
   */
  commitOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    group: ConsumerGroupMetadata,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): Promise<void> {
    return this.serialize(transactionalId, async () => {
      const meta = this.current(transactionalId, producerId, producerEpoch);
      if (group === null || typeof group !== "object")
        throw invalidTopicInput("group", "{ groupId, generationId, memberId }", group);
      if (meta.state !== "Ongoing" || !meta.groups.includes(group.groupId))
        throw new TopicError(
          "INVALID_TXN_STATE",
          `group.groupId: group ${JSON.stringify(group.groupId)} was not added to the transaction of ${transactionalId} (addOffsets first)`,
          "group.groupId",
        );
      const memberId =
        typeof group.memberId === "string" && group.memberId !== "" ? group.memberId : undefined;
      const entries =
        memberId === undefined
          ? this.groups.checkOffsets(offsets)
          : this.groups.checkCommit(group.groupId, memberId, group.generationId, offsets);
      await this.groups.offsets.commitTransactional(
        producerId,
        producerEpoch,
        group.groupId,
        entries,
      );
    });
  }

  /**
   * Kafka's EndTxn: commits or aborts the open transaction. Resolves once every partition has
   * its marker, so a read_committed consumer sees all of it or none of it. Repeating the same
   * call after it succeeded succeeds again (a retry).
   */
  endTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
  ): Promise<void> {
    return this.serialize(transactionalId, async () => {
      const meta = this.current(transactionalId, producerId, producerEpoch);
      const done = commit ? "CompleteCommit" : "CompleteAbort";
      if (meta.state === done) return;
      if (meta.state !== "Ongoing")
        throw new TopicError(
          "INVALID_TXN_STATE",
          `transactionalId: ${transactionalId} has no open transaction to ${commit ? "commit" : "abort"} (state ${meta.state})`,
          "transactionalId",
          { state: meta.state },
        );
      const prepared = await this.store({
        ...meta,
        state: commit ? "PrepareCommit" : "PrepareAbort",
        updatedAt: this.clock.now(),
      });
      await this.complete(prepared);
    });
  }

  /**
   * Whether this id's transaction is being completed at this moment: its commit or abort is
   * decided and a call is writing the markers. (A prepared transaction nobody is completing,
   * after a failed marker write, is not: the id's next call completes it.)
   */
  isCompleting(transactionalId: string): boolean {
    const state = this.transactions.get(transactionalId)?.state;
    return (
      this.locks.has(transactionalId) && (state === "PrepareCommit" || state === "PrepareAbort")
    );
  }

  /** The stored state of a transactional id (for tools), or undefined. */
  describe(transactionalId: string): TransactionMetadata | undefined {
    return this.transactions.get(transactionalId);
  }

  list(): TransactionMetadata[] {
    return [...this.transactions.values()].sort((a, b) =>
      a.transactionalId < b.transactionalId ? -1 : 1,
    );
  }

  /**
   * The partitions' check on a transactional batch: the producer's current epoch, with this
   * partition added to its open transaction.
   */
  checkTransactionalWrite(
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): void {
    const id = this.byProducer.get(producerId);
    const meta = id === undefined ? undefined : this.transactions.get(id);
    if (meta === undefined)
      throw new TopicError(
        "INVALID_TXN_STATE",
        `batch.producerId: producer ${producerId} has no transaction`,
        "batch.producerId",
      );
    if (producerEpoch < meta.producerEpoch)
      throw fenced(meta.transactionalId, producerEpoch, meta.producerEpoch);
    const tp = keyOf({ topic, partition });
    if (
      producerEpoch !== meta.producerEpoch ||
      meta.state !== "Ongoing" ||
      !meta.partitions.some((p) => keyOf(p) === tp)
    )
      throw new TopicError(
        "INVALID_TXN_STATE",
        `batch: partition ${topic}-${partition} is not in an open transaction of ${meta.transactionalId} (add it first)`,
        "batch",
      );
  }

  /** Aborts every open transaction past its timeout, bumping the epoch (the producer is fenced). */
  async abortTimedOut(): Promise<number> {
    const now = this.clock.now();
    let aborted = 0;
    for (const meta of [...this.transactions.values()]) {
      if (meta.state !== "Ongoing" || now - meta.startedAt < meta.timeoutMs) continue;
      await this.serialize(meta.transactionalId, async () => {
        const latest = this.transactions.get(meta.transactionalId);
        if (latest?.state !== "Ongoing" || latest.producerEpoch !== meta.producerEpoch) return;
        await this.abortOpen(latest);
        aborted++;
      });
    }
    return aborted;
  }

  // ---------------------------------------------------------------- the machinery

  /** The stored transaction if the producer is its current instance; else the fencing error. */
  private current(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
  ): TransactionMetadata {
    this.ensureOpen();
    checkTransactionalId(transactionalId);
    const meta = this.transactions.get(transactionalId);
    if (meta === undefined)
      throw new TopicError(
        "TRANSACTIONAL_ID_NOT_FOUND",
        `transactionalId: ${JSON.stringify(transactionalId)} was never initialised (initProducerId first)`,
        "transactionalId",
      );
    if (producerId !== meta.producerId || producerEpoch < meta.producerEpoch)
      throw fenced(transactionalId, producerEpoch, meta.producerEpoch);
    if (producerEpoch > meta.producerEpoch)
      throw new TopicError(
        "INVALID_PRODUCER_EPOCH",
        `producerEpoch: ${transactionalId} is at epoch ${meta.producerEpoch}, got ${producerEpoch}`,
        "producerEpoch",
      );
    if (meta.state === "PrepareCommit" || meta.state === "PrepareAbort")
      throw new TopicError(
        "INVALID_TXN_STATE",
        `transactionalId: ${transactionalId} is ending its transaction`,
        "transactionalId",
      );
    return meta;
  }

  private async extend(
    meta: TransactionMetadata,
    partitions: readonly TopicPartition[],
    groups: readonly string[],
  ): Promise<void> {
    const known = new Set(meta.state === "Ongoing" ? meta.partitions.map(keyOf) : []);
    const knownGroups = new Set(meta.state === "Ongoing" ? meta.groups : []);
    const newPartitions = partitions.filter((tp) => !known.has(keyOf(tp)));
    const newGroups = groups.filter((g) => !knownGroups.has(g));
    if (meta.state === "Ongoing" && newPartitions.length === 0 && newGroups.length === 0) return;
    const now = this.clock.now();
    const ongoing = meta.state === "Ongoing";
    // Durable before the producer writes: recovery must know every partition to close.
    await this.store({
      ...meta,
      state: "Ongoing",
      partitions: [...(ongoing ? meta.partitions : []), ...newPartitions],
      groups: [...(ongoing ? meta.groups : []), ...newGroups],
      startedAt: ongoing ? meta.startedAt : now,
      updatedAt: now,
    });
  }

  /** Aborts an open transaction under the next epoch, so its producer is fenced everywhere. */
  private async abortOpen(meta: TransactionMetadata): Promise<TransactionMetadata> {
    const bumped = meta.producerEpoch < MAX_EPOCH + 1 ? meta.producerEpoch + 1 : meta.producerEpoch;
    const prepared = await this.store({
      ...meta,
      producerEpoch: bumped,
      state: "PrepareAbort",
      updatedAt: this.clock.now(),
    });
    return this.complete(prepared);
  }

  /** Writes the markers of a prepared transaction, then its completion. */
  private async complete(meta: TransactionMetadata): Promise<TransactionMetadata> {
    const type: MarkerType = meta.state === "PrepareCommit" ? "commit" : "abort";
    const touched: PartitionLog[] = [];
    await Promise.all(
      meta.partitions.map(async (tp) => {
        if (this.broker.partitionCount(tp.topic) === undefined) return; // deleted since
        const log = this.broker.partitionLog(tp.topic, tp.partition);
        touched.push(log);
        if (tp.topic === OFFSETS_TOPIC)
          await this.groups.offsets.endTransaction(meta.producerId, meta.producerEpoch, type);
        else await log.appendMarker(meta.producerId, meta.producerEpoch, type);
      }),
    );
    if (this.needsFlush()) await Promise.all(touched.map((log) => log.flush()));
    return this.store(
      {
        ...meta,
        state: type === "commit" ? "CompleteCommit" : "CompleteAbort",
        partitions: [],
        groups: [],
        updatedAt: this.clock.now(),
      },
      false,
    );
  }

  /** Writes the state of one transactional id; durable on return unless `durable` is false. */
  private async store(meta: TransactionMetadata, durable = true): Promise<TransactionMetadata> {
    const batch = encodeBatch(
      [
        {
          key: Buffer.from(meta.transactionalId, "utf8"),
          value: Buffer.from(JSON.stringify(meta)),
        },
      ],
      { baseOffset: 0, defaultTimestamp: this.clock.now() },
    );
    await this.log.append(batch, false);
    if (durable && this.needsFlush()) await this.log.flush();
    this.remember(meta);
    return meta;
  }

  /** Under fsync "always" every append is durable already; under "never" nothing is asked to be. */
  private needsFlush(): boolean {
    const fsync = this.broker.fsync;
    return fsync !== "always" && fsync !== "never";
  }

  private scheduleTimeoutCheck(): void {
    if (this.closed) return;
    this.timer = this.clock.setTimer(this.checkIntervalMs, () => {
      this.timer = undefined;
      void this.abortTimedOut()
        .catch(() => undefined)
        .finally(() => this.scheduleTimeoutCheck());
    });
  }

  private ensureOpen(): void {
    if (this.closed) throw TopicError.serviceClosed();
  }

  /** Stops the timeout checks; waits for calls in progress. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.broker.setTransactionGuard(undefined);
    await Promise.all([...this.locks.values()]);
  }

  /** Stops at once, as a killed process would. */
  kill(): void {
    this.closed = true;
    this.timer?.cancel();
  }
}

function checkTransactionalId(id: unknown): asserts id is string {
  if (typeof id !== "string" || id.length === 0 || id.length > 249)
    throw invalidTopicInput("transactionalId", "a string of 1 to 249 characters", id);
}

function fenced(transactionalId: string, got: number, current: number): ProducerFencedError {
  return new ProducerFencedError(
    `producerEpoch: ${transactionalId} is at epoch ${current}; this producer (epoch ${got}) was fenced by a newer instance or by its transaction's timeout`,
    { transactionalId, producerEpoch: got, currentEpoch: current },
  );
}

const STATES: readonly string[] = [
  "Empty",
  "Ongoing",
  "PrepareCommit",
  "PrepareAbort",
  "CompleteCommit",
  "CompleteAbort",
];

function parseMetadata(value: Buffer, offset: number): TransactionMetadata {
  try {
    const parsed = JSON.parse(value.toString("utf8")) as Partial<TransactionMetadata>;
    if (
      typeof parsed.transactionalId === "string" &&
      Number.isSafeInteger(parsed.producerId) &&
      Number.isSafeInteger(parsed.producerEpoch) &&
      typeof parsed.state === "string" &&
      STATES.includes(parsed.state) &&
      Array.isArray(parsed.partitions) &&
      Array.isArray(parsed.groups)
    )
      return parsed as TransactionMetadata;
  } catch {
    // reported below
  }
  throw new SluiceError(
    "SLUICE_CORRUPT",
    `transaction state record at offset ${offset} of ${TRANSACTION_STATE_TOPIC} is not valid`,
  );
}
