import { randomBytes, randomUUID } from "node:crypto";
import type { Writable } from "./writable.js";
import { checkRedrivePolicy } from "./redrive-check.js";
import { join } from "node:path";
import {
  type FileSystem,
  type FsyncPolicy,
  makeDirectory,
  nodeFileSystem,
} from "../../engine/index.js";
import { asError, describeValue, invalid } from "../../errors/index.js";
import { PerKeySerializer } from "../per-key-serializer.js";
import type { AttributeEditing } from "./attribute-editing.js";
import type { MetricsRegistry } from "../../observability/index.js";
import { type Clock, systemClock } from "../../time/index.js";
import { DurableQueue, type PreparedSend, type QueueDefinition } from "./durable-queue.js";
import { MAX_MOVE_RATE, MessageMoveTask, type MoveTaskRecord } from "./message-move-task.js";
import { transferMessages } from "./message-transfer.js";
import { checkBatchEntries, checkId, checkIntParameter } from "./message-validation.js";
import { AttributeSetReuse } from "./message-attribute-set.js";
import { REQUEST_FIELDS, entryFields } from "./entry-fields.js";
import { CheckedSend } from "./checked-send.js";
import { prepareSend, sendResult, sendResultEntry } from "./prepared-send.js";
import {
  MAX_MESSAGE_SIZE,
  MAX_VISIBILITY_TIMEOUT_S,
  checkTags,
  defaultAttributes,
  mergeAttributes,
} from "./queue-attributes.js";
import {
  type QueueAddressing,
  QueueAddresses,
  checkQueueName,
  isFifoName,
} from "./queue-address.js";
import { QueueCatalog } from "./queue-catalog.js";
import { QueueError, invalidParameter } from "./queue-error.js";
import { checkRequest, existingQueueName } from "./request-checks.js";
import type {
  BatchResult,
  BatchResultErrorEntry,
  BulkQueueSender,
  BulkSendEntry,
  BulkSendResult,
  ChangeMessageVisibilityBatchInput,
  ChangeMessageVisibilityInput,
  CreateQueueInput,
  DeleteMessageBatchInput,
  DeleteMessageInput,
  Message,
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
} from "./queue-service.js";
import {
  DEFAULT_HOT_BODY_BYTES,
  HotBodyBudget,
  INFLIGHT,
  type QueuedMessage,
} from "./queue-state.js";
import { type Receipt, ReceiptHandles } from "./receipt-handle.js";
import {
  type MessageContext,
  buildMessage,
  buildPeekedMessage,
  parseSequenceNumber,
  projectionOf,
} from "./received-message.js";
import { promiseOf } from "./promise-of.js";
import {
  type AttributeValues,
  pickAttributes,
  requestedAttributeNames,
} from "./attribute-request.js";
import { listQueuesPage } from "./list-queues-page.js";

export interface EmbeddedQueueServiceOptions extends QueueAddressing {
  readonly clock?: Clock;
  /** Durability of sends, receives and deletes (default: fsync every 50 ms). */
  readonly fsync?: FsyncPolicy;
  readonly metrics?: MetricsRegistry;
  /** How often each queue's log drops its dead prefix (default 2 s). */
  readonly compactionIntervalMs?: number;
  /** Segment size of each queue's log (default 8 MiB). */
  readonly segmentBytes?: number;
  /**
   * Memory, shared by all queues, for the bodies of messages sent and not yet received
   * (default 64 MiB): receives within it are answered without reading the log; 0 turns it off.
   */
  readonly hotBodyBytes?: number;
  readonly fs?: FileSystem;
}

const PURGE_INTERVAL_MS = 60_000;

/**
 * SQS-semantics queues embedded in the process, durable on local disk: each queue is one
 * engine log (messages plus a journal of receives, deletes and visibility changes) replayed
 * into memory on open; a compacted catalog log holds the queues themselves.
 */
export class EmbeddedQueueService implements QueueService, BulkQueueSender, AttributeEditing {
  private readonly queues = new Map<string, DurableQueue>();
  /** Queues stopped by a failed append, being reopened from their logs. */
  private readonly reopening = new Map<DurableQueue, Promise<void>>();
  private readonly moveTasks = new Map<string, MessageMoveTask>();
  private readonly creating = new Map<string, Promise<unknown>>();
  private readonly definitionEdits = new PerKeySerializer();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly catalog: QueueCatalog,
    private readonly options: EmbeddedQueueServiceOptions,
    private readonly clock: Clock,
    readonly addresses: QueueAddresses,
    private readonly receipts: ReceiptHandles,
  ) {
    this.hotBodies = new HotBodyBudget(options.hotBodyBytes ?? DEFAULT_HOT_BODY_BYTES);
  }

  /** Memory all queues share for the bodies of messages sent and not yet received. */
  private readonly hotBodies: HotBodyBudget;

  /** Opens (creating if needed) the queues stored in `dir`, recovering their state. */
  static async open(
    dir: string,
    options: EmbeddedQueueServiceOptions = {},
  ): Promise<EmbeddedQueueService> {
    const { hotBodyBytes } = options;
    if (hotBodyBytes !== undefined && (!Number.isSafeInteger(hotBodyBytes) || hotBodyBytes < 0))
      throw invalid("hotBodyBytes", "an integer >= 0", hotBodyBytes);
    const clock = options.clock ?? systemClock;
    const fs = options.fs ?? nodeFileSystem;
    await makeDirectory(fs, dir);
    const { catalog, definitions, tasks, receiptKey } = await QueueCatalog.open(
      join(dir, "catalog"),
      clock,
      options.fs,
      options.metrics,
    );
    const service = new EmbeddedQueueService(
      dir,
      catalog,
      options,
      clock,
      new QueueAddresses(options),
      new ReceiptHandles(receiptKey),
    );
    try {
      const queuesDir = join(dir, "queues");
      await makeDirectory(fs, queuesDir);
      const wanted = new Set(definitions.map(queueDirName));
      for (const leftover of fs.list(queuesDir).filter((d) => !wanted.has(d)))
        await fs.removeDir(join(queuesDir, leftover));
      for (const definition of definitions)
        service.queues.set(definition.name, await service.openQueue(definition));
      await service.restoreMoveTasks(tasks);
    } catch (error) {
      await service.close();
      throw error;
    }
    return service;
  }

  /** Milliseconds each queue took to recover its state on open. */
  recoveryTimes(): Record<string, number> {
    return Object.fromEntries([...this.queues].map(([name, q]) => [name, q.recoveryMs]));
  }

  private openQueue(definition: QueueDefinition): Promise<DurableQueue> {
    const o = this.options;
    return DurableQueue.open(join(this.dir, "queues", queueDirName(definition)), definition, {
      clock: this.clock,
      fsync: o.fsync ?? { intervalMs: 50 },
      ...(o.metrics === undefined ? {} : { metrics: o.metrics }),
      ...(o.compactionIntervalMs === undefined
        ? {}
        : { compactionIntervalMs: o.compactionIntervalMs }),
      ...(o.segmentBytes === undefined ? {} : { segmentBytes: o.segmentBytes }),
      ...(o.fs === undefined ? {} : { fs: o.fs }),
      hotBodies: this.hotBodies,
      onFailure: (queue) => void this.reopen(queue),
    });
  }

  /**
   * Replaces a queue stopped by a failed append (see `DurableQueue.failure`) with the queue its
   * log holds: every acknowledged change and nothing else. A reopen that fails (the disk is
   * still full) is tried again by the next call to the queue; the promise never rejects.
   */
  private reopen(queue: DurableQueue): Promise<void> {
    let reopening = this.reopening.get(queue);
    if (reopening === undefined) {
      reopening = (async () => {
        await queue.close().catch(() => undefined);
        if (this.closed || this.queues.get(queue.name) !== queue) return;
        const reopened = await this.openQueue(queue.definition);
        if (this.closed || this.queues.get(queue.name) !== queue) await reopened.close();
        else this.queues.set(queue.name, reopened);
      })()
        .catch(() => undefined)
        .finally(() => this.reopening.delete(queue));
      this.reopening.set(queue, reopening);
    }
    return reopening;
  }

  /** `queue` if it takes calls; one stopped by a failed append is reopened and the call refused. */
  private usable(queue: DurableQueue): DurableQueue {
    if (queue.failure === undefined) return queue;
    void this.reopen(queue);
    throw queue.failure;
  }

  // ---------------------------------------------------------------- queues

  async createQueue(input: CreateQueueInput): Promise<{ QueueUrl: string }> {
    this.ensureOpen();
    const name = checkQueueName(checkRequest(input).QueueName);
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
    if (!fifo) delete attributes.FifoQueue; // "false" is the default a standard queue omits
    const tags = checkTags(input.tags ?? {}, {}, "tags");
    const existing = this.queues.get(name);
    if (existing !== undefined) {
      // Create-if-missing works as with SQS: only the attributes given must match.
      const current = existing.definition.attributes;
      if (Object.keys(requested).some((key) => current[key] !== attributes[key]))
        throw new QueueError(
          "QueueNameExists",
          `QueueName: ${name} exists with different attributes`,
          "QueueName",
        );
      return { QueueUrl: this.addresses.url(name) };
    }
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
    const creation = (async () => {
      await this.catalog.put(definition);
      this.queues.set(name, await this.openQueue(definition));
    })();
    this.creating.set(name, creation);
    try {
      await creation;
    } finally {
      this.creating.delete(name);
    }
    return { QueueUrl: this.addresses.url(name) };
  }

  async deleteQueue(input: { QueueUrl: string }): Promise<void> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    this.queues.delete(queue.name);
    for (const task of [...this.moveTasks.values()])
      if (task.sourceArn === this.arnOf(queue)) {
        task.stop();
        this.moveTasks.delete(task.handle);
        await task.done;
        await this.catalog.removeTask(task.handle);
      }
    try {
      await this.catalog.remove(queue.name);
    } catch (error) {
      // Still in the catalog: the queue takes calls again, and a retry deletes it.
      if (!this.queues.has(queue.name)) this.queues.set(queue.name, queue);
      throw error;
    }
    await queue.close();
    const fs = this.options.fs ?? nodeFileSystem;
    await fs.removeDir(join(this.dir, "queues", queueDirName(queue.definition)));
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
      const name = existingQueueName(checkRequest(input).QueueName, (n) => this.queues.has(n));
      return { QueueUrl: this.addresses.url(name) };
    });
  }

  getQueueAttributes(input: {
    QueueUrl: string;
    AttributeNames?: readonly (QueueAttributeName | "All")[];
  }): Promise<{ Attributes: Partial<Record<QueueAttributeName, string>> }> {
    return promiseOf(() => {
      const queue = this.queueOf(checkRequest(input).QueueUrl);
      const requested = requestedAttributeNames(input.AttributeNames);
      queue.advance();
      const all: AttributeValues = {
        ...(queue.definition.attributes as Partial<Record<QueueAttributeName, string>>),
        ApproximateNumberOfMessages: String(queue.state.visibleCount),
        ApproximateNumberOfMessagesNotVisible: String(queue.state.inflightCount),
        ApproximateNumberOfMessagesDelayed: String(queue.state.delayedCount),
        CreatedTimestamp: String(queue.definition.createdTimestamp),
        LastModifiedTimestamp: String(queue.definition.lastModifiedTimestamp),
        QueueArn: this.arnOf(queue),
      };
      return pickAttributes(all, requested);
    });
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

  /** See `AttributeEditing`: `change` runs on the attributes the last edit of the queue stored. */
  async editQueueAttributes(
    queueUrl: string,
    change: (current: Readonly<Record<string, string>>) => QueueAttributes,
  ): Promise<void> {
    const queue = this.queueOf(queueUrl);
    await this.editDefinition(queue, async () => {
      const attributes = mergeAttributes(
        queue.definition.attributes,
        change(queue.definition.attributes),
        queue.config.fifo,
        false,
      );
      this.checkRedrive(queue.name, attributes);
      const delayBefore = queue.config.delaySeconds;
      await this.storeDefinition(queue, { attributes });
      // On FIFO queues (only) a new DelaySeconds applies to the messages already queued.
      if (queue.config.fifo && queue.config.delaySeconds !== delayBefore)
        await queue.redelay(queue.config.delaySeconds * 1000);
    });
  }

  async tagQueue(input: {
    QueueUrl: string;
    Tags: Readonly<Record<string, string>>;
  }): Promise<void> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    await this.editDefinition(queue, () =>
      this.storeDefinition(queue, { tags: checkTags(input.Tags, queue.definition.tags) }),
    );
  }

  async untagQueue(input: { QueueUrl: string; TagKeys: readonly string[] }): Promise<void> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    const keys: unknown = input.TagKeys;
    if (!Array.isArray(keys)) throw invalidParameter("TagKeys", "an array of tag keys");
    for (let i = 0; i < keys.length; i++)
      if (typeof keys[i] !== "string") throw invalidParameter(`TagKeys[${i}]`, "a tag key");
    await this.editDefinition(queue, () => {
      const tags = { ...queue.definition.tags };
      for (const key of keys as string[]) delete tags[key];
      return this.storeDefinition(queue, { tags });
    });
  }

  listQueueTags(input: { QueueUrl: string }): Promise<{ Tags: Record<string, string> }> {
    return promiseOf(() => {
      const queue = this.queueOf(checkRequest(input).QueueUrl);
      return { Tags: { ...queue.definition.tags } };
    });
  }

  async purgeQueue(input: { QueueUrl: string }): Promise<void> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    if (this.clock.now() - queue.lastPurgeAt < PURGE_INTERVAL_MS)
      throw new QueueError(
        "PurgeQueueInProgress",
        `QueueUrl: ${queue.name} was purged less than 60 seconds ago`,
        "QueueUrl",
      );
    await queue.purge();
  }

  listDeadLetterSourceQueues(input: { QueueUrl: string }): Promise<{ queueUrls: string[] }> {
    return promiseOf(() => {
      const queue = this.queueOf(checkRequest(input).QueueUrl);
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
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    const prepared = prepareSend(queue.config, input, REQUEST_FIELDS);
    const { outcomes, durable } = queue.send([prepared]);
    await durable;
    return sendResult(queue.config.fifo, prepared, outcomes[0]!);
  }

  async sendMessageBatch(
    input: SendMessageBatchInput,
  ): Promise<BatchResult<SendMessageBatchResultEntry>> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    const entries = checkBatchEntries(input.Entries) as SendMessageBatchInput["Entries"];
    let total = 0;
    for (const e of entries) {
      if (typeof e.MessageBody === "string") total += Buffer.byteLength(e.MessageBody, "utf8");
      const attributes = e.MessageAttributes;
      if (attributes == null) continue;
      for (const [name, v] of Object.entries(attributes))
        total += name.length + (v?.StringValue?.length ?? 0) + (v?.BinaryValue?.length ?? 0);
    }
    if (total > MAX_MESSAGE_SIZE)
      throw new QueueError(
        "BatchRequestTooLong",
        `Entries: the batch carries ${total} bytes, more than ${MAX_MESSAGE_SIZE}`,
        "Entries",
      );
    const failed: BatchResultErrorEntry[] = [];
    const ids: string[] = [];
    const sends: PreparedSend[] = [];
    const reuse = new AttributeSetReuse();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      try {
        sends.push(prepareSend(queue.config, entry, entryFields(i), reuse));
        ids.push(entry.Id);
      } catch (error) {
        failed.push(failure(entry.Id, error));
      }
    }
    const { outcomes, durable } = queue.send(sends);
    await durable;
    const successful = new Array<SendMessageBatchResultEntry>(sends.length);
    for (let i = 0; i < sends.length; i++)
      successful[i] = sendResultEntry(ids[i]!, queue.config.fifo, sends[i]!, outcomes[i]!);
    return { Successful: successful, Failed: failed };
  }

  async sendMessagesInBulk(
    queueUrl: string,
    entries: readonly BulkSendEntry[],
  ): Promise<BulkSendResult> {
    const queue = this.queueOf(queueUrl);
    const failed: { index: number; error: Error }[] = [];
    const accepted: PreparedSend[] = [];
    const reuse = new AttributeSetReuse();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      try {
        accepted.push(
          entry instanceof CheckedSend
            ? entry.preparedFor(queue.config, entryFields(i))
            : prepareSend(queue.config, entry, entryFields(i), reuse),
        );
      } catch (error) {
        failed.push({ index: i, error: asError(error) });
      }
    }
    if (accepted.length > 0) await queue.send(accepted, false).durable;
    return { failed };
  }

  // ---------------------------------------------------------------- receive

  async receiveMessage(input: ReceiveMessageInput): Promise<ReceiveMessageResult> {
    let queue = this.queueOf(checkRequest(input).QueueUrl);
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
    if (input.signal != null && !(input.signal instanceof AbortSignal))
      throw invalidParameter("signal", "an AbortSignal");
    const attemptId =
      input.ReceiveRequestAttemptId === undefined
        ? undefined
        : checkId(input.ReceiveRequestAttemptId, "ReceiveRequestAttemptId");
    const projection = projectionOf(input);
    const deadline = this.clock.now() + waitSeconds * 1000;
    const attemptKey = queue.config.fifo ? attemptId : undefined;
    for (;;) {
      if (attemptKey !== undefined) {
        const repeated = await this.repeatAttempt(queue, attemptKey, visibility * 1000, projection);
        if (repeated !== undefined) return { Messages: repeated };
      }
      const maxReceiveCount =
        this.deadLetterQueueOf(queue) === undefined
          ? undefined
          : queue.config.redrivePolicy?.maxReceiveCount;
      const { taken, durable, attempt } = queue.receive(
        max,
        visibility * 1000,
        maxReceiveCount,
        (dead) => this.deadLetter(queue, dead),
        attemptKey,
      );
      if (taken.length > 0) {
        let messages: Message[];
        try {
          messages = this.received(queue, taken, projection);
        } catch (error) {
          await this.release(queue, taken, durable);
          throw error;
        }
        if (attempt !== undefined) attempt.result = messages;
        try {
          await durable;
          return { Messages: messages };
        } catch (error) {
          // In an append that failed and stopped the queue: this receive never happened (the
          // log holds none of it), so it is made again in the queue reopened from the log.
          if (queue.failure === undefined) throw error;
        }
      } else {
        if (this.clock.now() >= deadline || input.signal?.aborted === true) return { Messages: [] };
        await queue.waitForChange(deadline, input.signal);
      }
      // A queue stopped by a failed append: the poll goes on in the queue reopened from its log.
      if (queue.failure !== undefined) await this.reopen(queue);
      const current = this.queues.get(queue.name);
      if (current?.uid !== queue.uid || this.closed) return { Messages: [] };
      queue = this.usable(current);
    }
  }

  /**
   * The messages of an earlier receive with this attempt id, if none was deleted, changed or
   * received again since. As in SQS, the retry resets their visibility timeout.
   */
  private async repeatAttempt(
    queue: DurableQueue,
    id: string,
    visibilityMs: number,
    projection: ReturnType<typeof projectionOf>,
  ): Promise<Message[] | undefined> {
    const attempt = queue.attempts.get(id, this.clock.now());
    if (attempt === undefined) return undefined;
    queue.advance();
    if (!attempt.intact) {
      queue.attempts.delete(id);
      return undefined;
    }
    const due = this.clock.now() + visibilityMs;
    const durable = queue.changeVisibility(
      attempt.messages.map(({ message }) => ({ message, due })),
      id,
    );
    // The reset is this attempt's own change: it stays repeatable (within its first 5 minutes).
    for (const entry of attempt.messages) entry.token = entry.message.token;
    // After a restart the answer is rebuilt from the log: same messages, same signed handles.
    attempt.result ??= this.received(
      queue,
      attempt.messages.map((m) => m.message),
      projection,
    );
    await durable;
    return attempt.result;
  }

  /**
   * After a receive whose bodies the disk refused to read: its messages are visible again at
   * once, since no consumer holds them and none should wait out their visibility timeout. Their
   * receive stays counted, as for an answer lost on its way.
   */
  private async release(
    queue: DurableQueue,
    taken: readonly QueuedMessage[],
    durable: Promise<unknown>,
  ): Promise<void> {
    const due = this.clock.now();
    const released = queue.changeVisibility(taken.map((message) => ({ message, due })));
    await Promise.all([durable, released]).catch(() => undefined);
  }

  /** The messages a receive answers, each with the receipt handle of this receive. */
  private received(
    queue: DurableQueue,
    taken: readonly QueuedMessage[],
    projection: ReturnType<typeof projectionOf>,
  ): Message[] {
    // One context for all: buildMessage reads it before the next handle is set.
    const context: Writable<MessageContext> = {
      senderId: this.addresses.accountId,
      fifo: queue.config.fifo,
      receiptHandle: "",
    };
    const messages = new Array<Message>(taken.length);
    queue.readEach(taken, false, (state, meta, body, bodyMd5, i) => {
      context.receiptHandle = state.receipt = this.receipts.encodeFields(
        queue.uid,
        state.seq,
        state.receiveCount,
      );
      messages[i] = buildMessage(state, meta, body, bodyMd5, projection, context);
    });
    return messages;
  }

  private deadLetterQueueOf(queue: DurableQueue): DurableQueue | undefined {
    const arn = queue.config.redrivePolicy?.deadLetterTargetArn;
    const name = arn === undefined ? undefined : this.addresses.nameFromArn(arn);
    return name === undefined ? undefined : this.queues.get(name);
  }

  private deadLetter(source: DurableQueue, messages: QueuedMessage[]): void {
    const dlq = this.deadLetterQueueOf(source);
    if (dlq === undefined) return;
    let stored;
    try {
      stored = source.read(messages);
    } catch (error) {
      // The disk refused the read: the source let go of the messages in memory, and its log
      // still holds them, so it is reopened from the log and moves them on a later receive.
      source.stop(error);
      return;
    }
    void transferMessages(source, stored, () => dlq, this.clock.now(), this.arnOf(source)).catch(
      () => undefined,
    );
  }

  // ---------------------------------------------------------------- delete / visibility

  async deleteMessage(input: DeleteMessageInput): Promise<void> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    const message = this.messageForDelete(queue, input.ReceiptHandle, "ReceiptHandle");
    if (message !== undefined) await queue.remove([message]);
  }

  async deleteMessageBatch(input: DeleteMessageBatchInput): Promise<BatchResult<{ Id: string }>> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    const entries = checkBatchEntries(input.Entries) as DeleteMessageBatchInput["Entries"];
    const failed: BatchResultErrorEntry[] = [];
    const successful: { Id: string }[] = [];
    const toRemove: QueuedMessage[] = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      try {
        const message = this.messageForDelete(
          queue,
          entry.ReceiptHandle,
          entryFields(i).receiptHandle,
        );
        // At most ten entries: a scan finds a message named twice cheaper than a set.
        if (message !== undefined && !toRemove.includes(message)) toRemove.push(message);
        successful.push({ Id: entry.Id });
      } catch (error) {
        failed.push(failure(entry.Id, error));
      }
    }
    await queue.remove(toRemove);
    return { Successful: successful, Failed: failed };
  }

  /**
   * The message a delete applies to. As in SQS, deleting an already deleted message succeeds,
   * and a handle from an earlier receive succeeds without deleting (someone else holds it now).
   */
  private messageForDelete(
    queue: DurableQueue,
    handle: unknown,
    field: string,
  ): QueuedMessage | undefined {
    const issued = this.issuedTo(queue, handle);
    if (issued !== undefined) return issued;
    const receipt = this.receiptOf(queue, handle, field);
    if (receipt.queueUid !== queue.uid)
      throw new QueueError(
        "ReceiptHandleIsInvalid",
        `${field}: the receipt handle belongs to another queue`,
        field,
      );
    const message = queue.state.messages.get(receipt.seq);
    if (message === undefined || message.receiveCount !== receipt.receiveCount) return undefined;
    return message;
  }

  /**
   * The message of this queue whose latest receive issued exactly `handle`: then the handle
   * names this queue, the message and its current receive, and needs no MAC (the common case:
   * a consumer deleting what it just received), nor any object made to check it.
   */
  private issuedTo(queue: DurableQueue, handle: unknown): QueuedMessage | undefined {
    if (typeof handle !== "string") return undefined;
    const seq = this.receipts.peekSeq(handle);
    if (seq < 0) return undefined;
    const message = queue.state.messages.get(seq);
    return message !== undefined && message.receipt === handle ? message : undefined;
  }

  /** The receipt a handle names: the handle a message was last issued, or one that verifies. */
  private receiptOf(queue: DurableQueue, handle: unknown, field: string): Receipt {
    if (typeof handle === "string" && handle.length <= 1024) {
      const peeked = this.receipts.peek(handle);
      const message = peeked === undefined ? undefined : queue.state.messages.get(peeked.seq);
      if (peeked !== undefined && message?.receipt === handle) return peeked;
    }
    return this.receipts.decode(handle, field);
  }

  async changeMessageVisibility(input: ChangeMessageVisibilityInput): Promise<void> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    queue.advance();
    const change = this.visibilityChange(queue, input.ReceiptHandle, input.VisibilityTimeout, "");
    await queue.changeVisibility([change]);
  }

  async changeMessageVisibilityBatch(
    input: ChangeMessageVisibilityBatchInput,
  ): Promise<BatchResult<{ Id: string }>> {
    const queue = this.queueOf(checkRequest(input).QueueUrl);
    const entries = checkBatchEntries(
      input.Entries,
    ) as ChangeMessageVisibilityBatchInput["Entries"];
    queue.advance();
    const failed: BatchResultErrorEntry[] = [];
    const successful: { Id: string }[] = [];
    const changes: { message: QueuedMessage; due: number }[] = [];
    entries.forEach((entry, i) => {
      try {
        changes.push(
          this.visibilityChange(
            queue,
            entry.ReceiptHandle,
            entry.VisibilityTimeout,
            `Entries[${i}].`,
          ),
        );
        successful.push({ Id: entry.Id });
      } catch (error) {
        failed.push(failure(entry.Id, error));
      }
    });
    await queue.changeVisibility(changes);
    return { Successful: successful, Failed: failed };
  }

  private visibilityChange(
    queue: DurableQueue,
    handle: unknown,
    timeout: unknown,
    at: string,
  ): { message: QueuedMessage; due: number } {
    const field = `${at}ReceiptHandle`;
    const receipt = this.receiptOf(queue, handle, field);
    const seconds = checkIntParameter(
      timeout,
      `${at}VisibilityTimeout`,
      0,
      MAX_VISIBILITY_TIMEOUT_S,
    );
    const message = queue.state.messages.get(receipt.seq);
    if (
      receipt.queueUid !== queue.uid ||
      message === undefined ||
      message.receiveCount !== receipt.receiveCount
    )
      throw new QueueError(
        "ReceiptHandleIsInvalid",
        `${field}: the receipt handle is not the latest of a message in this queue`,
        field,
      );
    if (message.state !== INFLIGHT)
      throw new QueueError("MessageNotInflight", `${field}: the message is not in flight`, field);
    const due = this.clock.now() + seconds * 1000;
    if (due - message.receivedAt > MAX_VISIBILITY_TIMEOUT_S * 1000)
      throw invalidParameter(
        `${at}VisibilityTimeout`,
        `a timeout ending at most ${MAX_VISIBILITY_TIMEOUT_S} s after the message was received`,
      );
    return { message, due };
  }

  // ---------------------------------------------------------------- peek

  peekMessages(input: PeekMessagesInput): Promise<{ Messages: PeekedMessage[] }> {
    return promiseOf(() => {
      const queue = this.queueOf(checkRequest(input).QueueUrl);
      const max = checkIntParameter(
        input.MaxNumberOfMessages ?? 10,
        "MaxNumberOfMessages",
        1,
        1000,
      );
      let after = -1;
      if (input.AfterSequenceNumber !== undefined) {
        const parsed = parseSequenceNumber(input.AfterSequenceNumber);
        if (parsed === undefined)
          throw invalidParameter("AfterSequenceNumber", "a SequenceNumber from an earlier peek");
        after = parsed;
      }
      queue.advance();
      const picked: QueuedMessage[] = [];
      for (const m of queue.state.inOrder(after)) {
        if (picked.length >= max) break;
        picked.push(m);
      }
      const messages = queue.read(picked, true).map(buildPeekedMessage);
      return { Messages: messages };
    });
  }

  // ---------------------------------------------------------------- redrive

  async startMessageMoveTask(input: StartMessageMoveTaskInput): Promise<{ TaskHandle: string }> {
    this.ensureOpen();
    const source = this.queueByArn(checkRequest(input).SourceArn, "SourceArn");
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
    for (const task of this.moveTasks.values())
      if (task.sourceArn === sourceArn && task.status === "RUNNING")
        throw new QueueError(
          "UnsupportedOperation",
          `SourceArn: a message move task is already running for ${source.name}`,
          "SourceArn",
        );
    const handle = Buffer.from(
      JSON.stringify({ id: randomUUID(), source: sourceArn }),
      "utf8",
    ).toString("base64url");
    const task = this.moveTask(source, { handle, destinationArn: input.DestinationArn, rate });
    this.moveTasks.set(handle, task);
    await this.catalog.putTask(task.record());
    return { TaskHandle: handle };
  }

  async cancelMessageMoveTask(input: {
    TaskHandle: string;
  }): Promise<{ ApproximateNumberOfMessagesMoved: number }> {
    this.ensureOpen();
    const task = this.moveTasks.get(checkRequest(input).TaskHandle);
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
    source: DurableQueue,
    task: { handle: string; destinationArn: string | undefined; rate: number },
    restored?: MoveTaskRecord,
  ): MessageMoveTask {
    return new MessageMoveTask({
      ...task,
      source,
      sourceArn: this.arnOf(source),
      resolve: (arn) => {
        const name = this.addresses.nameFromArn(arn);
        return name === undefined ? undefined : this.queues.get(name);
      },
      clock: this.clock,
      persist: (record) => this.catalog.putTask(record),
      ...(restored === undefined ? {} : { restored }),
    });
  }

  /** Brings back the tasks the catalog holds; running ones carry on moving. */
  private async restoreMoveTasks(records: readonly MoveTaskRecord[]): Promise<void> {
    for (const record of [...records].sort((a, b) => a.startedAt - b.startedAt)) {
      const source = this.queues.get(this.addresses.nameFromArn(record.sourceArn) ?? "");
      if (source === undefined) {
        await this.catalog.removeTask(record.handle);
        continue;
      }
      const task = this.moveTask(
        source,
        { handle: record.handle, destinationArn: record.destinationArn, rate: record.rate },
        record,
      );
      this.moveTasks.set(record.handle, task);
    }
  }

  listMessageMoveTasks(input: {
    SourceArn: string;
    MaxResults?: number;
  }): Promise<{ Results: MoveTaskView[] }> {
    return promiseOf(() => {
      this.ensureOpen();
      const source = this.queueByArn(checkRequest(input).SourceArn, "SourceArn");
      const max = checkIntParameter(input.MaxResults ?? 1, "MaxResults", 1, 10);
      const arn = this.arnOf(source);
      const results = [...this.moveTasks.values()]
        .filter((t) => t.sourceArn === arn)
        .reverse()
        .slice(0, max)
        .map((t) => t.view());
      return { Results: results };
    });
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Running tasks stay RUNNING in the catalog and resume on the next open.
    for (const task of this.moveTasks.values()) task.stop();
    await Promise.all([...this.moveTasks.values()].map((t) => t.done));
    await Promise.all([...this.creating.values()].map((p) => p.catch(() => undefined)));
    await Promise.all(this.reopening.values());
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    await this.catalog.close();
  }

  /**
   * Stops as a killed process would: nothing flushed or closed cleanly, locks left behind. For
   * crash simulations on the simulated file system; reopen the same storage to recover.
   */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    for (const task of this.moveTasks.values()) task.stop();
    for (const queue of this.queues.values()) queue.kill();
    this.queues.clear();
    this.catalog.kill();
  }

  // ---------------------------------------------------------------- helpers

  private ensureOpen(): void {
    if (this.closed) throw QueueError.serviceClosed();
  }

  private queueOf(url: unknown): DurableQueue {
    this.ensureOpen();
    const name = this.addresses.nameFromUrl(url);
    const queue = name === undefined ? undefined : this.queues.get(name);
    if (queue === undefined)
      throw new QueueError(
        "QueueDoesNotExist",
        `QueueUrl: no queue at ${describeValue(url)}`,
        "QueueUrl",
      );
    return this.usable(queue);
  }

  private queueByArn(arn: unknown, field: string): DurableQueue {
    const name = this.addresses.nameFromArn(arn);
    const queue = name === undefined ? undefined : this.queues.get(name);
    if (queue === undefined)
      throw new QueueError(
        "ResourceNotFoundException",
        `${field}: no queue with ARN ${describeValue(arn)}`,
        field,
      );
    return this.usable(queue);
  }

  private arnOf(queue: DurableQueue): string {
    return this.addresses.arn(queue.name);
  }

  private checkRedrive(name: string, attributes: Readonly<Record<string, string>>): void {
    checkRedrivePolicy(name, attributes, this.addresses, (dlq) => this.queues.get(dlq));
  }

  /**
   * Runs an edit of a queue's definition after the edits of it before this one: each reads the
   * definition the last one stored, so concurrent edits build on each other and none
   * overwrites another.
   */
  private editDefinition<T>(queue: DurableQueue, edit: () => Promise<T>): Promise<T> {
    return this.definitionEdits.run(queue.definition.uid, edit);
  }

  /**
   * Stores `change` over the queue's definition, then applies it (visible once durable); a
   * queue deleted meanwhile is not written back.
   */
  private async storeDefinition(
    queue: DurableQueue,
    change: Partial<Pick<QueueDefinition, "attributes" | "tags">>,
  ): Promise<void> {
    if (this.queues.get(queue.name) !== queue)
      throw new QueueError(
        "QueueDoesNotExist",
        `QueueUrl: queue ${queue.name} was deleted`,
        "QueueUrl",
      );
    const definition: QueueDefinition = {
      ...queue.definition,
      ...change,
      lastModifiedTimestamp: Math.floor(this.clock.now() / 1000),
    };
    await this.catalog.put(definition);
    queue.redefine(definition);
  }
}

function queueDirName(definition: QueueDefinition): string {
  return `${definition.name}.${definition.uid}`;
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
