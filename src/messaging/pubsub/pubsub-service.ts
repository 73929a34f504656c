/**
 * The pub/sub contract, in Amazon SNS's own shapes (field names, string attribute values,
 * batch results), so code written against the AWS SDK's SNS client ports over line for line.
 * Every backend (embedded on the engine, remote client) implements this interface and passes
 * one conformance suite (`conformance.ts`).
 */

/** A message attribute: String, Number and String.Array carry StringValue, Binary carries BinaryValue. */
export interface PubSubMessageAttributeValue {
  /** "String", "Number", "Binary" or "String.Array" (custom suffixes allowed: "Number.float"). */
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

export type PubSubMessageAttributes = Readonly<Record<string, PubSubMessageAttributeValue>>;

/** Topic attributes one may set (values are strings, as in SNS). */
export type WritableTopicAttributeName =
  | "DisplayName"
  | "FifoTopic"
  | "ContentBasedDeduplication"
  | "DeliveryPolicy"
  /** An access policy (JSON), stored and returned as SNS does; not enforced. */
  | "Policy";

/** A topic's tag: key 1-128 characters, value 0-256; at most 50 per topic. */
export interface PubSubTag {
  readonly Key: string;
  readonly Value: string;
}

export interface CreateSnsTopicInput {
  /** 1-256 of A-Z a-z 0-9 _ -; FIFO topics end in ".fifo". */
  readonly Name: string;
  readonly Attributes?: Partial<Record<WritableTopicAttributeName, string>>;
  readonly Tags?: readonly PubSubTag[];
}

/**
 * Where a subscription delivers: `sqs` (Endpoint a queue ARN), `http`/`https` (a URL; the
 * endpoint must confirm), `handler` (a name registered with `registerHandler` in the
 * subscriber's process), `sns` (another topic's ARN).
 */
export type SubscriptionProtocol = "sqs" | "http" | "https" | "handler" | "sns";

/** Subscription attributes one may set. */
export type WritableSubscriptionAttributeName =
  "FilterPolicy" | "FilterPolicyScope" | "RawMessageDelivery" | "RedrivePolicy" | "DeliveryPolicy";

export type SubscriptionAttributes = Partial<Record<WritableSubscriptionAttributeName, string>>;

export interface SubscribeInput {
  readonly TopicArn: string;
  readonly Protocol: SubscriptionProtocol;
  readonly Endpoint: string;
  readonly Attributes?: SubscriptionAttributes;
  /** Return the ARN even while an HTTP subscription awaits confirmation. */
  readonly ReturnSubscriptionArn?: boolean;
}

export interface Subscription {
  readonly SubscriptionArn: string;
  readonly TopicArn: string;
  readonly Protocol: SubscriptionProtocol;
  readonly Endpoint: string;
  readonly Owner: string;
}

export interface PublishInput {
  readonly TopicArn: string;
  /**
   * The body; with `MessageStructure: "json"`, a JSON object of strings: each subscription gets
   * the value under its Protocol ("sqs", "http", "https", "sns", "handler"), else "default".
   */
  readonly Message: string;
  /** "json": Message holds one message per protocol (see Message). */
  readonly MessageStructure?: "json";
  /** 1-100 printable ASCII characters, shown as Subject in the JSON envelope. */
  readonly Subject?: string;
  readonly MessageAttributes?: PubSubMessageAttributes;
  /** Required on FIFO topics. */
  readonly MessageGroupId?: string;
  /** FIFO topics; required unless the topic has ContentBasedDeduplication. */
  readonly MessageDeduplicationId?: string;
}

export interface PublishResult {
  readonly MessageId: string;
  /** FIFO topics only. */
  readonly SequenceNumber?: string;
}

export interface PublishBatchRequestEntry extends Omit<PublishInput, "TopicArn"> {
  readonly Id: string;
}

export interface PublishBatchResultEntry extends PublishResult {
  readonly Id: string;
}

export interface PublishBatchErrorEntry {
  readonly Id: string;
  readonly Code: string;
  readonly Message: string;
  readonly SenderFault: boolean;
}

export interface PublishBatchResult {
  readonly Successful: PublishBatchResultEntry[];
  readonly Failed: PublishBatchErrorEntry[];
}

/** What an in-process handler subscription receives. */
export interface Notification {
  readonly MessageId: string;
  readonly TopicArn: string;
  readonly SubscriptionArn: string;
  readonly Message: string;
  readonly Subject?: string;
  readonly MessageAttributes: PubSubMessageAttributes;
  /** ISO-8601 time of publication. */
  readonly Timestamp: string;
  readonly MessageGroupId?: string;
  readonly SequenceNumber?: string;
}

/** Delivery to a handler fails when it throws or rejects; then it is retried, then dead-lettered. */
export type NotificationHandler = (notification: Notification) => void | Promise<void>;

/** An SNS-semantics pub/sub service: topics fan out to queues, handlers, HTTP endpoints, topics. */
export interface PubSubService {
  createTopic(input: CreateSnsTopicInput): Promise<{ TopicArn: string }>;
  deleteTopic(input: { TopicArn: string }): Promise<void>;
  listTopics(input?: { NextToken?: string }): Promise<{
    Topics: { TopicArn: string }[];
    NextToken?: string;
  }>;
  getTopicAttributes(input: { TopicArn: string }): Promise<{ Attributes: Record<string, string> }>;
  setTopicAttributes(input: {
    TopicArn: string;
    AttributeName: WritableTopicAttributeName;
    AttributeValue: string;
  }): Promise<void>;

  subscribe(input: SubscribeInput): Promise<{ SubscriptionArn: string }>;
  /** Completes an HTTP(S) subscription with the token its endpoint was sent. */
  confirmSubscription(input: { TopicArn: string; Token: string }): Promise<{
    SubscriptionArn: string;
  }>;
  unsubscribe(input: { SubscriptionArn: string }): Promise<void>;
  listSubscriptionsByTopic(input: { TopicArn: string; NextToken?: string }): Promise<{
    Subscriptions: Subscription[];
    NextToken?: string;
  }>;
  getSubscriptionAttributes(input: { SubscriptionArn: string }): Promise<{
    Attributes: Record<string, string>;
  }>;
  setSubscriptionAttributes(input: {
    SubscriptionArn: string;
    AttributeName: WritableSubscriptionAttributeName;
    AttributeValue: string;
  }): Promise<void>;

  publish(input: PublishInput): Promise<PublishResult>;
  /** Up to 10 entries; each succeeds or fails on its own. */
  publishBatch(input: {
    TopicArn: string;
    PublishBatchRequestEntries: readonly PublishBatchRequestEntry[];
  }): Promise<PublishBatchResult>;

  /** Adds or overwrites tags of a topic (ResourceArn is its ARN). */
  tagResource(input: { ResourceArn: string; Tags: readonly PubSubTag[] }): Promise<void>;
  /** Removes tags of a topic by key; keys it does not have are ignored. */
  untagResource(input: { ResourceArn: string; TagKeys: readonly string[] }): Promise<void>;
  listTagsForResource(input: { ResourceArn: string }): Promise<{ Tags: PubSubTag[] }>;

  /** Lets `handler` subscriptions with Endpoint `name` deliver to `handler` in this process. */
  registerHandler(name: string, handler: NotificationHandler): void;

  /** Stops deliveries and closes storage; undelivered messages are delivered after reopening. */
  close(): Promise<void>;
}
