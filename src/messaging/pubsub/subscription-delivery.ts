import { SluiceError, asError } from "../../errors/index.js";
import type { Counter, MetricsRegistry } from "../../observability/index.js";
import { handleAll, retry, type RetryPolicy } from "../../resilience/index.js";
import type { Clock } from "../../time/index.js";
import { type BulkSendEntry, type QueueService, sendInBulk } from "../queues/index.js";
import type { Writable } from "../queues/writable.js";
import { superviseLoop } from "../supervised-loop.js";
import { retrySettings, parseRedrivePolicy, type RetrySettings } from "./delivery-policy.js";
import { type DurableTopic, type StoredMessage, sequenceNumberOf } from "./durable-topic.js";
import { type FilterPolicyScope, parseFilterPolicy } from "./filter-policy.js";
import type { HttpPoster } from "./http-poster.js";
import type {
  NotificationHandler,
  PublishInput,
  SubscriptionAttributes,
  SubscriptionProtocol,
} from "./pubsub-service.js";
import type { TopicAddresses } from "./topic-address.js";

/** A subscription as kept in the catalog. */
export interface SubscriptionRecord {
  readonly id: string;
  readonly topic: string;
  readonly protocol: SubscriptionProtocol;
  readonly endpoint: string;
  readonly attributes: SubscriptionAttributes;
  readonly confirmed: boolean;
  readonly token?: string;
  /** The topic's end when it subscribed: it gets messages published from then on. */
  readonly startOffset: number;
}

/** What deliveries need from the service around them. */
export interface DeliveryContext {
  readonly clock: Clock;
  readonly queues: QueueService | undefined;
  readonly addresses: TopicAddresses;
  readonly handlers: ReadonlyMap<string, NotificationHandler>;
  readonly http: HttpPoster;
  readonly publish: (input: PublishInput) => Promise<unknown>;
  readonly metrics: MetricsRegistry | undefined;
  readonly random: (() => number) | undefined;
}

/** Messages read per step; to a queue they go in one bulk send (one durable write). */
const READ_BATCH = 500;

/**
 * Turns of the event loop a queue subscription waits for more messages while its topic is
 * being appended to: each bulk send then carries the messages of several publishing turns in
 * one write to the queue, instead of one write per queue per turn.
 */
const GATHER_TURNS = 8;

/** Pause before a delivery loop that failed unexpectedly runs again. */
const LOOP_RESTART_MS = 1000;

class DeliveryFailure extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super("SLUICE_IO", message, cause === undefined ? {} : { cause });
  }
}

/**
 * Delivers one subscription's messages: reads its topic's log from its cursor, keeps what its
 * filter policy matches, delivers with retries (exponential backoff with jitter) and, when
 * retries run out, sends to its dead-letter queue. The cursor advances only past messages that
 * were delivered or dead-lettered, so a crash redelivers (at least once) and never loses.
 */
export class SubscriptionDelivery {
  /** Next offset to deliver. */
  cursor: number;
  /** The scope of this subscription's filter policy, kept in the topic's shared filters. */
  private readonly filterScope: FilterPolicyScope | undefined;
  private readonly retrySettings: RetrySettings;
  private readonly retryPolicy: RetryPolicy;
  private readonly deadLetterArn: string | undefined;
  /** RawMessageDelivery (a changed attribute makes a new delivery, so it is fixed here). */
  private readonly rawDelivery: boolean;
  /** Whether the endpoint is a FIFO queue (queue subscriptions). */
  private readonly fifoQueue: boolean;
  private unsubscribeUrl: { readonly base: string; readonly url: string } | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly queueUrls = new Map<string, string>();
  private readonly delivered: Counter | undefined;
  private readonly failed: Counter | undefined;
  private readonly deadLettered: Counter | undefined;
  private readonly dropped: Counter | undefined;
  private readonly loopFailures: Counter | undefined;

  constructor(
    readonly record: SubscriptionRecord,
    readonly arn: string,
    private readonly topic: DurableTopic,
    private readonly context: DeliveryContext,
    cursor: number,
  ) {
    this.cursor = Math.max(cursor, topic.startOffset);
    const attributes = record.attributes;
    if (attributes.FilterPolicy !== undefined && attributes.FilterPolicy !== "") {
      const scope = (attributes.FilterPolicyScope ?? "MessageAttributes") as FilterPolicyScope;
      topic.filters.set(record.id, parseFilterPolicy(attributes.FilterPolicy, scope), scope);
      this.filterScope = scope;
    }
    this.rawDelivery = attributes.RawMessageDelivery === "true";
    this.fifoQueue = record.protocol === "sqs" && record.endpoint.endsWith(".fifo");
    this.retrySettings = retrySettings(record.protocol, attributes.DeliveryPolicy, context.random);
    this.retryPolicy = retry(handleAll, {
      maxAttempts: this.retrySettings.numRetries + 1,
      backoff: this.retrySettings.backoff,
      maxDelayMs: this.retrySettings.maxDelayMs,
      clock: context.clock,
    });
    this.deadLetterArn =
      attributes.RedrivePolicy === undefined
        ? undefined
        : parseRedrivePolicy(attributes.RedrivePolicy);
    const labels = { topic: record.topic, protocol: record.protocol };
    const m = context.metrics;
    this.delivered = m?.counter(
      "sluice_pubsub_delivered_total",
      "Messages delivered to subscriptions.",
      labels,
    );
    this.failed = m?.counter(
      "sluice_pubsub_delivery_failures_total",
      "Failed delivery attempts.",
      labels,
    );
    this.deadLettered = m?.counter(
      "sluice_pubsub_dead_lettered_total",
      "Messages sent to a subscription's dead-letter queue after its retries.",
      labels,
    );
    this.dropped = m?.counter(
      "sluice_pubsub_dropped_total",
      "HTTP and handler deliveries given up with no dead-letter queue (as SNS does).",
      labels,
    );
    this.loopFailures = m?.counter(
      "sluice_pubsub_delivery_loop_failures_total",
      "Delivery loops that failed unexpectedly (a read the disk refused) and ran again.",
      labels,
    );
  }

  /** Whether the subscription wants `message`, by its filter policy. */
  wants(message: StoredMessage): boolean {
    if (this.filterScope === undefined) return true;
    return this.topic.filters.passes(
      this.record.id,
      this.filterScope,
      message,
      this.filterScope === "MessageBody" ? message.entryFor(this.record.protocol) : "",
    );
  }

  /** Delivers until stopped; a loop that fails is run again from the cursor (see superviseLoop). */
  start(): void {
    this.running ??= superviseLoop(() => this.run(), {
      clock: this.context.clock,
      signal: this.abort.signal,
      restartDelayMs: LOOP_RESTART_MS,
      onFailure: () => this.loopFailures?.inc(),
    });
  }

  /** Stops delivering; resolves when the loop has stopped (the cursor stays where it was). */
  async stop(): Promise<void> {
    this.topic.filters.delete(this.record.id);
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (this.cursor >= this.topic.endOffset) {
        await this.topic.waitForMessages(this.cursor, signal);
        continue;
      }
      if (this.record.protocol === "sqs") await this.gather(signal);
      const batch = this.topic.read(this.cursor, READ_BATCH);
      if (batch.length === 0) {
        this.cursor = Math.max(this.cursor, this.topic.startOffset);
        await this.context.clock.sleep(10, signal);
        continue;
      }
      const wanted = !this.record.confirmed
        ? []
        : this.filterScope === undefined
          ? batch
          : batch.filter((m) => this.wants(m));
      await this.deliver(wanted, signal);
      if (signal.aborted) return;
      this.cursor = batch[batch.length - 1]!.offset + 1;
    }
  }

  /**
   * Waits while more messages are on their way (a publish of this turn is being appended), up to
   * GATHER_TURNS turns or a full read batch. Publishers are acknowledged by the topic's append,
   * not by deliveries, so this only delays deliveries, by a few turns under load and not at all
   * when publishing stops.
   */
  private async gather(signal: AbortSignal): Promise<void> {
    for (let turn = 0; turn < GATHER_TURNS; turn++) {
      // By the next turn, whoever published in this one has appended again (or stopped).
      await new Promise((resolve) => setImmediate(resolve));
      const end = this.topic.endOffset;
      if (signal.aborted || end - this.cursor >= READ_BATCH || !this.topic.appending) return;
      await this.topic.waitForMessages(end, signal);
    }
  }

  private async deliver(messages: readonly StoredMessage[], signal: AbortSignal): Promise<void> {
    if (messages.length === 0) return;
    // A queue takes the whole read batch in one bulk send; other targets one message at a time.
    const units: (readonly StoredMessage[])[] = [];
    if (this.record.protocol === "sqs") units.push(messages);
    else for (const m of messages) units.push([m]);
    if (this.topic.isFifo) {
      for (const unit of units) await this.deliverUnit(unit, signal);
    } else {
      await Promise.all(units.map((unit) => this.deliverUnit(unit, signal)));
    }
  }

  /** Delivers with retries; what still fails goes to the dead-letter queue. */
  private async deliverUnit(unit: readonly StoredMessage[], signal: AbortSignal): Promise<void> {
    let pending = unit;
    let lastError: Error | undefined;
    try {
      await this.retryPolicy.execute(async () => {
        try {
          pending = await this.send(pending);
        } catch (error) {
          lastError = asError(error);
          this.failed?.inc(pending.length);
          throw error;
        }
        if (pending.length > 0) {
          this.failed?.inc(pending.length);
          throw (lastError ??= new DeliveryFailure("not delivered"));
        }
      }, signal);
      this.delivered?.inc(unit.length);
      return;
    } catch (error) {
      if (signal.aborted) throw error;
      lastError = asError(error);
    }
    this.delivered?.inc(unit.length - pending.length);
    await this.giveUp(pending, lastError ?? new DeliveryFailure("not delivered"), signal);
  }

  private async giveUp(
    pending: readonly StoredMessage[],
    error: Error,
    signal: AbortSignal,
  ): Promise<void> {
    const local = this.record.protocol === "sqs" || this.record.protocol === "sns";
    if (this.deadLetterArn === undefined && !local) {
      this.dropped?.inc(pending.length);
      return;
    }
    // With a dead-letter queue the message goes there; without one, a queue or topic target is
    // retried until it exists again (or the subscription goes): never into the void.
    let remaining = pending;
    for (;;) {
      try {
        if (this.deadLetterArn !== undefined) {
          remaining = await this.sendToDeadLetterQueue(remaining, error);
          this.deadLettered?.inc(pending.length - remaining.length);
        } else remaining = await this.send(remaining);
      } catch (retryError) {
        error = asError(retryError);
      }
      if (remaining.length === 0) return;
      await this.context.clock.sleep(this.retrySettings.maxDelayMs, signal);
    }
  }

  /** Sends messages; returns those that failed. */
  private async send(messages: readonly StoredMessage[]): Promise<readonly StoredMessage[]> {
    switch (this.record.protocol) {
      case "sqs":
        return this.sendToQueue(this.record.endpoint, messages, (m) => this.queueEntry(m));
      case "http":
      case "https":
        for (const m of messages) await this.post(m);
        return [];
      case "handler":
        for (const m of messages) await this.callHandler(m);
        return [];
      case "sns":
        for (const m of messages) await this.forward(m);
        return [];
    }
  }

  private envelope(m: StoredMessage): string {
    return m
      .envelope(
        this.context.addresses.topicArn(this.record.topic),
        this.topic.isFifo ? sequenceNumberOf(m.offset) : undefined,
        this.record.protocol,
      )
      .for(this.unsubscribeUrlNow());
  }

  /** Made again only when the base URL changed (a server given port 0 knows it once listening). */
  private unsubscribeUrlNow(): string {
    const base = this.context.addresses.baseUrl;
    if (this.unsubscribeUrl?.base !== base)
      this.unsubscribeUrl = { base, url: this.context.addresses.unsubscribeUrl(this.arn) };
    return this.unsubscribeUrl.url;
  }

  private queueEntry(m: StoredMessage): BulkSendEntry {
    // Raw: the same for every queue subscription of this message, made once (see StoredMessage).
    if (this.rawDelivery)
      return this.fifoQueue
        ? m.rawQueueContent.fifoQueueEntry
        : m.rawQueueContent.standardQueueEntry;
    const message = m.message;
    const entry: Writable<BulkSendEntry> = { MessageBody: this.envelope(m) };
    if (this.fifoQueue && message.MessageGroupId !== undefined) {
      entry.MessageGroupId = message.MessageGroupId;
      entry.MessageDeduplicationId = message.MessageDeduplicationId ?? message.MessageId;
    }
    return entry;
  }

  private async sendToQueue(
    arn: string,
    messages: readonly StoredMessage[],
    entry: (m: StoredMessage) => BulkSendEntry,
  ): Promise<readonly StoredMessage[]> {
    const queues = this.context.queues;
    if (queues === undefined) throw new DeliveryFailure("no queue service to deliver to");
    let url = this.queueUrls.get(arn);
    try {
      if (url === undefined) {
        url = (await queues.getQueueUrl({ QueueName: arn.slice(arn.lastIndexOf(":") + 1) }))
          .QueueUrl;
        this.queueUrls.set(arn, url);
      }
      const { failed } = await sendInBulk(queues, url, messages.map(entry));
      if (failed.length === 0) return [];
      return failed.map((f) => messages[f.index]!);
    } catch (error) {
      this.queueUrls.delete(arn);
      throw new DeliveryFailure(`queue ${arn}: ${asError(error).message}`, error);
    }
  }

  private async sendToDeadLetterQueue(
    messages: readonly StoredMessage[],
    error: Error,
  ): Promise<readonly StoredMessage[]> {
    const fifoDlq = this.deadLetterArn!.endsWith(".fifo");
    return this.sendToQueue(this.deadLetterArn!, messages, (m) => ({
      MessageBody: this.rawDelivery ? m.messageFor(this.record.protocol).Message : this.envelope(m),
      MessageAttributes: {
        ErrorMessage: { DataType: "String", StringValue: error.message.slice(0, 1000) || "failed" },
        TopicArn: {
          DataType: "String",
          StringValue: this.context.addresses.topicArn(this.record.topic),
        },
      },
      ...(fifoDlq
        ? {
            MessageGroupId: m.message.MessageGroupId ?? "dead-letters",
            MessageDeduplicationId: `${this.record.id}-${m.message.MessageId}`.slice(0, 128),
          }
        : {}),
    }));
  }

  private async post(m: StoredMessage): Promise<void> {
    const body = this.rawDelivery ? m.messageFor(this.record.protocol).Message : this.envelope(m);
    const status = await this.context.http.post(
      this.record.endpoint,
      {
        "content-type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": m.message.MessageId,
        "x-amz-sns-topic-arn": this.context.addresses.topicArn(this.record.topic),
        "x-amz-sns-subscription-arn": this.arn,
        ...(this.rawDelivery ? { "x-amz-sns-rawdelivery": "true" } : {}),
      },
      body,
    );
    if (status < 200 || status > 299)
      throw new DeliveryFailure(`${this.record.endpoint} answered HTTP ${status}`);
  }

  private async callHandler(m: StoredMessage): Promise<void> {
    const handler = this.context.handlers.get(this.record.endpoint);
    if (handler === undefined)
      throw new DeliveryFailure(`no handler registered as ${JSON.stringify(this.record.endpoint)}`);
    const message = m.messageFor("handler");
    await handler({
      MessageId: message.MessageId,
      TopicArn: this.context.addresses.topicArn(this.record.topic),
      SubscriptionArn: this.arn,
      Message: message.Message,
      ...(message.Subject === undefined ? {} : { Subject: message.Subject }),
      MessageAttributes: message.MessageAttributes,
      Timestamp: new Date(message.timestamp).toISOString(),
      ...(message.MessageGroupId === undefined ? {} : { MessageGroupId: message.MessageGroupId }),
      ...(this.topic.isFifo ? { SequenceNumber: sequenceNumberOf(m.offset) } : {}),
    });
  }

  private async forward(m: StoredMessage): Promise<void> {
    const message = m.messageFor("sns");
    const fifoTarget = this.record.endpoint.endsWith(".fifo");
    await this.context.publish({
      TopicArn: this.record.endpoint,
      Message: this.rawDelivery ? message.Message : this.envelope(m),
      ...(this.rawDelivery && Object.keys(message.MessageAttributes).length > 0
        ? { MessageAttributes: message.MessageAttributes }
        : {}),
      ...(message.Subject === undefined ? {} : { Subject: message.Subject }),
      ...(fifoTarget
        ? {
            MessageGroupId: message.MessageGroupId ?? "forwarded",
            MessageDeduplicationId: (message.MessageDeduplicationId ?? message.MessageId).slice(
              0,
              128,
            ),
          }
        : {}),
    });
  }
}
