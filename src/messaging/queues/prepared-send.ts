import type { Writable } from "./writable.js";
import { AttributeSetReuse, MessageAttributeSet } from "./message-attribute-set.js";
import { contentDeduplicationId, md5OfBody } from "./message-digest.js";
import { checkBody, checkId, checkIntParameter } from "./message-validation.js";
import type { PreparedSend } from "./durable-queue.js";
import type { EntryFields } from "./entry-fields.js";
import type { QueueConfig } from "./queue-attributes.js";
import { QueueError, invalidParameter } from "./queue-error.js";
import type {
  BulkSendInput,
  SendMessageBatchResultEntry,
  SendMessageResult,
} from "./queue-service.js";
import { formatSequenceNumber } from "./received-message.js";

/**
 * Validates a send against its queue's settings (body, attributes, size, delay, FIFO group and
 * deduplication rules) and turns it into what the queue stores; `fields` names its fields
 * (see EntryFields) in batch calls. Attributes given as a set were validated when it was made;
 * `reuse` shares one set among the entries of a call that pass the same attributes object.
 */
export function prepareSend(
  config: QueueConfig,
  input: BulkSendInput,
  fields: EntryFields,
  reuse: AttributeSetReuse = new AttributeSetReuse(),
): PreparedSend {
  const body = checkBody(input.MessageBody, fields.messageBody);
  const attributes = reuse.validated(input.MessageAttributes, fields.messageAttributes);
  const systemAttributes = MessageAttributeSet.validated(
    input.MessageSystemAttributes,
    fields.messageSystemAttributes,
    true,
  );
  const content: CheckedContent = {
    body,
    sizeBytes: Buffer.byteLength(body, "utf8") + (attributes?.sizeBytes ?? 0),
    bodyMd5: undefined,
    attributes,
    systemAttributes,
  };
  return prepareForQueue(config, content, input, fields);
}

/**
 * The queue settings prepareForQueue reads, and the only ones it sees (its `config` is a
 * SendSettings): a setting it comes to read is added here, and CheckedSend's sharing of
 * prepared sends among queues (see `preparesAlike`) follows.
 */
export const SEND_SETTINGS = [
  "fifo",
  "delaySeconds",
  "contentBasedDeduplication",
  "maximumMessageSize",
] as const satisfies readonly (keyof QueueConfig)[];

/** What of a queue's settings a send to it depends on; a QueueConfig is one. */
export type SendSettings = Pick<QueueConfig, (typeof SEND_SETTINGS)[number]>;

/**
 * Whether a message of `sizeBytes` that prepareForQueue made into a send for a queue with
 * `prepared` settings becomes the same send for a queue with `config`: they agree on every
 * setting of SEND_SETTINGS, except that any size limit the message is within will do.
 */
export function preparesAlike(
  prepared: SendSettings,
  config: SendSettings,
  sizeBytes: number,
): boolean {
  // Each setting of SEND_SETTINGS compared by name, not in a loop over the list: a fan-out asks
  // this for every message and queue, and a keyed read per setting cost 1.6% of its CPU. The
  // per-setting test of checked-send.test.ts fails for a setting added there and not here.
  return (
    prepared.fifo === config.fifo &&
    prepared.delaySeconds === config.delaySeconds &&
    prepared.contentBasedDeduplication === config.contentBasedDeduplication &&
    // A limit only refuses: within it, which limit does not change what the message becomes.
    (prepared.maximumMessageSize === config.maximumMessageSize ||
      config.maximumMessageSize >= sizeBytes)
  );
}

/** A message whose body and attributes are checked already, as prepareForQueue takes it. */
export interface CheckedContent {
  readonly body: string;
  /** Bytes of the body in UTF-8 and of its attributes, as SQS's size limit counts them. */
  readonly sizeBytes: number;
  /** Computed from `body` by the caller, if it has it. */
  readonly bodyMd5?: string | undefined;
  readonly attributes: MessageAttributeSet | undefined;
  readonly systemAttributes?: MessageAttributeSet | undefined;
}

/** The fields of a send that prepareForQueue checks against its queue's settings. */
export type QueueSendInput = Pick<
  BulkSendInput,
  "DelaySeconds" | "MessageGroupId" | "MessageDeduplicationId"
>;

/**
 * The checks of a send that depend on its queue (size limit, delay, FIFO group and
 * deduplication rules), its `content` being checked already. It takes objects its callers
 * have at hand (the queue's QueueConfig; a CheckedSend is its own content), as it runs once
 * for every message sent.
 */
export function prepareForQueue(
  config: SendSettings,
  content: CheckedContent,
  input: QueueSendInput,
  fields: EntryFields,
): PreparedSend {
  const { body, sizeBytes, attributes, systemAttributes } = content;
  if (sizeBytes > config.maximumMessageSize)
    throw invalidParameter(
      fields.messageBody,
      `a message of at most ${config.maximumMessageSize} bytes (body and attributes), got ${sizeBytes}`,
    );
  let delaySeconds = config.delaySeconds;
  if (input.DelaySeconds !== undefined) {
    if (config.fifo)
      throw invalidParameter(
        fields.delaySeconds,
        "no per-message delay on a FIFO queue (set the queue's DelaySeconds)",
      );
    delaySeconds = checkIntParameter(input.DelaySeconds, fields.delaySeconds, 0, 900);
  }
  const send: Writable<PreparedSend> = {
    body,
    // Answered to the sender, and again on receive while the message is in memory.
    bodyMd5: content.bodyMd5 ?? md5OfBody(body),
    delayMs: delaySeconds * 1000,
  };
  if (attributes !== undefined) send.attributes = attributes;
  if (systemAttributes !== undefined) send.systemAttributes = systemAttributes;
  if (input.MessageGroupId !== undefined)
    send.groupId = checkId(input.MessageGroupId, fields.messageGroupId);
  if (config.fifo) {
    if (input.MessageGroupId === undefined)
      throw new QueueError(
        "MissingParameter",
        `${fields.messageGroupId}: required on a FIFO queue`,
        fields.messageGroupId,
      );
    if (input.MessageDeduplicationId !== undefined)
      send.deduplicationId = checkId(input.MessageDeduplicationId, fields.messageDeduplicationId);
    else if (config.contentBasedDeduplication) send.deduplicationId = contentDeduplicationId(body);
    else
      throw invalidParameter(
        fields.messageDeduplicationId,
        "a deduplication id (the queue has no ContentBasedDeduplication)",
      );
  } else if (input.MessageDeduplicationId !== undefined)
    throw invalidParameter(
      fields.messageDeduplicationId,
      "no deduplication id on a standard queue",
    );
  return send;
}

/** What SQS answers a send with: the id, the digests and, on FIFO queues, the sequence number. */
export function sendResult(
  fifo: boolean,
  send: PreparedSend,
  outcome: { messageId: string; seq: number },
): SendMessageResult {
  const result: Writable<SendMessageResult> = {
    MessageId: outcome.messageId,
    MD5OfMessageBody: send.bodyMd5 ?? md5OfBody(send.body),
  };
  return withOptionalFields(result, fifo, send, outcome.seq);
}

/** The same as the entry `id` of a SendMessageBatch answer (built whole: no copy of the above). */
export function sendResultEntry(
  id: string,
  fifo: boolean,
  send: PreparedSend,
  outcome: { messageId: string; seq: number },
): SendMessageBatchResultEntry {
  const result: Writable<SendMessageBatchResultEntry> = {
    Id: id,
    MessageId: outcome.messageId,
    MD5OfMessageBody: send.bodyMd5 ?? md5OfBody(send.body),
  };
  return withOptionalFields(result, fifo, send, outcome.seq);
}

function withOptionalFields<T extends Writable<SendMessageResult>>(
  result: T,
  fifo: boolean,
  send: PreparedSend,
  seq: number,
): T {
  if (send.attributes !== undefined) result.MD5OfMessageAttributes = send.attributes.md5;
  if (send.systemAttributes !== undefined)
    result.MD5OfMessageSystemAttributes = send.systemAttributes.md5;
  if (fifo) result.SequenceNumber = formatSequenceNumber(seq);
  return result;
}
