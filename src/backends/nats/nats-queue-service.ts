import { randomBytes, randomUUID } from "node:crypto";
import { checkRedrivePolicy } from "../../messaging/queues/redrive-check.js";
import { type JetStreamClient, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { jetstream } from "@nats-io/jetstream";
import { type NatsConnection, connect } from "@nats-io/transport-node";
import type { PreparedSend, QueueDefinition } from "../../messaging/queues/durable-queue.js";
import { MAX_MOVE_RATE } from "../../messaging/queues/message-move-task.js";
import {
  checkBatchEntries,
  checkId,
  checkIntParameter,
} from "../../messaging/queues/message-validation.js";
import { fromJsonMeta } from "../../messaging/queues/message-record.js";
import { REQUEST_FIELDS, entryFields } from "../../messaging/queues/entry-fields.js";
import { prepareSend, sendResult } from "../../messaging/queues/prepared-send.js";
import {
  MAX_MESSAGE_SIZE,
  MAX_VISIBILITY_TIMEOUT_S,
  checkTags,
  defaultAttributes,
  mergeAttributes,
} from "../../messaging/queues/queue-attributes.js";
import {
  type QueueAddressing,
  QueueAddresses,
  checkQueueName,
  isFifoName,
} from "../../messaging/queues/queue-address.js";
import { QueueError, invalidParameter } from "../../messaging/queues/queue-error.js";
import { checkRequest, existingQueueName } from "../../messaging/queues/request-checks.js";
import type {
  BatchResult,
  BatchResultErrorEntry,
  ChangeMessageVisibilityBatchInput,
  ChangeMessageVisibilityInput,
  CreateQueueInput,
  DeleteMessageBatchInput,
  DeleteMessageInput,
  MessageMoveTask as MoveTaskView,
  PeekMessagesInput,
  PeekedMessage,
  QueueAttributeName,
  QueueAttributes,
  QueueService,
  ReceiveMessageInput,
  ReceiveMessageResult,
  SendMessageBatchInput,
  SendMessageBatchResultEntry,
  SendMessageInput,
  SendMessageResult,
  StartMessageMoveTaskInput,
} from "../../messaging/queues/queue-service.js";
import { ReceiptHandles } from "../../messaging/queues/receipt-handle.js";
import {
  buildMessage,
  buildPeekedMessage,
  parseSequenceNumber,
  projectionOf,
} from "../../messaging/queues/received-message.js";
import { type Clock, systemClock } from "../../time/index.js";
import { NatsCatalog, type CatalogChange, type StoredMoveTask } from "./nats-catalog.js";
import { checkNamespace, parseServers, wholeNumberOption } from "./nats-connection.js";
export { parseServers } from "./nats-connection.js";
import { NatsMoveTask, transferHeld } from "./nats-move-task.js";
import { PipelinedPublisher } from "./pipelined-publisher.js";
import { ReconnectWatch } from "./reconnect-watch.js";
import { NatsQueue, type ReceiptRef, streamAddress } from "./nats-queue.js";
import { QueueStream } from "./queue-stream.js";
import { queuedView } from "./queued-view.js";
import { type HeldMessage, INFLIGHT } from "./replicated-queue.js";
import { DEFAULT_HELD_PAYLOAD_BYTES, PayloadBudget } from "./payload-budget.js";
import { promiseOf } from "../../messaging/queues/promise-of.js";
import { PerKeySerializer } from "../../messaging/per-key-serializer.js";
import type { AttributeEditing } from "../../messaging/queues/attribute-editing.js";
import {
  type AttributeValues,
  pickAttributes,
  requestedAttributeNames,
} from "../../messaging/queues/attribute-request.js";
import { listQueuesPage } from "../../messaging/queues/list-queues-page.js";

export interface NatsQueueServiceOptions extends QueueAddressing {
  /** NATS servers, e.g. "nats://a:4222,b:4222,c:4222" or a list; ignored with `connection`. */
  readonly servers?: string | readonly string[];
  /** An open connection to use instead (the service then leaves it open on close). */
  readonly connection?: NatsConnection;
  readonly clock?: Clock;
  /** Copies JetStream keeps of every queue stream and of the catalog: 1, 3 or 5 (default 1). */
  readonly replicas?: number;
  /** Prefix of every stream and bucket name, so several services can share servers (default "SLUICE"). */
  readonly namespace?: string;
  /** The key-value bucket of queue definitions and move tasks (default "<namespace>_catalog"). */
  readonly catalogBucket?: string;
  /** How often each queue's stream drops entries replay no longer needs (default 60 s). */
  readonly compactionIntervalMs?: number;
  /**
   * Bytes of message bodies and attributes this process keeps in memory across its queues
   * (default 64 MiB); past them, messages are held without their payload, read back from the
   * stream when received, peeked at or moved.
   */
  readonly heldPayloadBytes?: number;
}

const PURGE_INTERVAL_MS = 60_000;
/** A 1 MiB message with its attributes in base64 JSON, and the entry's headers. */
const MAX_ENTRY_BYTES = 2 * MAX_MESSAGE_SIZE;

/**
 * SQS-semantics queues on NATS JetStream, shared by any number of processes. Each queue is one
 * replicated stream holding its messages and every change to them; each process replays it
 * into the same state and keeps following it. Writes are entries whose outcome is decided when
 * they are applied, in stream order, so two processes never take the same message; time
 * (visibility, delays, retention, deduplication) comes from the writers' clock. Queue
 * definitions and move tasks live in a replicated key-value bucket.
 */
export class NatsQueueService implements QueueService, AttributeEditing {
  private readonly queues = new Map<string, NatsQueue>();
  private readonly moveTasks = new Map<string, NatsMoveTask>();
  /** Task records whose source queue is not open here yet (placed when it opens). */
  private readonly unplacedTasks = new Map<string, StoredMoveTask>();
  private readonly creating = new Map<string, Promise<unknown>>();
  /** The latest catalog change made or heard here per queue name (no definition: deleted). */
  private readonly catalogChanges = new Map<
    string,
    { readonly revision: number; readonly definition?: QueueDefinition }
  >();
  private readonly definitionEdits = new PerKeySerializer();
  /** Identifies this process's entries in the streams (their outcome is waited for here). */
  private readonly writer = randomBytes(8).toString("hex");
  /** Every queue's entries go out through it, their acks pipelined under one inbox. */
  private readonly publisher: PipelinedPublisher;
  /** The connection's reconnects, heard once for every queue's stream. */
  private readonly watch: ReconnectWatch;
  private closed = false;
  /** The message payloads this process holds for all its queues. */
  private readonly payloadBudget: PayloadBudget;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly catalog: NatsCatalog,
    private readonly options: NatsQueueServiceOptions,
    private readonly clock: Clock,
    readonly addresses: QueueAddresses,
    private readonly receipts: ReceiptHandles,
    heldPayloadBytes: number,
  ) {
    this.publisher = new PipelinedPublisher(nc);
    this.watch = new ReconnectWatch(nc);
    this.payloadBudget = new PayloadBudget(heldPayloadBytes);
  }

  /** Connects and opens every queue of the namespace, replaying their streams. */
  static async open(options: NatsQueueServiceOptions = {}): Promise<NatsQueueService> {
    const heldPayloadBytes = wholeNumberOption(
      options.heldPayloadBytes,
      "heldPayloadBytes",
      DEFAULT_HELD_PAYLOAD_BYTES,
    );
    const clock = options.clock ?? systemClock;
    const ownsConnection = options.connection === undefined;
    const nc =
      options.connection ??
      (await connect({
        servers: parseServers(options.servers ?? "nats://127.0.0.1:4222"),
        maxReconnectAttempts: -1,
      }));
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const namespace = checkNamespace(options.namespace ?? "SLUICE");
      const { catalog, definitions, tasks, receiptKey } = await NatsCatalog.open(
        nc,
        options.catalogBucket ?? `${namespace}_catalog`,
        namespace,
        options.replicas ?? 1,
      );
      const service = new NatsQueueService(
        nc,
        ownsConnection,
        js,
        jsm,
        catalog,
        options,
        clock,
        new QueueAddresses(options),
        new ReceiptHandles(receiptKey),
        heldPayloadBytes,
      );
      try {
        for (const definition of definitions)
          service.queues.set(definition.name, await service.openQueue(definition));
        await service.restoreMoveTasks(tasks);
        await catalog.watch((change) => service.onCatalogChange(change));
      } catch (error) {
        await service.close();
        throw error;
      }
      return service;
    } catch (error) {
      if (ownsConnection) await nc.close();
      throw error;
    }
  }

  private get namespace(): string {
    return this.options.namespace ?? "SLUICE";
  }

  private openQueue(definition: QueueDefinition): Promise<NatsQueue> {
    return NatsQueue.open(
      this.nc,
      this.watch,
      this.publisher,
      this.jsm,
      streamAddress(this.namespace, definition),
      definition,
      this.clock,
      this.writer,
      this.options.compactionIntervalMs ?? 60_000,
      this.payloadBudget,
    );
  }

  /** Another process created, changed or deleted a queue or a move task: follow it here. */
  private onCatalogChange(change: CatalogChange): void {
    if (this.closed) return;
    if (change.kind === "task") {
      this.onTaskChange(change.handle, change.stored);
      return;
    }
    if (this.noteChange(change.name, change.revision, change.definition)) this.settle(change.name);
  }

  /**
   * Records a change of queue `name` made or heard here; false when a newer one was recorded
   * already. The watch can bring a change after a newer one this process made itself (an edit's
   * echo after its own delete) or heard while opening the queue.
   */
  private noteChange(name: string, revision: number, definition?: QueueDefinition): boolean {
    const known = this.catalogChanges.get(name);
    if (known !== undefined && known.revision >= revision) return false;
    this.catalogChanges.set(
      name,
      definition === undefined ? { revision } : { revision, definition },
    );
    return true;
  }

  /**
   * Brings this process's queue `name` in line with the latest change recorded: closes it once
   * deleted, takes a new definition, or opens the queue (another incarnation, or one another
   * process created). A change that comes while the queue opens is settled when it has opened.
   */
  private settle(name: string): void {
    const latest = this.catalogChanges.get(name);
    if (this.closed || latest === undefined || this.creating.has(name)) return;
    const local = this.queues.get(name);
    if (latest.definition === undefined) {
      if (local === undefined) return;
      this.queues.delete(name);
      void local.close().catch(() => undefined);
      return;
    }
    if (local?.uid === latest.definition.uid) {
      local.redefine(latest.definition, latest.revision);
      return;
    }
    const definition = latest.definition;
    const opening = this.openQueue(definition).then(
      (queue) => {
        const replaced = this.queues.get(name);
        // Deleted, or another incarnation made, while it opened: settled below, not shown.
        if (this.closed || this.catalogChanges.get(name)?.definition?.uid !== definition.uid)
          return queue.close();
        this.queues.set(name, queue);
        this.placeUnplacedTasks();
        if (replaced !== undefined && replaced !== queue) return replaced.close();
      },
      () => undefined, // deleted again before it opened
    );
    this.creating.set(name, opening);
    void opening.finally(() => {
      this.creating.delete(name);
      // Only for what came meanwhile: a queue that failed to open is not tried again at once.
      if (this.catalogChanges.get(name) !== latest) this.settle(name);
    });
  }

  // ---------------------------------------------------------------- queues

  async createQueue(input: CreateQueueInput): Promise<{ QueueUrl: string }> {
    this.ensureOpen();
    const name = checkQueueName(input?.QueueName);
    for (
      let pending = this.creating.get(name);
      pending !== undefined;
      pending = this.creating.get(name)
    )
      await pending.catch(() => undefined);
    const fifo = isFifoName(name);
    const requested = input.Attributes ?? {};
    if (fifo !== (requested.FifoQueue === "true"))
      throw invalidParameter(
        "Attributes.FifoQueue",
        fifo
          ? `"true" for a queue whose name ends in .fifo`
          : `a name ending in .fifo for a FIFO queue`,
      );
    const attributes = mergeAttributes(defaultAttributes(fifo), requested, fifo, true);
    if (!fifo) delete attributes.FifoQueue;
    const tags = checkTags(input.tags ?? {}, {});
    const existing = this.queues.get(name);
    if (existing !== undefined) return this.sameQueue(existing.definition, requested, attributes);
    this.checkRedrive(name, attributes);
    const nowS = Math.floor(this.clock.now() / 1000);
    const definition: QueueDefinition = {
      name,
      uid: randomBytes(8).toString("hex"),
      attributes,
      tags,
      createdTimestamp: nowS,
      lastModifiedTimestamp: nowS,
    };
    let result: { QueueUrl: string } | undefined;
    const creation = (async () => {
      const address = streamAddress(this.namespace, definition);
      await QueueStream.create(this.jsm, address, {
        replicas: this.options.replicas ?? 1,
        maxEntryBytes: MAX_ENTRY_BYTES,
      });
      const { definition: stored, revision } = await this.catalog.create(definition);
      this.noteChange(name, revision, stored);
      if (stored.uid !== definition.uid) {
        // Another process created it first: theirs is the queue.
        await QueueStream.remove(this.jsm, address);
        const queue = this.queues.get(name) ?? (await this.openQueue(stored));
        this.queues.set(name, queue);
        result = this.sameQueue(stored, requested, attributes);
        return;
      }
      this.queues.set(name, await this.openQueue(definition));
    })();
    this.creating.set(name, creation);
    try {
      await creation;
    } finally {
      this.creating.delete(name);
      this.settle(name); // with what the watch brought meanwhile
    }
    return result ?? { QueueUrl: this.addresses.url(name) };
  }

  /** Create-if-missing works as with SQS: only the attributes given must match. */
  private sameQueue(
    current: QueueDefinition,
    requested: QueueAttributes,
    attributes: Readonly<Record<string, string>>,
  ): { QueueUrl: string } {
    if (Object.keys(requested).some((key) => current.attributes[key] !== attributes[key]))
      throw new QueueError(
        "QueueNameExists",
        `QueueName: ${current.name} exists with different attributes`,
        "QueueName",
      );
    return { QueueUrl: this.addresses.url(current.name) };
  }

  async deleteQueue(input: { QueueUrl: string }): Promise<void> {
    const queue = this.queueOf(input?.QueueUrl);
    this.queues.delete(queue.name);
    for (const task of [...this.moveTasks.values()])
      if (task.sourceArn === this.arnOf(queue)) {
        task.stop();
        this.moveTasks.delete(task.handle);
        await task.done;
        await this.catalog.removeTask(task.handle);
      }
    await this.catalog.removeSource(queue.uid);
    const deleted = await this.catalog.remove(queue.name);
    if (deleted !== undefined) this.noteChange(queue.name, deleted);
    await queue.close();
    await QueueStream.remove(this.jsm, streamAddress(this.namespace, queue.definition));
  }

  listQueues(
    request: { QueueNamePrefix?: string; MaxResults?: number; NextToken?: string } | null = {},
  ): Promise<{ QueueUrls: string[]; NextToken?: string }> {
    return promiseOf(() => {
      this.ensureOpen();
      return listQueuesPage(this.queues.keys(), request, (name) => this.addresses.url(name));
    });
  }

  getQueueUrl(input: { QueueName: string }): Promise<{ QueueUrl: string }> {
    return promiseOf(() => {
      this.ensureOpen();
      const name = existingQueueName(input?.QueueName, (n) => this.queues.has(n));
      return { QueueUrl: this.addresses.url(name) };
    });
  }

  async getQueueAttributes(input: {
    QueueUrl: string;
    AttributeNames?: readonly (QueueAttributeName | "All")[];
  }): Promise<{ Attributes: Partial<Record<QueueAttributeName, string>> }> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    const requested = requestedAttributeNames(input.AttributeNames);
    await this.tasksSettled();
    await queue.caughtUp();
    queue.advance();
    const counts = queue.state.counts(this.clock.now());
    const all: AttributeValues = {
      ...(queue.definition.attributes as Partial<Record<QueueAttributeName, string>>),
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inflight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(queue.definition.createdTimestamp),
      LastModifiedTimestamp: String(queue.definition.lastModifiedTimestamp),
      QueueArn: this.arnOf(queue),
    };
    return pickAttributes(all, requested);
  }

  async setQueueAttributes(input: {
    QueueUrl: string;
    Attributes: QueueAttributes;
  }): Promise<void> {
    checkRequest(input);
    if (input.Attributes == null) {
      this.queueOf(input.QueueUrl);
      throw new QueueError("MissingParameter", "Attributes: required", "Attributes");
    }
    await this.editQueueAttributes(input.QueueUrl, () => input.Attributes);
  }

  /**
   * See `AttributeEditing`: `change` runs on the attributes as the catalog has them now, from
   * whichever process wrote them last, and runs again if another write comes between.
   */
  async editQueueAttributes(
    queueUrl: string,
    change: (current: Readonly<Record<string, string>>) => QueueAttributes,
  ): Promise<void> {
    const queue = this.queueOf(queueUrl);
    const { before, after } = await this.updateDefinition(queue, (current) => {
      const attributes = mergeAttributes(
        current.attributes,
        change(current.attributes),
        queue.config.fifo,
        false,
      );
      this.checkRedrive(queue.name, attributes);
      return { attributes };
    });
    // On FIFO queues (only) a new DelaySeconds applies to the messages already queued.
    if (queue.config.fifo && after.attributes.DelaySeconds !== before.attributes.DelaySeconds)
      await queue.redelay(queue.config.delaySeconds * 1000);
  }

  async tagQueue(input: {
    QueueUrl: string;
    Tags: Readonly<Record<string, string>>;
  }): Promise<void> {
    const queue = this.queueOf(input?.QueueUrl);
    await this.updateDefinition(queue, (current) => ({
      tags: checkTags(input.Tags, current.tags),
    }));
  }

  async untagQueue(input: { QueueUrl: string; TagKeys: readonly string[] }): Promise<void> {
    const queue = this.queueOf(input?.QueueUrl);
    const keys: unknown = input.TagKeys;
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string"))
      throw invalidParameter("TagKeys", "an array of tag keys");
    await this.updateDefinition(queue, (current) => {
      const tags = { ...current.tags };
      for (const key of keys as string[]) delete tags[key];
      return { tags };
    });
  }

  listQueueTags(input: { QueueUrl: string }): Promise<{ Tags: Record<string, string> }> {
    return promiseOf(() => {
      const queue = this.queueOf(input?.QueueUrl);
      return { Tags: { ...queue.definition.tags } };
    });
  }

  async purgeQueue(input: { QueueUrl: string }): Promise<void> {
    const queue = this.queueOf(input?.QueueUrl);
    await queue.caughtUp();
    if (this.clock.now() - queue.state.lastPurgeAt < PURGE_INTERVAL_MS)
      throw new QueueError(
        "PurgeQueueInProgress",
        `QueueUrl: ${queue.name} was purged less than 60 seconds ago`,
        "QueueUrl",
      );
    await queue.purge();
  }

  listDeadLetterSourceQueues(input: { QueueUrl: string }): Promise<{ queueUrls: string[] }> {
    return promiseOf(() => {
      const queue = this.queueOf(input?.QueueUrl);
      const arn = this.arnOf(queue);
      const sources = [...this.queues.values()]
        .filter((q) => q.config.redrivePolicy?.deadLetterTargetArn === arn)
        .map((q) => this.addresses.url(q.name))
        .sort();
      return { queueUrls: sources };
    });
  }

  // ---------------------------------------------------------------- send

  async sendMessage(input: SendMessageInput): Promise<SendMessageResult> {
    const queue = this.queueOf(input?.QueueUrl);
    const prepared = prepareSend(queue.config, input, REQUEST_FIELDS);
    const [outcome] = await queue.send([prepared]);
    return sendResult(queue.config.fifo, prepared, outcome!);
  }

  async sendMessageBatch(
    input: SendMessageBatchInput,
  ): Promise<BatchResult<SendMessageBatchResultEntry>> {
    const queue = this.queueOf(input?.QueueUrl);
    const entries = checkBatchEntries(input.Entries) as SendMessageBatchInput["Entries"];
    let total = 0;
    for (const e of entries) {
      if (typeof e.MessageBody === "string") total += Buffer.byteLength(e.MessageBody, "utf8");
      for (const [name, v] of Object.entries(e.MessageAttributes ?? {}))
        total += name.length + (v?.StringValue?.length ?? 0) + (v?.BinaryValue?.length ?? 0);
    }
    if (total > MAX_MESSAGE_SIZE)
      throw new QueueError(
        "BatchRequestTooLong",
        `Entries: the batch carries ${total} bytes, more than ${MAX_MESSAGE_SIZE}`,
        "Entries",
      );
    const failed: BatchResultErrorEntry[] = [];
    const accepted: { id: string; send: PreparedSend }[] = [];
    entries.forEach((entry, i) => {
      try {
        accepted.push({ id: entry.Id, send: prepareSend(queue.config, entry, entryFields(i)) });
      } catch (error) {
        failed.push(failure(entry.Id, error));
      }
    });
    const outcomes = await queue.send(accepted.map((a) => a.send));
    return {
      Successful: accepted.map((a, i) => ({
        Id: a.id,
        ...sendResult(queue.config.fifo, a.send, outcomes[i]!),
      })),
      Failed: failed,
    };
  }

  // ---------------------------------------------------------------- receive

  async receiveMessage(input: ReceiveMessageInput): Promise<ReceiveMessageResult> {
    let queue = this.queueOf(input?.QueueUrl);
    const max = checkIntParameter(input.MaxNumberOfMessages ?? 1, "MaxNumberOfMessages", 1, 10);
    const visibility =
      input.VisibilityTimeout === undefined
        ? queue.config.visibilityTimeout
        : checkIntParameter(
            input.VisibilityTimeout,
            "VisibilityTimeout",
            0,
            MAX_VISIBILITY_TIMEOUT_S,
          );
    const waitSeconds =
      input.WaitTimeSeconds === undefined
        ? queue.config.receiveMessageWaitTimeSeconds
        : checkIntParameter(input.WaitTimeSeconds, "WaitTimeSeconds", 0, 20);
    for (const field of [
      "MessageSystemAttributeNames",
      "AttributeNames",
      "MessageAttributeNames",
    ] as const) {
      const names: unknown = input[field];
      if (
        names !== undefined &&
        (!Array.isArray(names) || names.some((n) => typeof n !== "string"))
      )
        throw invalidParameter(field, "an array of names");
    }
    const attemptId =
      input.ReceiveRequestAttemptId === undefined
        ? undefined
        : checkId(input.ReceiveRequestAttemptId, "ReceiveRequestAttemptId");
    const projection = projectionOf(input);
    const deadline = this.clock.now() + waitSeconds * 1000;
    // The attempt's first receive may be another process's, not applied here yet: the first
    // round writes its receive even when it finds nothing, and applying it decides.
    const attempt = queue.config.fifo ? attemptId : undefined;
    for (let firstRound = true; ; firstRound = false) {
      const dlq = this.deadLetterQueueOf(queue);
      const maxReceiveCount =
        dlq === undefined ? undefined : queue.config.redrivePolicy?.maxReceiveCount;
      await queue.caughtUp();
      queue.advance();
      const now = this.clock.now();
      const { take, dead } = queue.state.select(max, now, queue.reserved, maxReceiveCount);
      if (dead.length > 0 && dlq !== undefined)
        await transferHeld(queue, new Map([[dlq, dead]]), now, this.arnOf(queue));
      const taken =
        take.length > 0 || (firstRound && attempt !== undefined)
          ? await queue.receive(take, visibility * 1000, attempt)
          : [];
      if (taken.length > 0) {
        const messages = (await queue.payloads(taken)).map(({ message: m, payload }) =>
          buildMessage(
            queuedView(m, now),
            fromJsonMeta(payload.meta),
            payload.body,
            undefined,
            projection,
            {
              senderId: this.addresses.accountId,
              fifo: queue.config.fifo,
              receiptHandle: this.receipts.encode({
                queueUid: queue.uid,
                seq: m.seq,
                receiveCount: m.receiveCount,
              }),
            },
          ),
        );
        return { Messages: messages };
      }
      // Lost every message to another receive, or moved dead letters: look again at once.
      if (take.length > 0 || dead.length > 0) continue;
      if (this.clock.now() >= deadline || input.signal?.aborted === true) return { Messages: [] };
      await queue.waitForChange(deadline, input.signal);
      const current = this.queues.get(queue.name);
      if (current !== queue || this.closed) return { Messages: [] };
      queue = current;
    }
  }

  private deadLetterQueueOf(queue: NatsQueue): NatsQueue | undefined {
    const arn = queue.config.redrivePolicy?.deadLetterTargetArn;
    const name = arn === undefined ? undefined : this.addresses.nameFromArn(arn);
    return name === undefined ? undefined : this.queues.get(name);
  }

  // ---------------------------------------------------------------- delete / visibility

  async deleteMessage(input: DeleteMessageInput): Promise<void> {
    const queue = this.queueOf(input?.QueueUrl);
    const receipt = this.receiptOf(queue, input.ReceiptHandle, "ReceiptHandle");
    await this.caughtUpWith(queue, [receipt]);
    if (isLatestReceive(queue, receipt)) await queue.remove([receipt]);
  }

  async deleteMessageBatch(input: DeleteMessageBatchInput): Promise<BatchResult<{ Id: string }>> {
    const queue = this.queueOf(input?.QueueUrl);
    const entries = checkBatchEntries(input.Entries) as DeleteMessageBatchInput["Entries"];
    const failed: BatchResultErrorEntry[] = [];
    const receipts = new Map<string, ReceiptRef>();
    entries.forEach((entry, i) => {
      try {
        receipts.set(
          entry.Id,
          this.receiptOf(queue, entry.ReceiptHandle, `Entries[${i}].ReceiptHandle`),
        );
      } catch (error) {
        failed.push(failure(entry.Id, error));
      }
    });
    await this.caughtUpWith(queue, [...receipts.values()]);
    const refs = new Map<number, ReceiptRef>();
    for (const receipt of receipts.values())
      if (isLatestReceive(queue, receipt)) refs.set(receipt.seq, receipt);
    await queue.remove([...refs.values()]);
    return { Successful: [...receipts.keys()].map((Id) => ({ Id })), Failed: failed };
  }

  /**
   * The message and receive a receipt handle names, from this queue (as in SQS, a handle of a
   * message since deleted, or from an earlier receive, is still a handle of the queue).
   */
  private receiptOf(queue: NatsQueue, handle: unknown, field: string): ReceiptRef {
    const receipt = this.receipts.decode(handle, field);
    if (receipt.queueUid !== queue.uid)
      throw new QueueError(
        "ReceiptHandleIsInvalid",
        `${field}: the receipt handle belongs to another queue`,
        field,
      );
    return { seq: receipt.seq, receiveCount: receipt.receiveCount };
  }

  /**
   * Waits until this process has applied its own writes and the receives that `receipts` name
   * (another process's receive may be newer than this process's copy of the stream).
   */
  private async caughtUpWith(queue: NatsQueue, receipts: readonly ReceiptRef[]): Promise<void> {
    await queue.caughtUp();
    await queue.seen(receipts);
    queue.advance();
  }

  async changeMessageVisibility(input: ChangeMessageVisibilityInput): Promise<void> {
    const queue = this.queueOf(input?.QueueUrl);
    const receipt = this.receiptOf(queue, input.ReceiptHandle, "ReceiptHandle");
    const seconds = checkIntParameter(
      input.VisibilityTimeout,
      "VisibilityTimeout",
      0,
      MAX_VISIBILITY_TIMEOUT_S,
    );
    await this.caughtUpWith(queue, [receipt]);
    await queue.changeVisibility([this.visibilityChange(queue, receipt, seconds, "")]);
  }

  async changeMessageVisibilityBatch(
    input: ChangeMessageVisibilityBatchInput,
  ): Promise<BatchResult<{ Id: string }>> {
    const queue = this.queueOf(input?.QueueUrl);
    const entries = checkBatchEntries(
      input.Entries,
    ) as ChangeMessageVisibilityBatchInput["Entries"];
    const failed: BatchResultErrorEntry[] = [];
    const asked: { id: string; receipt: ReceiptRef; seconds: number; at: string }[] = [];
    entries.forEach((entry, i) => {
      const at = `Entries[${i}].`;
      try {
        const receipt = this.receiptOf(queue, entry.ReceiptHandle, `${at}ReceiptHandle`);
        const seconds = checkIntParameter(
          entry.VisibilityTimeout,
          `${at}VisibilityTimeout`,
          0,
          MAX_VISIBILITY_TIMEOUT_S,
        );
        asked.push({ id: entry.Id, receipt, seconds, at });
      } catch (error) {
        failed.push(failure(entry.Id, error));
      }
    });
    await this.caughtUpWith(
      queue,
      asked.map((a) => a.receipt),
    );
    const successful: { Id: string }[] = [];
    const changes: { ref: ReceiptRef; due: number }[] = [];
    for (const { id, receipt, seconds, at } of asked) {
      try {
        changes.push(this.visibilityChange(queue, receipt, seconds, at));
        successful.push({ Id: id });
      } catch (error) {
        failed.push(failure(id, error));
      }
    }
    await queue.changeVisibility(changes);
    return { Successful: successful, Failed: failed };
  }

  private visibilityChange(
    queue: NatsQueue,
    receipt: ReceiptRef,
    seconds: number,
    at: string,
  ): { ref: ReceiptRef; due: number } {
    const field = `${at}ReceiptHandle`;
    const message = queue.state.messages.get(receipt.seq);
    if (message === undefined || !isLatestReceive(queue, receipt))
      throw new QueueError(
        "ReceiptHandleIsInvalid",
        `${field}: the receipt handle is not the latest of a message in this queue`,
        field,
      );
    const now = this.clock.now();
    if (message.statusAt(now) !== INFLIGHT)
      throw new QueueError("MessageNotInflight", `${field}: the message is not in flight`, field);
    const due = now + seconds * 1000;
    if (due - message.receivedAt > MAX_VISIBILITY_TIMEOUT_S * 1000)
      throw invalidParameter(
        `${at}VisibilityTimeout`,
        `a timeout ending at most ${MAX_VISIBILITY_TIMEOUT_S} s after the message was received`,
      );
    return { ref: receipt, due };
  }

  // ---------------------------------------------------------------- peek

  async peekMessages(input: PeekMessagesInput): Promise<{ Messages: PeekedMessage[] }> {
    const queue = this.queueOf(input?.QueueUrl);
    const max = checkIntParameter(input.MaxNumberOfMessages ?? 10, "MaxNumberOfMessages", 1, 1000);
    let after = 0;
    if (input.AfterSequenceNumber !== undefined) {
      const parsed = parseSequenceNumber(input.AfterSequenceNumber);
      if (parsed === undefined)
        throw invalidParameter("AfterSequenceNumber", "a SequenceNumber from an earlier peek");
      after = parsed;
    }
    await this.tasksSettled();
    await queue.caughtUp();
    queue.advance();
    const now = this.clock.now();
    const held: HeldMessage[] = [];
    for (const m of queue.state.inOrder(after)) {
      if (held.length >= max) break;
      held.push(m);
    }
    const messages = (await queue.payloads(held)).map(({ message, payload }) =>
      buildPeekedMessage({
        state: queuedView(message, now),
        meta: fromJsonMeta(payload.meta),
        body: payload.body,
      }),
    );
    return { Messages: messages };
  }

  // ---------------------------------------------------------------- redrive

  async startMessageMoveTask(input: StartMessageMoveTaskInput): Promise<{ TaskHandle: string }> {
    this.ensureOpen();
    const source = this.queueByArn(input?.SourceArn, "SourceArn");
    await source.caughtUp();
    const sourceArn = this.arnOf(source);
    if (
      ![...this.queues.values()].some(
        (q) => q.config.redrivePolicy?.deadLetterTargetArn === sourceArn,
      )
    )
      throw invalidParameter(
        "SourceArn",
        "the ARN of a queue that is some queue's dead-letter queue",
      );
    if (input.DestinationArn !== undefined) this.queueByArn(input.DestinationArn, "DestinationArn");
    const rate =
      input.MaxNumberOfMessagesPerSecond === undefined
        ? MAX_MOVE_RATE
        : checkIntParameter(
            input.MaxNumberOfMessagesPerSecond,
            "MaxNumberOfMessagesPerSecond",
            1,
            MAX_MOVE_RATE,
          );
    const alreadyRunning = new QueueError(
      "UnsupportedOperation",
      `SourceArn: a message move task is already running for ${source.name}`,
      "SourceArn",
    );
    for (const task of this.moveTasks.values())
      if (task.sourceArn === sourceArn && task.status === "RUNNING") throw alreadyRunning;
    const handle = Buffer.from(
      JSON.stringify({ id: randomUUID(), source: sourceArn }),
      "utf8",
    ).toString("base64url");
    // Decided in the catalog: another process may be starting one on this queue right now.
    if ((await this.catalog.claimSource(source.uid, handle)) !== undefined) throw alreadyRunning;
    const task = this.moveTask(source, { handle, destinationArn: input.DestinationArn, rate });
    this.moveTasks.set(handle, task);
    try {
      await task.start();
    } catch (error) {
      task.stop();
      this.moveTasks.delete(handle);
      await this.catalog.releaseSource(source.uid, handle).catch(() => undefined);
      throw error;
    }
    return { TaskHandle: handle };
  }

  async cancelMessageMoveTask(input: {
    TaskHandle: string;
  }): Promise<{ ApproximateNumberOfMessagesMoved: number }> {
    this.ensureOpen();
    const task = this.moveTasks.get(input?.TaskHandle);
    if (task === undefined)
      throw new QueueError(
        "ResourceNotFoundException",
        "TaskHandle: no such message move task",
        "TaskHandle",
      );
    if (task.status !== "RUNNING")
      throw new QueueError(
        "UnsupportedOperation",
        `TaskHandle: the task is ${task.status}, not RUNNING`,
        "TaskHandle",
      );
    await task.cancel();
    return { ApproximateNumberOfMessagesMoved: task.moved };
  }

  private moveTask(
    source: NatsQueue,
    task: { handle: string; destinationArn: string | undefined; rate: number },
    restored?: StoredMoveTask,
  ): NatsMoveTask {
    return new NatsMoveTask({
      ...task,
      source,
      sourceArn: this.arnOf(source),
      resolve: (arn) => {
        const name = this.addresses.nameFromArn(arn);
        return name === undefined ? undefined : this.queues.get(name);
      },
      clock: this.clock,
      writer: this.writer,
      store: {
        create: (record) => this.catalog.createTask(record),
        update: (record, revision) => this.catalog.updateTask(record, revision),
        read: (handle) => this.catalog.readTask(handle),
      },
      ...(restored === undefined ? {} : { restored }),
    });
  }

  /**
   * Brings back the tasks the catalog holds. Ownerless running ones (their owner closed, or an
   * older release wrote them) are claimed before the open returns; one another process works
   * is followed, and taken over if that process stops renewing it.
   */
  private async restoreMoveTasks(tasks: readonly StoredMoveTask[]): Promise<void> {
    const byStart = [...tasks].sort((a, b) => a.record.startedAt - b.record.startedAt);
    for (const stored of byStart) this.placeTask(stored);
    await this.tasksSettled();
  }

  /** Holds a task record here (following it), once its source queue is open here. */
  private placeTask(stored: StoredMoveTask): void {
    const { record } = stored;
    const source = this.queues.get(this.addresses.nameFromArn(record.sourceArn) ?? "");
    if (source === undefined) {
      this.unplacedTasks.set(record.handle, stored);
      return;
    }
    this.unplacedTasks.delete(record.handle);
    const task = this.moveTask(
      source,
      { handle: record.handle, destinationArn: record.destinationArn, rate: record.rate },
      stored,
    );
    this.moveTasks.set(record.handle, task);
    task.follow();
  }

  /** Tasks heard of before their source queue opened here. */
  private placeUnplacedTasks(): void {
    for (const stored of [...this.unplacedTasks.values()]) this.placeTask(stored);
  }

  /** A task record changed (in any process): follow it, or drop it once deleted. */
  private onTaskChange(handle: string, stored: StoredMoveTask | undefined): void {
    const task = this.moveTasks.get(handle);
    if (stored === undefined) {
      this.unplacedTasks.delete(handle);
      if (task === undefined) return;
      task.stop();
      this.moveTasks.delete(handle);
      return;
    }
    if (task !== undefined) task.observe(stored);
    else this.placeTask(stored);
  }

  async listMessageMoveTasks(input: {
    SourceArn: string;
    MaxResults?: number;
  }): Promise<{ Results: MoveTaskView[] }> {
    this.ensureOpen();
    const source = this.queueByArn(input?.SourceArn, "SourceArn");
    const max = checkIntParameter(input.MaxResults ?? 1, "MaxResults", 1, 10);
    const arn = this.arnOf(source);
    await this.tasksSettled();
    const results = [...this.moveTasks.values()]
      .filter((t) => t.sourceArn === arn)
      .reverse()
      .slice(0, max)
      .map((t) => t.view());
    return { Results: results };
  }

  /** Reads wait for this process's move tasks to catch up with the time that has passed. */
  private async tasksSettled(): Promise<void> {
    await Promise.all([...this.moveTasks.values()].map((t) => t.settled()));
  }

  // ---------------------------------------------------------------- lifecycle

  /** Stops background work and closes the streams (and the connection, if opened here). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.catalog.close();
    // Close stops the work without changing any status; a task worked here is left ownerless,
    // so another process carries it on at once.
    await Promise.all([...this.moveTasks.values()].map((t) => t.release()));
    await Promise.all([...this.creating.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.queues.clear();
    this.publisher.close();
    this.watch.close();
    if (this.ownsConnection) await this.nc.close();
  }

  // ---------------------------------------------------------------- helpers

  private ensureOpen(): void {
    if (this.closed) throw QueueError.serviceClosed();
  }

  private queueOf(url: unknown): NatsQueue {
    this.ensureOpen();
    const name = this.addresses.nameFromUrl(url);
    const queue = name === undefined ? undefined : this.queues.get(name);
    if (queue === undefined)
      throw new QueueError(
        "QueueDoesNotExist",
        `QueueUrl: no queue at ${JSON.stringify(url)}`,
        "QueueUrl",
      );
    return queue;
  }

  private queueByArn(arn: unknown, field: string): NatsQueue {
    const name = this.addresses.nameFromArn(arn);
    const queue = name === undefined ? undefined : this.queues.get(name);
    if (queue === undefined)
      throw new QueueError(
        "ResourceNotFoundException",
        `${field}: no queue with ARN ${JSON.stringify(arn)}`,
        field,
      );
    return queue;
  }

  private arnOf(queue: NatsQueue): string {
    return this.addresses.arn(queue.name);
  }

  private checkRedrive(name: string, attributes: Readonly<Record<string, string>>): void {
    checkRedrivePolicy(name, attributes, this.addresses, (dlq) => this.queues.get(dlq));
  }

  /**
   * Stores `change` applied to the queue's definition as the catalog has it now, and applies
   * the result here. Edits in this process run one after another per queue; edits from other
   * processes are caught by the catalog's write on the revision read (see `NatsCatalog.update`),
   * so none overwrites another. Returns the definitions before and after the edit.
   */
  private updateDefinition(
    queue: NatsQueue,
    change: (current: QueueDefinition) => Partial<Pick<QueueDefinition, "attributes" | "tags">>,
  ): Promise<{ before: QueueDefinition; after: QueueDefinition }> {
    return this.definitionEdits.run(queue.definition.uid, async () => {
      let before = queue.definition;
      const stored = await this.catalog.update(queue.name, queue.definition.uid, (current) => {
        before = current;
        return {
          ...current,
          ...change(current),
          lastModifiedTimestamp: Math.floor(this.clock.now() / 1000),
        };
      });
      if (stored === undefined)
        throw new QueueError(
          "QueueDoesNotExist",
          `QueueUrl: queue ${queue.name} was deleted`,
          "QueueUrl",
        );
      queue.redefine(stored.definition, stored.revision);
      this.noteChange(queue.name, stored.revision, stored.definition);
      return { before, after: stored.definition };
    });
  }
}

/** A namespace becomes part of stream, bucket and key names: letters, digits, _ and -. */
/**
 * Whether the handle's receive is the message's latest here, once this process has applied it
 * (`caughtUpWith`). As in SQS, deleting a message already deleted succeeds, and a handle from
 * an earlier receive succeeds without deleting (someone else holds it now); the delete's entry
 * names the receive too, so a receive elsewhere applied in between wins.
 */
function isLatestReceive(queue: NatsQueue, receipt: ReceiptRef): boolean {
  return queue.state.messages.get(receipt.seq)?.receiveCount === receipt.receiveCount;
}

function failure(id: string, error: unknown): BatchResultErrorEntry {
  if (error instanceof QueueError)
    return { Id: id, SenderFault: true, Code: error.sqsError, Message: error.message };
  return {
    Id: id,
    SenderFault: false,
    Code: "InternalError",
    Message: error instanceof Error ? error.message : String(error),
  };
}
