import { SluiceError, type ErrorCode } from "../errors/index.js";
import {
  type CreateSnsTopicInput,
  type Notification,
  type NotificationHandler,
  type PubSubMessageAttributes,
  PubSubError,
  type PubSubErrorName,
  type PubSubService,
  type PubSubTag,
  type PublishBatchRequestEntry,
  type PublishBatchResult,
  type PublishInput,
  type PublishResult,
  type SubscribeInput,
  type Subscription,
  type WritableSubscriptionAttributeName,
  type WritableTopicAttributeName,
  notificationFromJson,
} from "../messaging/pubsub/index.js";
import type { HttpCall, HttpTransport, RemoteError } from "./http-transport.js";
import { RemoteHandlers } from "./remote-handlers.js";

const PUBSUB_ERRORS = new Set<string>([
  "InvalidParameter",
  "InvalidParameterValue",
  "NotFound",
  "ResourceNotFound",
  "TagLimitExceeded",
  "AuthorizationError",
  "FilterPolicyLimitExceeded",
  "SubscriptionLimitExceeded",
  "TooManyEntriesInBatchRequest",
  "BatchEntryIdsNotDistinct",
  "EmptyBatchRequest",
  "InvalidBatchEntryId",
  "BatchRequestTooLong",
] satisfies PubSubErrorName[]);

function toError(error: RemoteError): Error {
  if (PUBSUB_ERRORS.has(error.name))
    return new PubSubError(error.name as PubSubErrorName, error.message, error.field);
  return new SluiceError(error.code as ErrorCode, error.message, {
    ...(error.field === undefined ? {} : { field: error.field }),
    details: { status: error.status, name: error.name },
  });
}

/** SNS's page size for ListTopics and ListSubscriptionsByTopic. */
const PAGE = 100;

/** One SNS-style page of `all`, resumed from the index a previous page's token carries. */
function page<T>(all: readonly T[], token: string | undefined): { items: T[]; next?: string } {
  const from = token === undefined ? 0 : Number(token);
  if (!Number.isSafeInteger(from) || from < 0 || (token !== undefined && String(from) !== token))
    throw new PubSubError(
      "InvalidParameter",
      "NextToken: not a token this client issued",
      "NextToken",
    );
  const items = all.slice(from, from + PAGE);
  return from + PAGE < all.length ? { items, next: String(from + PAGE) } : { items };
}

/** A topic's name, the last part of its ARN (the REST API knows topics by name). */
function topicName(arn: unknown, field = "TopicArn"): string {
  if (typeof arn !== "string" || arn.length === 0)
    throw new PubSubError("InvalidParameter", `${field}: expected a topic ARN`, field);
  return encodeURIComponent(arn.slice(arn.lastIndexOf(":") + 1));
}

type AttributesJson = Record<
  string,
  { DataType: string; StringValue?: string; BinaryValue?: string }
>;

/** Message attributes as JSON: binary values as base64. */
function attributesToJson(
  attributes: PubSubMessageAttributes | undefined,
): AttributesJson | undefined {
  // Anything else goes as it is, for the server to refuse naming the field.
  if (typeof attributes !== "object" || attributes === null) return attributes;
  return Object.fromEntries(
    Object.entries(attributes).map(([key, value]) => [
      key,
      value?.BinaryValue instanceof Uint8Array
        ? { ...value, BinaryValue: Buffer.from(value.BinaryValue).toString("base64") }
        : (value as unknown as AttributesJson[string]),
    ]),
  );
}

function messageToJson<T extends { MessageAttributes?: PubSubMessageAttributes }>(
  message: T,
): unknown {
  if (message?.MessageAttributes === undefined) return message;
  return { ...message, MessageAttributes: attributesToJson(message.MessageAttributes) };
}

/**
 * The pub/sub service of a Sluice server, over its REST API (topics by name, subscriptions by
 * ARN). Handler subscriptions registered here run here, over a WebSocket per handler name.
 */
export class RemotePubSubService implements PubSubService {
  private closed = false;
  /** Handler subscriptions served from this process. */
  readonly handlers: RemoteHandlers<Notification>;

  constructor(private readonly http: HttpTransport) {
    this.handlers = new RemoteHandlers(http, "/pubsub/handlers", notificationFromJson);
  }

  createTopic(input: CreateSnsTopicInput): Promise<{ TopicArn: string }> {
    return this.call({ method: "POST", path: "/pubsub/topics", body: input });
  }

  async deleteTopic(input: { TopicArn: string }): Promise<void> {
    await this.call({ method: "DELETE", path: `/pubsub/topics/${topicName(input?.TopicArn)}` });
  }

  async listTopics(input?: {
    NextToken?: string;
  }): Promise<{ Topics: { TopicArn: string }[]; NextToken?: string }> {
    const { Topics } = await this.call<{ Topics: { TopicArn: string }[] }>({
      method: "GET",
      path: "/pubsub/topics",
    });
    const { items, next } = page(Topics, input?.NextToken);
    return next === undefined ? { Topics: items } : { Topics: items, NextToken: next };
  }

  getTopicAttributes(input: { TopicArn: string }): Promise<{ Attributes: Record<string, string> }> {
    return this.call({ method: "GET", path: `/pubsub/topics/${topicName(input?.TopicArn)}` });
  }

  async setTopicAttributes(input: {
    TopicArn: string;
    AttributeName: WritableTopicAttributeName;
    AttributeValue: string;
  }): Promise<void> {
    const { TopicArn, ...body } = input ?? ({} as typeof input);
    await this.call({
      method: "PUT",
      path: `/pubsub/topics/${topicName(TopicArn)}/attributes`,
      body,
    });
  }

  subscribe(input: SubscribeInput): Promise<{ SubscriptionArn: string }> {
    const { TopicArn, ...body } = input ?? ({} as SubscribeInput);
    return this.call({
      method: "POST",
      path: `/pubsub/topics/${topicName(TopicArn)}/subscriptions`,
      body,
    });
  }

  confirmSubscription(input: {
    TopicArn: string;
    Token: string;
  }): Promise<{ SubscriptionArn: string }> {
    return this.call({
      method: "POST",
      path: `/pubsub/topics/${topicName(input?.TopicArn)}/confirm`,
      body: { Token: input.Token },
    });
  }

  async unsubscribe(input: { SubscriptionArn: string }): Promise<void> {
    await this.call({ method: "DELETE", path: this.subscriptionPath(input?.SubscriptionArn) });
  }

  async listSubscriptionsByTopic(input: {
    TopicArn: string;
    NextToken?: string;
  }): Promise<{ Subscriptions: Subscription[]; NextToken?: string }> {
    const { Subscriptions } = await this.call<{ Subscriptions: Subscription[] }>({
      method: "GET",
      path: `/pubsub/topics/${topicName(input?.TopicArn)}/subscriptions`,
    });
    const { items, next } = page(Subscriptions, input.NextToken);
    return next === undefined
      ? { Subscriptions: items }
      : { Subscriptions: items, NextToken: next };
  }

  getSubscriptionAttributes(input: {
    SubscriptionArn: string;
  }): Promise<{ Attributes: Record<string, string> }> {
    return this.call({ method: "GET", path: this.subscriptionPath(input?.SubscriptionArn) });
  }

  async setSubscriptionAttributes(input: {
    SubscriptionArn: string;
    AttributeName: WritableSubscriptionAttributeName;
    AttributeValue: string;
  }): Promise<void> {
    const { SubscriptionArn, ...body } = input ?? ({} as typeof input);
    await this.call({
      method: "PUT",
      path: `${this.subscriptionPath(SubscriptionArn)}/attributes`,
      body,
    });
  }

  publish(input: PublishInput): Promise<PublishResult> {
    const { TopicArn, ...message } = input ?? ({} as PublishInput);
    return this.call({
      method: "POST",
      path: `/pubsub/topics/${topicName(TopicArn)}/messages`,
      body: messageToJson(message),
    });
  }

  publishBatch(input: {
    TopicArn: string;
    PublishBatchRequestEntries: readonly PublishBatchRequestEntry[];
  }): Promise<PublishBatchResult> {
    const entries = input?.PublishBatchRequestEntries;
    return this.call({
      method: "POST",
      path: `/pubsub/topics/${topicName(input?.TopicArn)}/messages/batch`,
      body: {
        PublishBatchRequestEntries: Array.isArray(entries) ? entries.map(messageToJson) : entries,
      },
    });
  }

  async tagResource(input: { ResourceArn: string; Tags: readonly PubSubTag[] }): Promise<void> {
    await this.call({
      method: "POST",
      path: `/pubsub/topics/${topicName(input?.ResourceArn, "ResourceArn")}/tags`,
      body: { Tags: input.Tags },
    });
  }

  async untagResource(input: { ResourceArn: string; TagKeys: readonly string[] }): Promise<void> {
    await this.call({
      method: "POST",
      path: `/pubsub/topics/${topicName(input?.ResourceArn, "ResourceArn")}/tags/remove`,
      body: { TagKeys: input.TagKeys },
    });
  }

  listTagsForResource(input: { ResourceArn: string }): Promise<{ Tags: PubSubTag[] }> {
    return this.call({
      method: "GET",
      path: `/pubsub/topics/${topicName(input?.ResourceArn, "ResourceArn")}/tags`,
    });
  }

  registerHandler(name: string, handler: NotificationHandler): void {
    this.handlers.register(name, handler);
  }

  /** Refuses later calls; the connection itself closes with the client (`RemoteSluice.close`). */
  close(): Promise<void> {
    this.closed = true;
    this.handlers.close();
    return Promise.resolve();
  }

  private subscriptionPath(arn: unknown): string {
    if (typeof arn !== "string" || arn.length === 0)
      throw new PubSubError(
        "InvalidParameter",
        "SubscriptionArn: expected a subscription ARN",
        "SubscriptionArn",
      );
    return `/pubsub/subscriptions/${encodeURIComponent(arn)}`;
  }

  private async call<T>(call: HttpCall): Promise<T> {
    if (this.closed || this.http.closed)
      throw new SluiceError("SLUICE_CLOSED", "the pub/sub client is closed");
    await this.handlers.ready();
    return ((await this.http.call(call, toError)) ?? {}) as T;
  }
}
