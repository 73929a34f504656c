import type { QueueAttributes, QueueService } from "./queue-service.js";

/**
 * A queue service that changes one queue's attributes as one step: `change` gets the attributes
 * as stored now and returns those to set, and no other change of the queue (from this process or,
 * on a shared backend, another) comes between the read and the write. `change` may run more
 * than once and must throw, not write, to refuse. Read-modify-write edits such as SQS's
 * `AddPermission` on the stored Policy use it so that concurrent edits are all kept.
 */
export interface AttributeEditing {
  editQueueAttributes(
    queueUrl: string,
    change: (current: Readonly<Record<string, string>>) => QueueAttributes,
  ): Promise<void>;
}

export function canEditAttributes(queues: QueueService): queues is QueueService & AttributeEditing {
  return typeof (queues as Partial<AttributeEditing>).editQueueAttributes === "function";
}
