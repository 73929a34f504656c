import type {
  BatchResult,
  Message,
  MessageMoveTask,
  QueueService,
} from "../../messaging/queues/index.js";
import type { AwsQueryService } from "../aws/aws-protocols.js";
import type { QueryParams } from "../aws/query-params.js";
import type { XmlElement } from "../aws/xml.js";
import { toSqsError } from "./sqs-errors.js";
import {
  type SqsShape,
  callSqs,
  decodeBase64,
  encodeAttribute,
  isSqsOperation,
} from "./sqs-operations.js";
import { setOwnEntry } from "../../messaging/own-entry.js";

/**
 * SQS in the AWS query protocol (`Action=SendMessage&Version=2012-11-05`, XML answers), which
 * boto3 before 1.34 and many older SDKs send; the same operations as the JSON protocol.
 */
export function sqsQueryService(queues: QueueService): AwsQueryService {
  return {
    name: "SQS",
    version: "2012-11-05",
    xmlNamespace: "http://queue.amazonaws.com/doc/2012-11-05/",
    handles: isSqsOperation,
    async call(action, params, context) {
      const input = decodeQuery(action, params, context.path);
      const result = await callSqs(queues, action, input, () => context.signal);
      return result === undefined ? undefined : encodeXml(action, result);
    },
    toAwsError: toSqsError,
  };
}

/** The request in SQS's JSON shape; fields that were not sent stay absent. */
export function decodeQuery(action: string, p: QueryParams, path: string): SqsShape {
  // Older SDKs post to the queue URL and leave QueueUrl out of the form.
  const queueUrl = p.string("QueueUrl") ?? (path.split("/").length === 3 ? path : undefined);
  const withUrl = (fields: SqsShape): SqsShape => defined({ QueueUrl: queueUrl, ...fields });
  switch (action) {
    case "CreateQueue":
      return defined({
        QueueName: p.string("QueueName"),
        Attributes: p.has("Attribute") ? p.map("Attribute", "Name", "Value") : undefined,
        tags: p.has("Tag") ? p.map("Tag", "Key", "Value") : undefined,
      });
    case "ListQueues":
      return defined({
        QueueNamePrefix: p.string("QueueNamePrefix"),
        MaxResults: p.number("MaxResults"),
        NextToken: p.string("NextToken"),
      });
    case "GetQueueUrl":
      return defined({ QueueName: p.string("QueueName") });
    case "GetQueueAttributes":
      return withUrl({ AttributeNames: listOrUndefined(p, "AttributeName") });
    case "SetQueueAttributes":
      return withUrl({ Attributes: p.map("Attribute", "Name", "Value") });
    case "TagQueue":
      return withUrl({ Tags: p.map("Tag", "Key", "Value") });
    case "UntagQueue":
      return withUrl({ TagKeys: p.list("TagKey") });
    case "SendMessage":
      return withUrl(decodeSend(p, ""));
    case "SendMessageBatch":
      return withUrl({
        Entries: p.structures("SendMessageBatchRequestEntry").map((e, i) =>
          defined({
            Id: e.string("Id"),
            ...decodeSend(e, `SendMessageBatchRequestEntry.${i + 1}.`),
          }),
        ),
      });
    case "ReceiveMessage":
      return withUrl({
        AttributeNames: listOrUndefined(p, "AttributeName"),
        MessageSystemAttributeNames: listOrUndefined(p, "MessageSystemAttributeName"),
        MessageAttributeNames: listOrUndefined(p, "MessageAttributeName"),
        MaxNumberOfMessages: p.number("MaxNumberOfMessages"),
        VisibilityTimeout: p.number("VisibilityTimeout"),
        WaitTimeSeconds: p.number("WaitTimeSeconds"),
        ReceiveRequestAttemptId: p.string("ReceiveRequestAttemptId"),
      });
    case "DeleteMessage":
      return withUrl({ ReceiptHandle: p.string("ReceiptHandle") });
    case "DeleteMessageBatch":
      return withUrl({
        Entries: p
          .structures("DeleteMessageBatchRequestEntry")
          .map((e) => defined({ Id: e.string("Id"), ReceiptHandle: e.string("ReceiptHandle") })),
      });
    case "ChangeMessageVisibility":
      return withUrl({
        ReceiptHandle: p.string("ReceiptHandle"),
        VisibilityTimeout: p.number("VisibilityTimeout"),
      });
    case "ChangeMessageVisibilityBatch":
      return withUrl({
        Entries: p.structures("ChangeMessageVisibilityBatchRequestEntry").map((e) =>
          defined({
            Id: e.string("Id"),
            ReceiptHandle: e.string("ReceiptHandle"),
            VisibilityTimeout: e.number("VisibilityTimeout"),
          }),
        ),
      });
    case "StartMessageMoveTask":
      return defined({
        SourceArn: p.string("SourceArn"),
        DestinationArn: p.string("DestinationArn"),
        MaxNumberOfMessagesPerSecond: p.number("MaxNumberOfMessagesPerSecond"),
      });
    case "CancelMessageMoveTask":
      return defined({ TaskHandle: p.string("TaskHandle") });
    case "AddPermission":
      return withUrl({
        Label: p.string("Label"),
        AWSAccountIds: listOrUndefined(p, "AWSAccountId"),
        Actions: listOrUndefined(p, "ActionName"),
      });
    case "RemovePermission":
      return withUrl({ Label: p.string("Label") });
    case "ListMessageMoveTasks":
      return defined({ SourceArn: p.string("SourceArn"), MaxResults: p.number("MaxResults") });
    default:
      return withUrl({});
  }
}

function decodeSend(p: QueryParams, prefix: string): SqsShape {
  return defined({
    MessageBody: p.string("MessageBody"),
    DelaySeconds: p.number("DelaySeconds"),
    MessageAttributes: p.has("MessageAttribute")
      ? decodeAttributes(p, "MessageAttribute", prefix)
      : undefined,
    MessageSystemAttributes: p.has("MessageSystemAttribute")
      ? decodeAttributes(p, "MessageSystemAttribute", prefix)
      : undefined,
    MessageGroupId: p.string("MessageGroupId"),
    MessageDeduplicationId: p.string("MessageDeduplicationId"),
  });
}

function decodeAttributes(p: QueryParams, name: string, prefix: string): SqsShape {
  const out: Record<string, SqsShape> = {};
  for (const [i, entry] of p.structures(name).entries()) {
    const value = entry
      .under("Value")
      .attributeValue((binary) =>
        decodeBase64(binary, `${prefix}${name}.${i + 1}.Value.BinaryValue`),
      );
    setOwnEntry(out, entry.string("Name") ?? "", value);
  }
  return out;
}

function listOrUndefined(p: QueryParams, prefix: string): string[] | undefined {
  return p.has(prefix) ? p.list(prefix) : undefined;
}

function defined(fields: SqsShape): SqsShape {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** The `<ActionResult>` content for a result in SQS's JSON shape. */
function encodeXml(action: string, result: SqsShape): XmlElement | undefined {
  const batch = (entryName: string): XmlElement => {
    const { Successful, Failed } = result as unknown as BatchResult<XmlElement>;
    return { [entryName]: Successful, BatchResultErrorEntry: Failed as unknown as XmlElement[] };
  };
  switch (action) {
    case "ListQueues":
    case "ListDeadLetterSourceQueues":
      return {
        QueueUrl: (result.QueueUrls ?? result.queueUrls ?? []) as string[],
        NextToken: result.NextToken as string | undefined,
      };
    case "GetQueueAttributes":
      return { Attribute: nameValues((result.Attributes ?? {}) as Record<string, string>) };
    case "ListQueueTags":
      return {
        Tag: Object.entries(result.Tags as Record<string, string>).map(([Key, Value]) => ({
          Key,
          Value,
        })),
      };
    case "SendMessageBatch":
      return batch("SendMessageBatchResultEntry");
    case "DeleteMessageBatch":
      return batch("DeleteMessageBatchResultEntry");
    case "ChangeMessageVisibilityBatch":
      return batch("ChangeMessageVisibilityBatchResultEntry");
    case "ReceiveMessage":
      return { Message: ((result.Messages ?? []) as Message[]).map(encodeMessage) };
    case "ListMessageMoveTasks":
      return {
        ListMessageMoveTasksResultEntry: (result.Results as MessageMoveTask[]).map((task) => ({
          ...task,
        })),
      };
    default:
      return result as XmlElement;
  }
}

function encodeMessage(m: Message): XmlElement {
  return {
    MessageId: m.MessageId,
    ReceiptHandle: m.ReceiptHandle,
    MD5OfBody: m.MD5OfBody,
    Body: m.Body,
    Attribute: nameValues(m.Attributes ?? {}),
    MD5OfMessageAttributes: m.MD5OfMessageAttributes,
    MessageAttribute: Object.entries(m.MessageAttributes ?? {}).map(([Name, value]) => ({
      Name,
      Value: encodeAttribute(value),
    })),
  };
}

function nameValues(map: Record<string, string | undefined>): XmlElement[] {
  return Object.entries(map).map(([Name, Value]) => ({ Name, Value }));
}
