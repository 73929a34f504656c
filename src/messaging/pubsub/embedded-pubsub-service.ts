import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { SluiceError, asError, describeValue } from "../../errors/index.js";
import { type FileSystem, type FsyncPolicy, nodeFileSystem } from "../../engine/index.js";
import type { Counter, MetricsRegistry } from "../../observability/index.js";
import { type Clock, type Timer, systemClock } from "../../time/index.js";
import { PerKeySerializer } from "../per-key-serializer.js";
import type { QueueService } from "../queues/index.js";
import { newMessageId } from "../queues/message-id.js";
import { parseDeliveryPolicy, parseRedrivePolicy } from "./delivery-policy.js";
import { DurableTopic, type TopicDefinition, sequenceNumberOf } from "./durable-topic.js";
import { confirmationEnvelope } from "./envelope.js";
import { parseFilterPolicy } from "./filter-policy.js";
import { type HttpPoster, fetchPoster } from "./http-poster.js";
import { JsonCatalog } from "./json-catalog.js";
import { MAX_PUBLISH_BYTES, checkPublish } from "./message-validation.js";
import type { PublishedMessage } from "./published-message.js";
import { PubSubError, invalidParameter } from "./pubsub-error.js";
import { defaultTopicPolicy, effectiveDeliveryPolicy } from "./topic-defaults.js";
import { checkTagKeys, checkTags, withTags } from "./topic-tags.js";
import type {
  CreateSnsTopicInput,
  NotificationHandler,
  PubSubTag,
  PubSubService,
  PublishBatchErrorEntry,
  PublishBatchRequestEntry,
  PublishBatchResult,
  PublishBatchResultEntry,
  PublishInput,
  PublishResult,
  SubscribeInput,
  Subscription,
  SubscriptionAttributes,
  SubscriptionProtocol,
  WritableSubscriptionAttributeName,
  WritableTopicAttributeName,
} from "./pubsub-service.js";
import { type SubscriptionRecord, SubscriptionDelivery } from "./subscription-delivery.js";
import { type PubSubAddressing, TopicAddresses, checkTopicName } from "./topic-address.js";

export interface EmbeddedPubSubOptions extends PubSubAddressing {
  /** Where `sqs` subscriptions and dead-letter queues deliver. */
  readonly queues?: QueueService;
  readonly clock?: Clock;
  readonly metrics?: MetricsRegistry;
  /** Durability of publishes (default: fsync every 50 ms). */
  readonly fsync?: FsyncPolicy;
  readonly fs?: FileSystem;
  /** How HTTP(S) deliveries are sent (default: `fetch` with a 15 s timeout). */
  readonly http?: HttpPoster;
  /** Randomness of retry jitter (inject a seeded one for reproducible runs). */
  readonly random?: () => number;
  /** How often delivery cursors are saved and delivered messages trimmed (default 200 ms). */
  readonly checkpointIntervalMs?: number;
}

type CatalogEntry =
  | { readonly kind: "topic"; readonly topic: TopicDefinition }
  | { readonly kind: "subscription"; readonly subscription: SubscriptionRecord };

const isCatalogEntry = (v: unknown): v is CatalogEntry =>
  v !== null &&
  typeof v === "object" &&
  (((v as { kind?: unknown }).kind === "topic" &&
    typeof (v as { topic?: unknown }).topic === "object") ||
    ((v as { kind?: unknown }).kind === "subscription" &&
      typeof (v as { subscription?: unknown }).subscription === "object"));
const isOffset = (v: unknown): v is number => Number.isSafeInteger(v);

const PROTOCOLS: readonly SubscriptionProtocol[] = ["sqs", "http", "https", "handler", "sns"];
const SUBSCRIPTION_ATTRIBUTES: readonly WritableSubscriptionAttributeName[] = [
  "FilterPolicy",
  "FilterPolicyScope",
  "RawMessageDelivery",
  "RedrivePolicy",
  "DeliveryPolicy",
];
const MAX_BATCH_ENTRIES = 10;
const TOPIC_ATTRIBUTES: readonly WritableTopicAttributeName[] = [
  "DisplayName",
  "FifoTopic",
  "ContentBasedDeduplication",
  "DeliveryPolicy",
  "Policy",
];
/** SNS's limit on an access policy document. */
const MAX_POLICY_CHARS = 30 * 1024;

/** An access policy is stored and returned, not enforced: it must be a JSON object. */
function checkPolicy(value: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw invalidParameter("Attributes.Policy", "the policy must be a JSON object");
  if (value.length > MAX_POLICY_CHARS)
    throw invalidParameter("Attributes.Policy", `at most ${MAX_POLICY_CHARS} characters`);
}

/** Whether `value` is an array (without narrowing it to any[]). */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

/** Runs a synchronous call so that its errors reject the promise instead of throwing. */
function settled<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(asError(error));
  }
}
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;
const PAGE = 100;

/**
 * SNS-semantics topics embedded in the process, durable on local disk: each topic is one engine
 * log of published messages; every subscription delivers from it at its own cursor (saved
 * every checkpoint), so a publish is acknowledged once durable and delivered at least once,
 * after a crash too. Topics and subscriptions live in a catalog log.
 */
export class EmbeddedPubSubService implements PubSubService {
  private readonly topics = new Map<string, DurableTopic>();
  private readonly subscriptionEdits = new PerKeySerializer();
  /** Subscribes and deletes of a topic, by topic name (see `subscribe`). */
  private readonly topicEdits = new PerKeySerializer();
  /** Topics being created, by name (see `createTopic`). */
  private readonly topicsCreated = new Map<string, Promise<void>>();
  private readonly subscriptions = new Map<string, SubscriptionDelivery>();
  private readonly handlers = new Map<string, NotificationHandler>();
  private readonly confirmations = new Set<Promise<unknown>>();
  private readonly published: Counter | undefined;
  private checkpointTimer: Timer | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  private closed = false;
  readonly addresses: TopicAddresses;

  private constructor(
    private readonly dir: string,
    private readonly catalog: JsonCatalog<CatalogEntry>,
    private readonly cursors: JsonCatalog<number>,
    private readonly options: EmbeddedPubSubOptions,
    private readonly clock: Clock,
    private readonly fs: FileSystem,
  ) {
    this.addresses = new TopicAddresses(options);
    this.published = options.metrics?.counter(
      "sluice_pubsub_published_total",
      "Messages published to topics.",
    );
  }

  /** Opens (creating if needed) the topics stored in `dir`; deliveries resume where they were. */
  static async open(
    dir: string,
    options: EmbeddedPubSubOptions = {},
  ): Promise<EmbeddedPubSubService> {
    const clock = options.clock ?? systemClock;
    const fs = options.fs ?? nodeFileSystem;
    if (!fs.exists(dir)) fs.mkdir(dir);
    const base = {
      clock,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    };
    const catalog = await JsonCatalog.open(
      join(dir, "catalog"),
      { ...base, fsync: "always", name: "catalog/pubsub" },
      isCatalogEntry,
    );
    const cursors = await JsonCatalog.open(
      join(dir, "cursors"),
      { ...base, fsync: "always", name: "cursors/pubsub" },
      isOffset,
    );
    const service = new EmbeddedPubSubService(dir, catalog, cursors, options, clock, fs);
    try {
      const topicsDir = join(dir, "topics");
      if (!fs.exists(topicsDir)) fs.mkdir(topicsDir);
      const entries = [...catalog.entries.values()];
      const wanted = new Set<string>();
      for (const entry of entries)
        if (entry.kind === "topic") {
          wanted.add(entry.topic.uid);
          service.topics.set(entry.topic.name, await service.openTopic(entry.topic));
        }
      for (const leftover of fs.list(topicsDir).filter((d) => !wanted.has(d)))
        await fs.removeDir(join(topicsDir, leftover));
      for (const entry of entries) {
        if (entry.kind !== "subscription") continue;
        // Left by a subscribe that raced its topic's delete in an earlier release (they now
        // run one at a time): the topic is gone, so is the subscription.
        if (!service.topics.has(entry.subscription.topic))
          await catalog.delete(`sub:${entry.subscription.id}`);
        else service.startDelivery(entry.subscription);
      }
      service.scheduleCheckpoint();
    } catch (error) {
      await service.close();
      throw error;
    }
    return service;
  }

  private openTopic(definition: TopicDefinition): Promise<DurableTopic> {
    return DurableTopic.open(join(this.dir, "topics", definition.uid), definition, {
      clock: this.clock,
      fsync: this.options.fsync ?? { intervalMs: 50 },
      ...(this.options.fs === undefined ? {} : { fs: this.options.fs }),
      ...(this.options.metrics === undefined ? {} : { metrics: this.options.metrics }),
    });
  }

  private startDelivery(
    record: SubscriptionRecord,
    cursor = this.cursors.get(record.id) ?? record.startOffset,
  ): SubscriptionDelivery {
    const topic = this.topics.get(record.topic);
    if (topic === undefined)
      throw new SluiceError(
        "SLUICE_CORRUPT",
        `subscription ${record.id} names a missing topic ${record.topic}`,
      );
    const delivery = new SubscriptionDelivery(
      record,
      this.addresses.subscriptionArn(record.topic, record.id),
      topic,
      {
        clock: this.clock,
        queues: this.options.queues,
        addresses: this.addresses,
        handlers: this.handlers,
        http: this.options.http ?? fetchPoster(this.clock),
        publish: (input) => this.publish(input),
        metrics: this.options.metrics,
        random: this.options.random,
      },
      cursor,
    );
    this.subscriptions.set(record.id, delivery);
    delivery.start();
    return delivery;
  }

  // ---------------------------------------------------------------- checkpoints

  private scheduleCheckpoint(): void {
    if (this.closed) return;
    this.checkpointTimer = this.clock.setTimer(this.options.checkpointIntervalMs ?? 200, () => {
      this.checkpointing = this.checkpoint()
        .catch(() => undefined)
        .finally(() => this.scheduleCheckpoint());
    });
  }

  /** Saves delivery cursors, then drops messages every subscription of a topic has passed. */
  async checkpoint(): Promise<void> {
    const saves: Promise<void>[] = [];
    for (const [id, delivery] of this.subscriptions)
      if (this.cursors.get(id) !== delivery.cursor)
        saves.push(this.cursors.put(id, delivery.cursor));
    await Promise.all(saves);
    for (const [name, topic] of this.topics) {
      let low = topic.endOffset;
      for (const [id, delivery] of this.subscriptions)
        if (delivery.record.topic === name)
          low = Math.min(low, this.cursors.get(id) ?? delivery.record.startOffset);
      if (!this.closed) await topic.trimBefore(low);
    }
  }

  // ---------------------------------------------------------------- topics

  private ensureOpen(): void {
    if (this.closed) throw new SluiceError("SLUICE_CLOSED", "the pub/sub service is closed");
  }

  private topicOf(arn: unknown, field = "TopicArn"): DurableTopic {
    this.ensureOpen();
    const name = this.addresses.topicName(arn);
    if (name === undefined) throw invalidParameter(field, `not a topic ARN: ${describeValue(arn)}`);
    const topic = this.topics.get(name);
    if (topic === undefined)
      throw new PubSubError("NotFound", `Topic does not exist: ${String(arn)}`, field);
    return topic;
  }

  async createTopic(input: CreateSnsTopicInput): Promise<{ TopicArn: string }> {
    this.ensureOpen();
    const name = checkTopicName(input?.Name);
    const fifo = name.endsWith(".fifo");
    const requested = { ...(input.Attributes ?? {}) };
    if ((requested.FifoTopic === "true") !== fifo)
      throw invalidParameter(
        "Attributes",
        fifo
          ? "Fifo Topic names must end with .fifo and FifoTopic must be true"
          : "Fifo Topic names must end with .fifo",
      );
    this.checkTopicAttributes(requested, fifo);
    const attributes: Record<string, string> = { DisplayName: "", ...requested };
    if (fifo) attributes.ContentBasedDeduplication ??= "false";
    const tags = withTags({}, input.Tags === undefined ? [] : checkTags(input.Tags));
    // A create of this name under way: once it is done, this one finds its topic. (No await
    // otherwise: the check and the claim below are made in one turn.)
    const underWay = this.topicsCreated.get(name);
    if (underWay !== undefined) {
      await underWay.catch(() => undefined);
      return this.createTopic(input);
    }
    const existing = this.topics.get(name);
    if (existing !== undefined) {
      const current = existing.definition.attributes;
      if (Object.entries(requested).some(([k, v]) => current[k] !== v))
        throw invalidParameter("Attributes", `Topic already exists with different attributes`);
      const currentTags = existing.definition.tags;
      if (Object.entries(tags).some(([k, v]) => currentTags[k] !== v))
        throw invalidParameter("Tags", "Topic already exists with different tags");
      return { TopicArn: this.addresses.topicArn(name) };
    }
    const definition: TopicDefinition = {
      name,
      uid: randomBytes(8).toString("hex"),
      attributes,
      tags,
      createdMs: this.clock.now(),
    };
    const creation = (async () => {
      // In the catalog before anyone can publish to it: a topic that could not be stored never
      // takes a message a restart would then lose with it.
      await this.catalog.put(`topic:${name}`, { kind: "topic", topic: definition });
      try {
        this.topics.set(name, await this.openTopic(definition));
      } catch (error) {
        await this.catalog.delete(`topic:${name}`).catch(() => undefined);
        throw error;
      }
    })();
    this.topicsCreated.set(name, creation);
    try {
      await creation;
    } finally {
      this.topicsCreated.delete(name);
    }
    return { TopicArn: this.addresses.topicArn(name) };
  }

  private checkTopicAttributes(
    attributes: Record<string, string | undefined>,
    fifo: boolean,
  ): void {
    for (const [key, value] of Object.entries(attributes)) {
      if (!TOPIC_ATTRIBUTES.includes(key as WritableTopicAttributeName))
        throw invalidParameter(`Attributes.${key}`, "unknown or read-only attribute");
      if (typeof value !== "string")
        throw invalidParameter(`Attributes.${key}`, "must be a string");
      if (key === "ContentBasedDeduplication" && (!fifo || !["true", "false"].includes(value)))
        throw invalidParameter(
          `Attributes.${key}`,
          "ContentBasedDeduplication is true or false, on FIFO topics only",
        );
      if (key === "DisplayName" && value.length > 100)
        throw invalidParameter(`Attributes.${key}`, "at most 100 characters");
      if (key === "DeliveryPolicy") parseDeliveryPolicy(value);
      if (key === "Policy") checkPolicy(value);
    }
  }

  async deleteTopic(input: { TopicArn: string }): Promise<void> {
    this.ensureOpen();
    const name = this.addresses.topicName(input?.TopicArn);
    if (name === undefined) throw invalidParameter("TopicArn", "not a topic ARN");
    await this.topicEdits.run(name, async () => {
      const topic = this.topics.get(name);
      if (topic === undefined) return;
      for (const [id, delivery] of [...this.subscriptions])
        if (delivery.record.topic === name) await this.removeSubscription(id);
      // Gone from the catalog first: if that fails the topic is still here, for a retry.
      await this.catalog.delete(`topic:${name}`);
      this.topics.delete(name);
      await topic.close();
      await this.fs.removeDir(join(this.dir, "topics", topic.definition.uid));
    });
  }

  listTopics(
    input: { NextToken?: string } = {},
  ): Promise<{ Topics: { TopicArn: string }[]; NextToken?: string }> {
    return settled(() => this.listTopicsNow(input ?? invalidRequest()));
  }

  private listTopicsNow(input: { NextToken?: string }): {
    Topics: { TopicArn: string }[];
    NextToken?: string;
  } {
    this.ensureOpen();
    const names = [...this.topics.keys()].sort();
    const start = pageStart(input.NextToken, "listTopics");
    const page = names.slice(start, start + PAGE);
    return {
      Topics: page.map((n) => ({ TopicArn: this.addresses.topicArn(n) })),
      ...(start + PAGE < names.length ? { NextToken: String(start + PAGE) } : {}),
    };
  }

  getTopicAttributes(input: { TopicArn: string }): Promise<{ Attributes: Record<string, string> }> {
    return settled(() => this.topicAttributes(input));
  }

  private topicAttributes(input: { TopicArn: string }): { Attributes: Record<string, string> } {
    const topic = this.topicOf(input?.TopicArn);
    const name = topic.definition.name;
    let confirmed = 0;
    let pending = 0;
    for (const d of this.subscriptions.values())
      if (d.record.topic === name) {
        if (d.record.confirmed) confirmed++;
        else pending++;
      }
    const topicArn = this.addresses.topicArn(name);
    const attributes = topic.definition.attributes;
    return {
      Attributes: {
        ...attributes,
        // SNS answers its defaults when none was set (the policy is stored, not enforced).
        Policy: attributes.Policy ?? defaultTopicPolicy(topicArn, this.addresses.accountId),
        EffectiveDeliveryPolicy: effectiveDeliveryPolicy(attributes.DeliveryPolicy),
        TopicArn: topicArn,
        Owner: this.addresses.accountId,
        SubscriptionsConfirmed: String(confirmed),
        SubscriptionsPending: String(pending),
        SubscriptionsDeleted: String(topic.definition.subscriptionsDeleted ?? 0),
      },
    };
  }

  async setTopicAttributes(input: {
    TopicArn: string;
    AttributeName: WritableTopicAttributeName;
    AttributeValue: string;
  }): Promise<void> {
    const topic = this.topicOf(input?.TopicArn);
    if (input.AttributeName === "FifoTopic")
      throw invalidParameter("AttributeName", "FifoTopic cannot be changed");
    this.checkTopicAttributes({ [input.AttributeName]: input.AttributeValue }, topic.isFifo);
    const attributes = topic.definition.attributes;
    const name = input.AttributeName;
    const before = attributes[name];
    attributes[name] = input.AttributeValue;
    try {
      await this.catalog.put(`topic:${topic.definition.name}`, {
        kind: "topic",
        topic: topic.definition,
      });
    } catch (error) {
      // Not stored: the topic keeps the value it had, unless a later change replaced this one.
      if (attributes[name] === input.AttributeValue)
        if (before === undefined) delete attributes[name];
        else attributes[name] = before;
      throw error;
    }
  }

  // ---------------------------------------------------------------- tags

  /** The topic a tagging call names; SNS answers ResourceNotFound for a missing one. */
  private taggedTopic(arn: unknown): DurableTopic {
    this.ensureOpen();
    const name = this.addresses.topicName(arn);
    if (name === undefined)
      throw invalidParameter("ResourceArn", `not a topic ARN: ${describeValue(arn)}`);
    const topic = this.topics.get(name);
    if (topic === undefined)
      throw new PubSubError(
        "ResourceNotFound",
        `Resource does not exist: ${String(arn)}`,
        "ResourceArn",
      );
    return topic;
  }

  /**
   * Replaces a topic's tags and saves its definition (tags survive a restart, as attributes
   * do). Applied in memory first, in the turn the new tags were made from the current ones, so
   * concurrent tag calls each build on the last and are saved in that order: none is lost.
   */
  private async saveTags(topic: DurableTopic, tags: Record<string, string>): Promise<void> {
    const current = topic.definition.tags;
    const before = { ...current };
    const replace = (next: Record<string, string>): void => {
      for (const key of Object.keys(current)) delete current[key];
      Object.assign(current, next);
    };
    replace(tags);
    const definition: TopicDefinition = { ...topic.definition, tags: { ...tags } };
    try {
      await this.catalog.put(`topic:${definition.name}`, { kind: "topic", topic: definition });
    } catch (error) {
      // Not stored: the topic keeps the tags it had, unless a later change replaced these.
      if (sameTags(current, tags)) replace(before);
      throw error;
    }
  }

  async tagResource(input: { ResourceArn: string; Tags: readonly PubSubTag[] }): Promise<void> {
    const topic = this.taggedTopic(input?.ResourceArn);
    const tags = checkTags(input.Tags);
    if (tags.length === 0) throw invalidParameter("Tags", "at least one tag");
    await this.saveTags(topic, withTags(topic.definition.tags, tags));
  }

  async untagResource(input: { ResourceArn: string; TagKeys: readonly string[] }): Promise<void> {
    const topic = this.taggedTopic(input?.ResourceArn);
    const keys = checkTagKeys(input.TagKeys);
    const tags = { ...topic.definition.tags };
    for (const key of keys) delete tags[key];
    await this.saveTags(topic, tags);
  }

  listTagsForResource(input: { ResourceArn: string }): Promise<{ Tags: PubSubTag[] }> {
    return settled(() => ({
      Tags: Object.entries(this.taggedTopic(input?.ResourceArn).definition.tags).map(
        ([Key, Value]) => ({ Key, Value }),
      ),
    }));
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Subscribes, one call at a time per topic (and never during the topic's delete): a second
   * identical subscribe made at once finds the first's subscription instead of making another,
   * and none is left naming a deleted topic.
   */
  subscribe(input: SubscribeInput): Promise<{ SubscriptionArn: string }> {
    const name = this.topicOf(input?.TopicArn).definition.name;
    return this.topicEdits.run(name, () => this.subscribeNow(input));
  }

  private async subscribeNow(input: SubscribeInput): Promise<{ SubscriptionArn: string }> {
    const topic = this.topicOf(input.TopicArn);
    const protocol = input.Protocol;
    if (!PROTOCOLS.includes(protocol))
      throw invalidParameter(
        "Protocol",
        `expected one of ${PROTOCOLS.join(", ")}, got ${describeValue(protocol)}`,
      );
    const endpoint = input.Endpoint;
    this.checkEndpoint(protocol, endpoint, topic.isFifo);
    const attributes = this.checkSubscriptionAttributes(input.Attributes ?? {}, protocol);
    const name = topic.definition.name;
    for (const d of this.subscriptions.values())
      if (
        d.record.topic === name &&
        d.record.protocol === protocol &&
        d.record.endpoint === endpoint
      ) {
        if (
          JSON.stringify(d.record.attributes) !==
          JSON.stringify({ ...d.record.attributes, ...attributes })
        )
          throw invalidParameter(
            "Attributes",
            "Subscription already exists with different attributes",
          );
        return {
          SubscriptionArn:
            d.record.confirmed || input.ReturnSubscriptionArn === true
              ? d.arn
              : "pending confirmation",
        };
      }
    const needsConfirmation = protocol === "http" || protocol === "https";
    const record: SubscriptionRecord = {
      id: randomUUID(),
      topic: name,
      protocol,
      endpoint,
      attributes,
      confirmed: !needsConfirmation,
      ...(needsConfirmation ? { token: randomBytes(64).toString("hex") } : {}),
      startOffset: topic.endOffset,
    };
    await this.catalog.put(`sub:${record.id}`, { kind: "subscription", subscription: record });
    const delivery = this.startDelivery(record);
    if (!needsConfirmation || input.ReturnSubscriptionArn === true) {
      if (needsConfirmation) this.sendConfirmation(delivery);
      return { SubscriptionArn: delivery.arn };
    }
    this.sendConfirmation(delivery);
    return { SubscriptionArn: "pending confirmation" };
  }

  /** SNS sends the confirmation request in the background; a failure leaves it pending. */
  private sendConfirmation(delivery: SubscriptionDelivery): void {
    const record = delivery.record;
    const topicArn = this.addresses.topicArn(record.topic);
    const messageId = randomUUID();
    const http = this.options.http ?? fetchPoster(this.clock);
    const sent = http
      .post(
        record.endpoint,
        {
          "content-type": "text/plain; charset=UTF-8",
          "x-amz-sns-message-type": "SubscriptionConfirmation",
          "x-amz-sns-message-id": messageId,
          "x-amz-sns-topic-arn": topicArn,
        },
        confirmationEnvelope({
          messageId,
          token: record.token!,
          topicArn,
          subscribeUrl: this.addresses.subscribeUrl(topicArn, record.token!),
          timestamp: this.clock.now(),
        }),
      )
      .catch(() => undefined);
    this.confirmations.add(sent);
    void sent.finally(() => this.confirmations.delete(sent));
  }

  private checkEndpoint(
    protocol: SubscriptionProtocol,
    endpoint: unknown,
    fifoTopic: boolean,
  ): void {
    const bad = (reason: string): never => {
      throw invalidParameter("Endpoint", reason);
    };
    if (typeof endpoint !== "string" || endpoint === "") bad("must be a non-empty string");
    const text = endpoint as string;
    if (protocol === "sqs" && !/^arn:aws:sqs:[^:]+:[^:]+:[A-Za-z0-9_.-]+$/.test(text))
      bad("SQS endpoint ARN");
    if (protocol === "http" && !/^http:\/\/[^/]/.test(text)) bad("Must start with http://");
    if (protocol === "https" && !/^https:\/\/[^/]/.test(text)) bad("Must start with https://");
    if (protocol === "sns" && this.addresses.topicName(text) === undefined)
      bad("must be a topic ARN");
    if (fifoTopic && protocol !== "sqs" && protocol !== "sns" && protocol !== "handler")
      bad(`FIFO topics deliver to SQS queues (and handlers), not ${protocol}`);
    if (protocol === "sqs" && text.endsWith(".fifo") && !fifoTopic)
      bad("FIFO SQS Queues can not be subscribed to standard SNS topics");
  }

  private checkSubscriptionAttributes(
    attributes: SubscriptionAttributes,
    protocol: SubscriptionProtocol,
  ): SubscriptionAttributes {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (!SUBSCRIPTION_ATTRIBUTES.includes(key as WritableSubscriptionAttributeName))
        throw invalidParameter(`Attributes.${key}`, "unknown or read-only attribute");
      if (typeof value !== "string")
        throw invalidParameter(`Attributes.${key}`, "must be a string");
      out[key] = value;
    }
    const scope = out.FilterPolicyScope ?? "MessageAttributes";
    if (scope !== "MessageAttributes" && scope !== "MessageBody")
      throw invalidParameter(
        "FilterPolicyScope",
        `Invalid value [${scope}]. Please use either MessageBody or MessageAttributes`,
      );
    if (out.FilterPolicy !== undefined && out.FilterPolicy !== "")
      parseFilterPolicy(out.FilterPolicy, scope);
    if (out.RawMessageDelivery !== undefined) {
      if (!["true", "false"].includes(out.RawMessageDelivery))
        throw invalidParameter("RawMessageDelivery", "true or false");
      if (out.RawMessageDelivery === "true" && !["sqs", "http", "https", "sns"].includes(protocol))
        throw invalidParameter("RawMessageDelivery", `not available for ${protocol} subscriptions`);
    }
    if (out.RedrivePolicy !== undefined) parseRedrivePolicy(out.RedrivePolicy);
    if (out.DeliveryPolicy !== undefined) parseDeliveryPolicy(out.DeliveryPolicy);
    return out;
  }

  async confirmSubscription(input: {
    TopicArn: string;
    Token: string;
  }): Promise<{ SubscriptionArn: string }> {
    const topic = this.topicOf(input?.TopicArn);
    for (const [id, d] of this.subscriptions)
      if (d.record.topic === topic.definition.name && d.record.token === input.Token) {
        await this.editSubscription(id, async () => {
          // As it is now: a confirmation or an unsubscribe may have come first.
          const current = this.subscriptions.get(id);
          if (current === undefined || current.record.confirmed) return;
          const { token: _token, ...rest } = current.record;
          await this.replaceDelivery(
            id,
            { ...rest, confirmed: true, startOffset: topic.endOffset },
            topic.endOffset,
          );
        });
        return { SubscriptionArn: d.arn };
      }
    throw invalidParameter("Token", "Invalid token");
  }

  /**
   * Runs a change of one subscription after the changes of it before this one, so each starts
   * from what the last stored: two never both replace its delivery (two loops delivering every
   * message twice), and an unsubscribe is never undone by a change that began before it.
   */
  private editSubscription<T>(id: string, edit: () => Promise<T>): Promise<T> {
    return this.subscriptionEdits.run(id, edit);
  }

  private async replaceDelivery(
    id: string,
    record: SubscriptionRecord,
    cursor?: number,
  ): Promise<void> {
    const old = this.subscriptions.get(id);
    await old?.stop();
    const at = cursor ?? old?.cursor ?? record.startOffset;
    try {
      await this.catalog.put(`sub:${id}`, { kind: "subscription", subscription: record });
    } catch (error) {
      // Not stored: the subscription goes on as it was, from where it stopped.
      if (old !== undefined && !this.closed) this.startDelivery(old.record, old.cursor);
      throw error;
    }
    await this.cursors.put(id, at);
    this.ensureOpen(); // closed meanwhile: the next open starts it, not a loop nothing stops
    this.startDelivery(record);
  }

  /** Removes the subscription; false when it was gone already. */
  private removeSubscription(id: string): Promise<boolean> {
    return this.editSubscription(id, async () => {
      const delivery = this.subscriptions.get(id);
      if (delivery === undefined) return false;
      // Gone from the catalog first: if that fails the subscription is still here, for a retry.
      await this.catalog.delete(`sub:${id}`);
      this.subscriptions.delete(id);
      await delivery.stop();
      await this.cursors.delete(id);
      return true;
    });
  }

  private subscriptionOf(arn: unknown): SubscriptionDelivery {
    this.ensureOpen();
    const parts = this.addresses.subscriptionParts(arn);
    const delivery = parts === undefined ? undefined : this.subscriptions.get(parts.id);
    if (delivery === undefined)
      throw new PubSubError(
        "NotFound",
        `Subscription does not exist: ${String(arn)}`,
        "SubscriptionArn",
      );
    return delivery;
  }

  async unsubscribe(input: { SubscriptionArn: string }): Promise<void> {
    this.ensureOpen();
    const parts = this.addresses.subscriptionParts(input?.SubscriptionArn);
    if (parts === undefined) throw invalidParameter("SubscriptionArn", "not a subscription ARN");
    const topic = this.topics.get(this.subscriptions.get(parts.id)?.record.topic ?? "");
    // Counted by the call that removed it, once; a topic deleted meanwhile is not written back.
    if (!(await this.removeSubscription(parts.id))) return;
    if (topic === undefined || this.topics.get(topic.definition.name) !== topic) return;
    topic.definition.subscriptionsDeleted = (topic.definition.subscriptionsDeleted ?? 0) + 1;
    await this.catalog.put(`topic:${topic.definition.name}`, {
      kind: "topic",
      topic: topic.definition,
    });
  }

  listSubscriptionsByTopic(input: { TopicArn: string; NextToken?: string }): Promise<{
    Subscriptions: Subscription[];
    NextToken?: string;
  }> {
    return settled(() => this.subscriptionsOf(input));
  }

  private subscriptionsOf(input: { TopicArn: string; NextToken?: string }): {
    Subscriptions: Subscription[];
    NextToken?: string;
  } {
    const topic = this.topicOf(input?.TopicArn);
    const all = [...this.subscriptions.values()]
      .filter((d) => d.record.topic === topic.definition.name)
      .map((d) => ({
        SubscriptionArn: d.record.confirmed ? d.arn : "PendingConfirmation",
        TopicArn: this.addresses.topicArn(d.record.topic),
        Protocol: d.record.protocol,
        Endpoint: d.record.endpoint,
        Owner: this.addresses.accountId,
      }));
    const start = pageStart(input.NextToken, "listSubscriptionsByTopic");
    return {
      Subscriptions: all.slice(start, start + PAGE),
      ...(start + PAGE < all.length ? { NextToken: String(start + PAGE) } : {}),
    };
  }

  getSubscriptionAttributes(input: {
    SubscriptionArn: string;
  }): Promise<{ Attributes: Record<string, string> }> {
    return settled(() => this.subscriptionAttributes(input));
  }

  private subscriptionAttributes(input: { SubscriptionArn: string }): {
    Attributes: Record<string, string>;
  } {
    const d = this.subscriptionOf(input?.SubscriptionArn);
    const r = d.record;
    return {
      Attributes: {
        RawMessageDelivery: "false",
        ...(r.attributes.FilterPolicy !== undefined
          ? { FilterPolicyScope: "MessageAttributes" }
          : {}),
        ...r.attributes,
        SubscriptionArn: d.arn,
        TopicArn: this.addresses.topicArn(r.topic),
        Protocol: r.protocol,
        Endpoint: r.endpoint,
        Owner: this.addresses.accountId,
        PendingConfirmation: String(!r.confirmed),
        ConfirmationWasAuthenticated: String(r.confirmed),
      },
    };
  }

  async setSubscriptionAttributes(input: {
    SubscriptionArn: string;
    AttributeName: WritableSubscriptionAttributeName;
    AttributeValue: string;
  }): Promise<void> {
    const { id } = this.subscriptionOf(input?.SubscriptionArn).record;
    await this.editSubscription(id, async () => {
      const d = this.subscriptionOf(input.SubscriptionArn);
      const merged: Record<string, string> = {
        ...d.record.attributes,
        [input.AttributeName]: input.AttributeValue,
      };
      if (input.AttributeValue === "" && input.AttributeName !== "FilterPolicy")
        delete merged[input.AttributeName];
      if (input.AttributeName === "FilterPolicy" && input.AttributeValue === "")
        delete merged.FilterPolicy;
      const attributes = this.checkSubscriptionAttributes(merged, d.record.protocol);
      await this.replaceDelivery(id, { ...d.record, attributes });
    });
  }

  registerHandler(name: string, handler: NotificationHandler): void {
    if (typeof name !== "string" || name === "")
      throw invalidParameter("name", "a non-empty handler name");
    this.handlers.set(name, handler);
  }

  // ---------------------------------------------------------------- publishing

  private prepare(topic: DurableTopic, input: Omit<PublishInput, "TopicArn">): PublishedMessage {
    const fifo = topic.isFifo;
    checkPublish(
      input as PublishInput,
      fifo,
      topic.definition.attributes.ContentBasedDeduplication === "true",
    );
    return {
      // A random UUID, as randomUUID gives, formatted a draw at a time (for every publish).
      MessageId: newMessageId(),
      Message: input.Message,
      ...(input.MessageStructure === undefined ? {} : { MessageStructure: input.MessageStructure }),
      ...(input.Subject === undefined ? {} : { Subject: input.Subject }),
      MessageAttributes: input.MessageAttributes ?? {},
      timestamp: this.clock.now(),
      ...(fifo
        ? {
            MessageGroupId: input.MessageGroupId!,
            MessageDeduplicationId: DurableTopic.deduplicationId(input),
          }
        : {}),
    };
  }

  async publish(input: PublishInput): Promise<PublishResult> {
    const topic = this.topicOf(input?.TopicArn);
    const message = this.prepare(topic, input);
    const [stored] = await topic.append([message]);
    this.published?.inc();
    return {
      MessageId: stored!.MessageId,
      ...(topic.isFifo ? { SequenceNumber: sequenceNumberOf(stored!.offset) } : {}),
    };
  }

  async publishBatch(input: {
    TopicArn: string;
    PublishBatchRequestEntries: readonly PublishBatchRequestEntry[];
  }): Promise<PublishBatchResult> {
    const topic = this.topicOf(input?.TopicArn);
    const entries = input.PublishBatchRequestEntries;
    if (!isList(entries) || entries.length === 0)
      throw new PubSubError(
        "EmptyBatchRequest",
        "The batch request doesn't contain any entries",
        "PublishBatchRequestEntries",
      );
    if (entries.length > MAX_BATCH_ENTRIES)
      throw new PubSubError(
        "TooManyEntriesInBatchRequest",
        `The batch request contains more entries than permissible (${entries.length} > ${MAX_BATCH_ENTRIES})`,
        "PublishBatchRequestEntries",
      );
    const ids = new Set<string>();
    for (const entry of entries) {
      if (typeof entry?.Id !== "string" || !BATCH_ID.test(entry.Id))
        throw new PubSubError(
          "InvalidBatchEntryId",
          `The Id of a batch entry in a batch request doesn't abide by the specification: ${describeValue(entry?.Id)}`,
          "Id",
        );
      if (ids.has(entry.Id))
        throw new PubSubError(
          "BatchEntryIdsNotDistinct",
          `Two or more batch entries in the request have the same Id: ${entry.Id}`,
          "Id",
        );
      ids.add(entry.Id);
    }
    const failed: PublishBatchErrorEntry[] = [];
    const accepted: { id: string; message: PublishedMessage }[] = [];
    let totalBytes = 0;
    for (const entry of entries) {
      try {
        const { Id, ...rest } = entry;
        const message = this.prepare(topic, rest);
        totalBytes += Buffer.byteLength(message.Message, "utf8");
        accepted.push({ id: Id, message });
      } catch (error) {
        if (!(error instanceof SluiceError)) throw error;
        failed.push({
          Id: entry.Id,
          Code: error instanceof PubSubError ? error.snsError : "InvalidParameter",
          Message: error.message,
          SenderFault: true,
        });
      }
    }
    if (totalBytes > MAX_PUBLISH_BYTES)
      throw new PubSubError(
        "BatchRequestTooLong",
        `The length of all the messages put together is more than the limit (${totalBytes} > ${MAX_PUBLISH_BYTES} bytes)`,
        "PublishBatchRequestEntries",
      );
    const successful: PublishBatchResultEntry[] = [];
    if (accepted.length > 0) {
      const stored = await topic.append(accepted.map((a) => a.message));
      this.published?.inc(accepted.length);
      stored.forEach((s, i) =>
        successful.push({
          Id: accepted[i]!.id,
          MessageId: s.MessageId,
          ...(topic.isFifo ? { SequenceNumber: sequenceNumberOf(s.offset) } : {}),
        }),
      );
    }
    return { Successful: successful, Failed: failed };
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.checkpointTimer?.cancel();
    await this.checkpointing;
    await Promise.all([...this.subscriptions.values()].map((d) => d.stop()));
    await Promise.all([...this.confirmations]);
    await this.checkpoint().catch(() => undefined);
    for (const topic of this.topics.values()) await topic.close();
    await this.catalog.close();
    await this.cursors.close();
  }

  /** Simulates a crash: drops everything in memory without saving cursors (tests only). */
  async kill(): Promise<void> {
    this.closed = true;
    this.checkpointTimer?.cancel();
    await Promise.all([...this.subscriptions.values()].map((d) => d.stop()));
    for (const topic of this.topics.values()) topic.kill();
    await this.catalog.close();
    await this.cursors.close();
  }
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Where a page of a list starts: 0, or the offset a NextToken from `listing` carries. */
function pageStart(token: unknown, listing: string): number {
  if (token === undefined) return 0;
  const start = typeof token === "string" && /^\d{1,15}$/.test(token) ? Number(token) : -1;
  if (start < 0) throw invalidParameter("NextToken", `not a token from ${listing}`);
  return start;
}

/** The error for a request that is not an object (null, from plain JavaScript). */
function invalidRequest(): never {
  throw invalidParameter("request", "an object of request parameters");
}
