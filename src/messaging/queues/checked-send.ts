import type { PreparedSend } from "./durable-queue.js";
import { REQUEST_FIELDS, type EntryFields } from "./entry-fields.js";
import { MessageAttributeSet } from "./message-attribute-set.js";
import { md5OfBody } from "./message-digest.js";
import { checkBody } from "./message-validation.js";
import type { QueueConfig } from "./queue-attributes.js";
import type { MessageAttributes, SendMessageBatchRequestEntry } from "./queue-service.js";
import { type CheckedContent, prepareForQueue, preparesAlike } from "./prepared-send.js";

/** What a fan-out sends to each of its queues. */
export interface CheckedSendInput {
  readonly MessageBody: string;
  readonly MessageAttributes?: MessageAttributes | MessageAttributeSet;
  readonly MessageGroupId?: string;
  readonly MessageDeduplicationId?: string;
}

/** Only `CheckedSend.of` holds it: no other code can make a CheckedSend whose checks it skipped. */
const made = Symbol("CheckedSend");

/**
 * A message checked once for the many queues a fan-out sends it to: its body (SQS's allowed
 * characters) and attributes as a send checks them, with the body's UTF-8 size and MD5. A bulk
 * send trusts it and checks only what depends on the queue (size limit, delay, FIFO rules);
 * queues of the same settings share what it becomes (see `preparedFor`).
 */
export class CheckedSend implements CheckedContent {
  /** What the last queue's settings made of it: queues of the same settings store the same. */
  private prepared: PreparedSend | undefined;
  private preparedConfig: QueueConfig | undefined;

  private constructor(
    key: typeof made,
    readonly body: string,
    readonly bodyMd5: string,
    /** Bytes of the body in UTF-8 and of its attributes, as SQS's size limit counts them. */
    readonly sizeBytes: number,
    readonly attributes: MessageAttributeSet | undefined,
    private readonly input: CheckedSendInput,
  ) {
    if (key !== made) throw new TypeError("a CheckedSend is made by CheckedSend.of");
  }

  /** Checks a message as a send would (throws its QueueError) and keeps what queues need. */
  static of(input: CheckedSendInput, fields: EntryFields = REQUEST_FIELDS): CheckedSend {
    const body = checkBody(input.MessageBody, fields.messageBody);
    const attributes =
      input.MessageAttributes instanceof MessageAttributeSet
        ? input.MessageAttributes
        : MessageAttributeSet.validated(input.MessageAttributes, fields.messageAttributes);
    return new CheckedSend(
      made,
      body,
      md5OfBody(body),
      Buffer.byteLength(body, "utf8") + (attributes?.sizeBytes ?? 0),
      attributes,
      input,
    );
  }

  /**
   * What a queue with `config` stores; throws as a send to that queue would. The same object
   * for successive queues whose settings agree on what a send to them becomes.
   */
  preparedFor(config: QueueConfig, fields: EntryFields): PreparedSend {
    const last = this.preparedConfig;
    if (last !== undefined && (last === config || preparesAlike(last, config, this.sizeBytes)))
      return this.prepared!;
    const prepared = prepareForQueue(config, this, this.input, fields);
    this.prepared = prepared;
    this.preparedConfig = config;
    return prepared;
  }

  /** The same message with a FIFO group and deduplication id (checked per queue, as a send's). */
  inGroup(groupId: string, deduplicationId: string | undefined): CheckedSend {
    const input: CheckedSendInput = {
      ...this.input,
      MessageGroupId: groupId,
      ...(deduplicationId === undefined ? {} : { MessageDeduplicationId: deduplicationId }),
    };
    return new CheckedSend(made, this.body, this.bodyMd5, this.sizeBytes, this.attributes, input);
  }

  /** As a SendMessageBatch entry, for a backend without bulk sends. */
  toBatchEntry(id: string): SendMessageBatchRequestEntry {
    const { MessageGroupId, MessageDeduplicationId } = this.input;
    return {
      Id: id,
      MessageBody: this.body,
      ...(this.attributes === undefined
        ? {}
        : { MessageAttributes: this.attributes.toAttributes() }),
      ...(MessageGroupId === undefined ? {} : { MessageGroupId }),
      ...(MessageDeduplicationId === undefined ? {} : { MessageDeduplicationId }),
    };
  }
}
