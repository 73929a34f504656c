import { SluiceError, type ErrorCode } from "../errors/index.js";
import {
  type BatchResult,
  type ChangeMessageVisibilityBatchInput,
  type ChangeMessageVisibilityInput,
  type CreateQueueInput,
  type DeleteMessageBatchInput,
  type DeleteMessageInput,
  type Message,
  type MessageAttributes,
  type MessageMoveTask,
  type PeekMessagesInput,
  type PeekedMessage,
  type QueueAttributeName,
  type QueueAttributes,
  QueueError,
  type QueueErrorName,
  type QueueService,
  type ReceiveMessageInput,
  type ReceiveMessageResult,
  type SendMessageBatchInput,
  type SendMessageBatchResultEntry,
  type SendMessageInput,
  type SendMessageResult,
  type StartMessageMoveTaskInput,
} from "../messaging/queues/index.js";
import { checkRequest } from "../messaging/queues/request-checks.js";
import { type HttpCall, type HttpTransport, type RemoteError, isAbort } from "./http-transport.js";

/** SQS error names the server may send back, rebuilt as QueueErrors on this side. */
const QUEUE_ERRORS = new Set<string>([
  "QueueDoesNotExist",
  "QueueNameExists",
  "QueueDeletedRecently",
  "ReceiptHandleIsInvalid",
  "MessageNotInflight",
  "InvalidMessageContents",
  "TooManyEntriesInBatchRequest",
  "BatchEntryIdsNotDistinct",
  "BatchRequestTooLong",
  "EmptyBatchRequest",
  "InvalidBatchEntryId",
  "InvalidAttributeName",
  "InvalidAttributeValue",
  "InvalidParameterValue",
  "MissingParameter",
  "PurgeQueueInProgress",
  "OverLimit",
  "ResourceNotFoundException",
  "UnsupportedOperation",
] satisfies QueueErrorName[]);

function toError(error: RemoteError): Error {
  if (QUEUE_ERRORS.has(error.name))
    return new QueueError(error.name as QueueErrorName, error.message, error.field);
  return new SluiceError(error.code as ErrorCode, error.message, {
    ...(error.field === undefined ? {} : { field: error.field }),
    details: { status: error.status, name: error.name },
  });
}

type Body = Record<string, unknown>;

/**
 * The queue service of a Sluice server, over its REST API: the same interface and semantics
 * as the embedded service (it passes the same conformance suite), one HTTP call per method.
 */
export class RemoteQueueService implements QueueService {
  constructor(private readonly http: HttpTransport) {}

  async createQueue(input: CreateQueueInput): Promise<{ QueueUrl: string }> {
    return (await this.call({ method: "POST", path: "/queues", body: input })) as {
      QueueUrl: string;
    };
  }

  async deleteQueue(input: { QueueUrl: string }): Promise<void> {
    await this.call({ method: "DELETE", path: this.queuePath(input?.QueueUrl) });
  }

  async listQueues(
    input: { QueueNamePrefix?: string; MaxResults?: number; NextToken?: string } | null = {},
  ): Promise<{ QueueUrls: string[]; NextToken?: string }> {
    // As the library: no request (null from JSON too) lists everything, a non-object is refused.
    const request = checkRequest(input ?? {});
    return (await this.call({ method: "GET", path: `/queues${query(request)}` })) as {
      QueueUrls: string[];
      NextToken?: string;
    };
  }

  async getQueueUrl(input: { QueueName: string }): Promise<{ QueueUrl: string }> {
    const name = input?.QueueName;
    if (typeof name !== "string" || !isPathSegment(name))
      throw new QueueError(
        "QueueDoesNotExist",
        `QueueName: no queue named ${JSON.stringify(name)}`,
        "QueueName",
      );
    return (await this.call({ method: "GET", path: `/queues/${encodeURIComponent(name)}` })) as {
      QueueUrl: string;
    };
  }

  async getQueueAttributes(input: {
    QueueUrl: string;
    AttributeNames?: readonly (QueueAttributeName | "All")[];
  }): Promise<{ Attributes: Partial<Record<QueueAttributeName, string>> }> {
    const names = input?.AttributeNames;
    const q = names === undefined ? "" : query({ AttributeNames: names.join(",") });
    return (await this.call({
      method: "GET",
      path: `${this.queuePath(input?.QueueUrl)}/attributes${q}`,
    })) as { Attributes: Partial<Record<QueueAttributeName, string>> };
  }

  async setQueueAttributes(input: {
    QueueUrl: string;
    Attributes: QueueAttributes;
  }): Promise<void> {
    await this.call(this.queueCall("PUT", input, "/attributes"));
  }

  async tagQueue(input: {
    QueueUrl: string;
    Tags: Readonly<Record<string, string>>;
  }): Promise<void> {
    await this.call(this.queueCall("POST", input, "/tags"));
  }

  async untagQueue(input: { QueueUrl: string; TagKeys: readonly string[] }): Promise<void> {
    await this.call(this.queueCall("DELETE", input, "/tags"));
  }

  async listQueueTags(input: { QueueUrl: string }): Promise<{ Tags: Record<string, string> }> {
    return (await this.call({
      method: "GET",
      path: `${this.queuePath(input?.QueueUrl)}/tags`,
    })) as {
      Tags: Record<string, string>;
    };
  }

  async purgeQueue(input: { QueueUrl: string }): Promise<void> {
    await this.call({ method: "POST", path: `${this.queuePath(input?.QueueUrl)}/purge` });
  }

  async listDeadLetterSourceQueues(input: { QueueUrl: string }): Promise<{ queueUrls: string[] }> {
    return (await this.call({
      method: "GET",
      path: `${this.queuePath(input?.QueueUrl)}/dead-letter-sources`,
    })) as { queueUrls: string[] };
  }

  async sendMessage(input: SendMessageInput): Promise<SendMessageResult> {
    return (await this.call(
      this.queueCall("POST", encodeSend(input as unknown as Body), "/messages"),
    )) as SendMessageResult;
  }

  async sendMessageBatch(
    input: SendMessageBatchInput,
  ): Promise<BatchResult<SendMessageBatchResultEntry>> {
    const entries: unknown = input?.Entries;
    const body = Array.isArray(entries)
      ? { ...input, Entries: entries.map((e: unknown) => (isObject(e) ? encodeSend(e) : e)) }
      : input;
    return (await this.call(
      this.queueCall("POST", body, "/messages/batch"),
    )) as BatchResult<SendMessageBatchResultEntry>;
  }

  async receiveMessage(input: ReceiveMessageInput): Promise<ReceiveMessageResult> {
    const { signal, ...rest } = input ?? ({} as ReceiveMessageInput);
    if (signal?.aborted === true && rest.WaitTimeSeconds !== 0) {
      // An aborted long poll still takes what is there at once, as the embedded service does.
      return this.receiveMessage({ ...rest, WaitTimeSeconds: 0 });
    }
    try {
      const result = (await this.call({
        ...this.queueCall("POST", rest, "/receive"),
        ...(signal === undefined ? {} : { signal }),
      })) as { Messages?: Message[] };
      return { Messages: (result.Messages ?? []).map(decodeMessage) };
    } catch (error) {
      // A long poll cut short by its signal or by close() answers empty, as in the library.
      if (isAbort(error)) return { Messages: [] };
      throw error;
    }
  }

  async deleteMessage(input: DeleteMessageInput): Promise<void> {
    await this.call(this.queueCall("POST", input, "/delete"));
  }

  async deleteMessageBatch(input: DeleteMessageBatchInput): Promise<BatchResult<{ Id: string }>> {
    return (await this.call(this.queueCall("POST", input, "/delete-batch"))) as BatchResult<{
      Id: string;
    }>;
  }

  async changeMessageVisibility(input: ChangeMessageVisibilityInput): Promise<void> {
    await this.call(this.queueCall("POST", input, "/visibility"));
  }

  async changeMessageVisibilityBatch(
    input: ChangeMessageVisibilityBatchInput,
  ): Promise<BatchResult<{ Id: string }>> {
    return (await this.call(this.queueCall("POST", input, "/visibility-batch"))) as BatchResult<{
      Id: string;
    }>;
  }

  async peekMessages(input: PeekMessagesInput): Promise<{ Messages: PeekedMessage[] }> {
    const { QueueUrl, ...rest } = input ?? ({} as PeekMessagesInput);
    const result = (await this.call({
      method: "GET",
      path: `${this.queuePath(QueueUrl)}/messages${query(rest)}`,
    })) as { Messages: PeekedMessage[] };
    return { Messages: result.Messages.map(decodeMessage) };
  }

  async startMessageMoveTask(input: StartMessageMoveTaskInput): Promise<{ TaskHandle: string }> {
    return (await this.call({ method: "POST", path: "/message-move-tasks", body: input })) as {
      TaskHandle: string;
    };
  }

  async cancelMessageMoveTask(input: {
    TaskHandle: string;
  }): Promise<{ ApproximateNumberOfMessagesMoved: number }> {
    return (await this.call({
      method: "POST",
      path: "/message-move-tasks/cancel",
      body: input,
    })) as { ApproximateNumberOfMessagesMoved: number };
  }

  async listMessageMoveTasks(input: {
    SourceArn: string;
    MaxResults?: number;
  }): Promise<{ Results: MessageMoveTask[] }> {
    return (await this.call({ method: "GET", path: `/message-move-tasks${query(input)}` })) as {
      Results: MessageMoveTask[];
    };
  }

  /** Ends this client's calls: pending long polls return empty. The server keeps running. */
  close(): Promise<void> {
    this.http.close();
    return Promise.resolve();
  }

  private call(call: HttpCall): Promise<unknown> {
    if (this.http.closed) return Promise.reject(QueueError.serviceClosed());
    return this.http.call(call, toError);
  }

  private queueCall(method: HttpCall["method"], input: object, suffix: string): HttpCall {
    const { QueueUrl, ...body } = (input ?? {}) as Body;
    return { method, path: `${this.queuePath(QueueUrl)}${suffix}`, body };
  }

  /** `/queues/<name>` for a queue URL; the server checks that the queue exists. */
  private queuePath(url: unknown): string {
    const name = typeof url === "string" ? url.slice(url.lastIndexOf("/") + 1) : "";
    if (!isPathSegment(name))
      throw new QueueError(
        "QueueDoesNotExist",
        `QueueUrl: no queue at ${JSON.stringify(url)}`,
        "QueueUrl",
      );
    return `/queues/${encodeURIComponent(name)}`;
  }
}

/** Whether `text` survives as one path segment (URL parsers resolve "." and ".."). */
function isPathSegment(text: string): boolean {
  return text !== "" && !/^(\.|%2e){1,2}$/i.test(text);
}

function query(params: object): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

function isObject(value: unknown): value is Body {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Binary attribute values travel as base64. */
function encodeSend(input: Body): Body {
  const out = { ...input };
  for (const field of ["MessageAttributes", "MessageSystemAttributes"]) {
    const attributes = input[field];
    if (!isObject(attributes)) continue;
    out[field] = Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [
        name,
        isObject(value) && value.BinaryValue instanceof Uint8Array
          ? { ...value, BinaryValue: Buffer.from(value.BinaryValue).toString("base64") }
          : value,
      ]),
    );
  }
  return out;
}

function decodeMessage<T extends { MessageAttributes?: MessageAttributes }>(message: T): T {
  if (message.MessageAttributes === undefined) return message;
  return {
    ...message,
    MessageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes).map(([name, value]) => [
        name,
        typeof value.BinaryValue === "string"
          ? { ...value, BinaryValue: new Uint8Array(Buffer.from(value.BinaryValue, "base64")) }
          : value,
      ]),
    ),
  };
}
