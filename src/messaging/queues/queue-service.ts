/**
 * The queue contract, in Amazon SQS's own shapes (field names, string attribute values, batch
 * results), so code written against the AWS SDK's SQS client ports over line for line and the
 * server's SQS-compatible JSON API is a thin pass-through. Every backend (embedded on the
 * engine, remote client, NATS JetStream) implements this interface and passes one conformance
 * suite (`conformance.ts`).
 */

import type { MessageAttributeSet } from "./message-attribute-set.js";
import type { CheckedSend } from "./checked-send.js";

/** Attributes a queue can be created or updated with (values are strings, as in SQS). */
export type WritableQueueAttributeName =
  | "DelaySeconds"
  | "MaximumMessageSize"
  | "MessageRetentionPeriod"
  | "ReceiveMessageWaitTimeSeconds"
  | "VisibilityTimeout"
  | "RedrivePolicy"
  | "RedriveAllowPolicy"
  | "Policy"
  | "FifoQueue"
  | "ContentBasedDeduplication"
  | "DeduplicationScope"
  | "FifoThroughputLimit";

/** Attributes computed by the queue. */
export type ReadOnlyQueueAttributeName =
  | "ApproximateNumberOfMessages"
  | "ApproximateNumberOfMessagesNotVisible"
  | "ApproximateNumberOfMessagesDelayed"
  | "CreatedTimestamp"
  | "LastModifiedTimestamp"
  | "QueueArn";

export type QueueAttributeName = WritableQueueAttributeName | ReadOnlyQueueAttributeName;

export type QueueAttributes = Partial<Record<WritableQueueAttributeName, string>>;

/** A message attribute: String and Number carry StringValue, Binary carries BinaryValue. */
export interface MessageAttributeValue {
  /** "String", "Number" or "Binary", optionally with a custom suffix ("Number.float"). */
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

/** Message system attributes a sender may set (SQS defines only AWSTraceHeader). */
export type MessageSystemAttributes = Readonly<
  Partial<Record<"AWSTraceHeader", MessageAttributeValue>>
>;

export type MessageSystemAttributeName =
  | "All"
  | "ApproximateReceiveCount"
  | "ApproximateFirstReceiveTimestamp"
  | "SentTimestamp"
  | "SenderId"
  | "MessageGroupId"
  | "MessageDeduplicationId"
  | "SequenceNumber"
  | "DeadLetterQueueSourceArn"
  | "AWSTraceHeader";

export interface CreateQueueInput {
  readonly QueueName: string;
  readonly Attributes?: QueueAttributes;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SendMessageInput {
  readonly QueueUrl: string;
  readonly MessageBody: string;
  /** Standard queues only; FIFO queues take the queue's DelaySeconds. */
  readonly DelaySeconds?: number;
  readonly MessageAttributes?: MessageAttributes;
  readonly MessageSystemAttributes?: MessageSystemAttributes;
  /** Required on FIFO queues; on standard queues it is only reported back. */
  readonly MessageGroupId?: string;
  /** FIFO only; required unless the queue has ContentBasedDeduplication. */
  readonly MessageDeduplicationId?: string;
}

export interface SendMessageResult {
  readonly MessageId: string;
  readonly MD5OfMessageBody: string;
  readonly MD5OfMessageAttributes?: string;
  readonly MD5OfMessageSystemAttributes?: string;
  /** FIFO only: increases within the queue. */
  readonly SequenceNumber?: string;
}

export interface SendMessageBatchRequestEntry extends Omit<SendMessageInput, "QueueUrl"> {
  readonly Id: string;
}

export interface SendMessageBatchInput {
  readonly QueueUrl: string;
  readonly Entries: readonly SendMessageBatchRequestEntry[];
}

/** Why one entry of a batch call failed; the other entries still took effect. */
export interface BatchResultErrorEntry {
  readonly Id: string;
  readonly SenderFault: boolean;
  readonly Code: string;
  readonly Message: string;
}

export interface SendMessageBatchResultEntry extends SendMessageResult {
  readonly Id: string;
}

export interface BatchResult<T> {
  readonly Successful: T[];
  readonly Failed: BatchResultErrorEntry[];
}

export interface ReceiveMessageInput {
  readonly QueueUrl: string;
  /** 1-10 (default 1). */
  readonly MaxNumberOfMessages?: number;
  /** Overrides the queue's VisibilityTimeout for these messages (0-43200 s). */
  readonly VisibilityTimeout?: number;
  /** Long polling: wait up to this long for a message (0-20 s; default the queue's setting). */
  readonly WaitTimeSeconds?: number;
  readonly MessageSystemAttributeNames?: readonly MessageSystemAttributeName[];
  /** The older name of MessageSystemAttributeNames; both are honoured. */
  readonly AttributeNames?: readonly MessageSystemAttributeName[];
  /** Names, "All", ".*", or prefixes like "order.*". */
  readonly MessageAttributeNames?: readonly string[];
  /** FIFO: a retried receive with the same id within 5 minutes returns the same messages. */
  readonly ReceiveRequestAttemptId?: string;
  /** Cancels a long poll; the call then returns what it has (usually nothing). */
  readonly signal?: AbortSignal;
}

export interface Message {
  readonly MessageId: string;
  readonly ReceiptHandle: string;
  readonly MD5OfBody: string;
  readonly Body: string;
  readonly Attributes?: Partial<Record<MessageSystemAttributeName, string>>;
  readonly MessageAttributes?: MessageAttributes;
  readonly MD5OfMessageAttributes?: string;
}

export interface ReceiveMessageResult {
  readonly Messages: Message[];
}

export interface DeleteMessageInput {
  readonly QueueUrl: string;
  readonly ReceiptHandle: string;
}

export interface DeleteMessageBatchInput {
  readonly QueueUrl: string;
  readonly Entries: readonly { readonly Id: string; readonly ReceiptHandle: string }[];
}

export interface ChangeMessageVisibilityInput {
  readonly QueueUrl: string;
  readonly ReceiptHandle: string;
  /** Seconds from now (0-43200); 0 makes the message visible at once. */
  readonly VisibilityTimeout: number;
}

export interface ChangeMessageVisibilityBatchInput {
  readonly QueueUrl: string;
  readonly Entries: readonly {
    readonly Id: string;
    readonly ReceiptHandle: string;
    readonly VisibilityTimeout: number;
  }[];
}

export interface PeekMessagesInput {
  readonly QueueUrl: string;
  /** Default 10, at most 1,000. */
  readonly MaxNumberOfMessages?: number;
  /** Start after this SequenceNumber (for paging). */
  readonly AfterSequenceNumber?: string;
}

/** A message as it sits in the queue, seen without receiving it. */
export interface PeekedMessage {
  readonly MessageId: string;
  readonly Body: string;
  readonly SequenceNumber: string;
  readonly State: "visible" | "inflight" | "delayed";
  readonly Attributes: Partial<Record<MessageSystemAttributeName, string>>;
  readonly MessageAttributes?: MessageAttributes;
}

export interface StartMessageMoveTaskInput {
  /** The ARN of a dead-letter queue. */
  readonly SourceArn: string;
  /** Default: each message goes back to the queue it was dead-lettered from. */
  readonly DestinationArn?: string;
  /** At most 500 (default 500). */
  readonly MaxNumberOfMessagesPerSecond?: number;
}

export type MessageMoveTaskStatus = "RUNNING" | "FAILED" | "CANCELLING" | "CANCELLED" | "COMPLETED";

export interface MessageMoveTask {
  readonly TaskHandle: string;
  readonly Status: MessageMoveTaskStatus;
  readonly SourceArn: string;
  readonly DestinationArn?: string;
  readonly MaxNumberOfMessagesPerSecond?: number;
  readonly ApproximateNumberOfMessagesMoved: number;
  readonly ApproximateNumberOfMessagesToMove: number;
  readonly FailureReason?: string;
  readonly StartedTimestamp: number;
}

/** What a bulk send reports: the entries refused (by index), each with its error. */
export interface BulkSendResult {
  readonly failed: readonly { readonly index: number; readonly error: Error }[];
}

/**
 * One message of a bulk send as a caller writes it; the attributes may be given as a set
 * (validated and encoded once for many queues).
 */
export interface BulkSendInput extends Omit<SendMessageInput, "QueueUrl" | "MessageAttributes"> {
  readonly MessageAttributes?: MessageAttributes | MessageAttributeSet;
}

/**
 * One message of a bulk send: as written, or checked once already for all the queues a fan-out
 * sends it to (see CheckedSend: only what depends on the queue is checked again).
 */
export type BulkSendEntry = BulkSendInput | CheckedSend;

/**
 * An optional capability of a backend: any number of messages to one queue in one durable
 * write, without SQS's 10 entries a call or the digests of a batch result. Fan-out inside Sluice
 * (pub/sub subscriptions, event bus targets) uses it where the backend has it; see `sendInBulk`.
 */
export interface BulkQueueSender {
  /** Validates each entry as `sendMessage` would; resolves once the accepted ones are durable. */
  sendMessagesInBulk(queueUrl: string, entries: readonly BulkSendEntry[]): Promise<BulkSendResult>;
}

/** An SQS-semantics queue service: standard and FIFO queues, DLQs, redrive, deduplication. */
export interface QueueService {
  createQueue(input: CreateQueueInput): Promise<{ QueueUrl: string }>;
  deleteQueue(input: { QueueUrl: string }): Promise<void>;
  listQueues(input?: {
    QueueNamePrefix?: string;
    MaxResults?: number;
    NextToken?: string;
  }): Promise<{ QueueUrls: string[]; NextToken?: string }>;
  getQueueUrl(input: { QueueName: string }): Promise<{ QueueUrl: string }>;
  getQueueAttributes(input: {
    QueueUrl: string;
    AttributeNames?: readonly (QueueAttributeName | "All")[];
  }): Promise<{ Attributes: Partial<Record<QueueAttributeName, string>> }>;
  setQueueAttributes(input: { QueueUrl: string; Attributes: QueueAttributes }): Promise<void>;
  tagQueue(input: { QueueUrl: string; Tags: Readonly<Record<string, string>> }): Promise<void>;
  untagQueue(input: { QueueUrl: string; TagKeys: readonly string[] }): Promise<void>;
  listQueueTags(input: { QueueUrl: string }): Promise<{ Tags: Record<string, string> }>;
  purgeQueue(input: { QueueUrl: string }): Promise<void>;
  /** Queues whose RedrivePolicy names this queue as their dead-letter queue. */
  listDeadLetterSourceQueues(input: { QueueUrl: string }): Promise<{ queueUrls: string[] }>;

  sendMessage(input: SendMessageInput): Promise<SendMessageResult>;
  sendMessageBatch(input: SendMessageBatchInput): Promise<BatchResult<SendMessageBatchResultEntry>>;
  receiveMessage(input: ReceiveMessageInput): Promise<ReceiveMessageResult>;
  deleteMessage(input: DeleteMessageInput): Promise<void>;
  deleteMessageBatch(input: DeleteMessageBatchInput): Promise<BatchResult<{ Id: string }>>;
  changeMessageVisibility(input: ChangeMessageVisibilityInput): Promise<void>;
  changeMessageVisibilityBatch(
    input: ChangeMessageVisibilityBatchInput,
  ): Promise<BatchResult<{ Id: string }>>;
  /** Looks at messages without receiving them: no visibility or receive-count change. */
  peekMessages(input: PeekMessagesInput): Promise<{ Messages: PeekedMessage[] }>;

  startMessageMoveTask(input: StartMessageMoveTaskInput): Promise<{ TaskHandle: string }>;
  cancelMessageMoveTask(input: {
    TaskHandle: string;
  }): Promise<{ ApproximateNumberOfMessagesMoved: number }>;
  listMessageMoveTasks(input: {
    SourceArn: string;
    MaxResults?: number;
  }): Promise<{ Results: MessageMoveTask[] }>;

  /** Stops background work and closes storage; pending long polls return empty. */
  close(): Promise<void>;
}
