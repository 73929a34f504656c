import type { MessageAttributeValue, QueueService } from "../../messaging/queues/index.js";
import { QueueError } from "../../messaging/queues/index.js";
import { unknownOperation } from "../aws/aws-error.js";
import { addQueuePermission, removeQueuePermission } from "./sqs-permissions.js";

/** A request or result in SQS's JSON shape; binary attribute values as bytes. */
export type SqsShape = Record<string, unknown>;

/** The request's abort signal, made only when an operation waits (a long poll). */
type SignalOf = () => AbortSignal;
type Operation = (queues: QueueService, input: SqsShape, signal: SignalOf) => Promise<unknown>;

// The inputs are handed to the service as they came: it validates every field itself (names,
// types, ranges), so both protocols and the library refuse the same input the same way.
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any */
const OPERATIONS: Record<string, Operation> = {
  CreateQueue: (q, i) => q.createQueue(i as any),
  DeleteQueue: async (q, i) => void (await q.deleteQueue(i as any)),
  ListQueues: async (q, i) => {
    const result = await q.listQueues(i);
    return result.QueueUrls.length === 0 && result.NextToken === undefined ? {} : result;
  },
  GetQueueUrl: (q, i) => q.getQueueUrl({ QueueName: i.QueueName as string }),
  // SQS answers no attributes when none are named (the library answers all: see queues.md).
  GetQueueAttributes: async (q, i) => {
    const { Attributes } = await q.getQueueAttributes({
      ...(i as any),
      AttributeNames: i.AttributeNames ?? [],
    });
    return Object.keys(Attributes).length === 0 ? {} : { Attributes };
  },
  SetQueueAttributes: async (q, i) => void (await q.setQueueAttributes(i as any)),
  TagQueue: async (q, i) => void (await q.tagQueue(i as any)),
  UntagQueue: async (q, i) => void (await q.untagQueue(i as any)),
  ListQueueTags: (q, i) => q.listQueueTags(i as any),
  PurgeQueue: async (q, i) => void (await q.purgeQueue(i as any)),
  ListDeadLetterSourceQueues: (q, i) =>
    q.listDeadLetterSourceQueues({ QueueUrl: i.QueueUrl as string }),
  SendMessage: (q, i) => q.sendMessage(i as any),
  SendMessageBatch: (q, i) => q.sendMessageBatch(i as any),
  ReceiveMessage: async (q, i, signal) => {
    const { Messages } = await q.receiveMessage({ ...(i as any), signal: signal() });
    return Messages.length === 0 ? {} : { Messages };
  },
  DeleteMessage: async (q, i) => void (await q.deleteMessage(i as any)),
  DeleteMessageBatch: (q, i) => q.deleteMessageBatch(i as any),
  ChangeMessageVisibility: async (q, i) => void (await q.changeMessageVisibility(i as any)),
  ChangeMessageVisibilityBatch: (q, i) => q.changeMessageVisibilityBatch(i as any),
  StartMessageMoveTask: (q, i) => q.startMessageMoveTask(i as any),
  CancelMessageMoveTask: (q, i) => q.cancelMessageMoveTask(i as any),
  ListMessageMoveTasks: (q, i) => q.listMessageMoveTasks(i as any),
  // Edits of the queue's stored Policy, as SQS makes them; not enforced.
  AddPermission: async (q, i) => void (await addQueuePermission(q, i)),
  RemovePermission: async (q, i) => void (await removeQueuePermission(q, i)),
};
/* eslint-enable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any */

/** Whether `operation` is an SQS action this server answers. */
export function isSqsOperation(operation: string): boolean {
  return Object.hasOwn(OPERATIONS, operation);
}

/** Runs one SQS operation on the queue service; the result is in SQS's JSON shape. */
export async function callSqs(
  queues: QueueService,
  operation: string,
  input: SqsShape,
  signal: SignalOf,
): Promise<SqsShape | undefined> {
  const run = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
  if (run === undefined) throw unknownOperation(operation);
  if (
    operation !== "ListQueues" &&
    operation !== "CreateQueue" &&
    operation !== "GetQueueUrl" &&
    !operation.includes("MessageMoveTask") &&
    input.QueueUrl === undefined
  )
    throw new QueueError("MissingParameter", "QueueUrl: required", "QueueUrl");
  return (await run(queues, input, signal)) as SqsShape | undefined;
}

/** Base64 text to bytes, refusing text that is not base64. */
export function decodeBase64(text: string, field: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1)
    throw new QueueError("InvalidParameterValue", `${field}: expected base64`, field);
  return Buffer.from(text, "base64");
}

/** A message attribute's BinaryValue as base64 for a JSON or XML answer. */
export function encodeAttribute(value: MessageAttributeValue): Record<string, string> {
  return {
    DataType: value.DataType,
    ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
    ...(value.BinaryValue === undefined
      ? {}
      : { BinaryValue: Buffer.from(value.BinaryValue).toString("base64") }),
  };
}
