import type { Message, QueueService } from "../../messaging/queues/index.js";
import type { AwsJsonService } from "../aws/aws-protocols.js";
import { toSqsError } from "./sqs-errors.js";
import { type SqsShape, callSqs, decodeBase64, encodeAttribute } from "./sqs-operations.js";

/** SQS in AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Operation>`), what current AWS SDKs send. */
export function sqsJsonService(queues: QueueService): AwsJsonService {
  return {
    name: "SQS",
    targetPrefix: "AmazonSQS",
    jsonVersion: "1.0",
    errorNamespace: "com.amazonaws.sqs#",
    queryCompatible: true,
    async call(operation, input, context) {
      const result = await callSqs(
        queues,
        operation,
        decodeInput(operation, input),
        () => context.signal,
      );
      return operation === "ReceiveMessage" ? encodeReceive(result) : result;
    },
    toAwsError: toSqsError,
  };
}

/** Base64 BinaryValues of a send's attributes (SendMessage, SendMessageBatch) to bytes. */
export function decodeInput(operation: string, input: SqsShape): SqsShape {
  if (operation === "SendMessage") return decodeSend(input, "");
  if (operation === "SendMessageBatch" && Array.isArray(input.Entries))
    return {
      ...input,
      Entries: input.Entries.map((entry: unknown, i) =>
        isObject(entry) ? decodeSend(entry, `Entries.${i + 1}.`) : entry,
      ),
    };
  return input;
}

function decodeSend(input: SqsShape, prefix: string): SqsShape {
  const out = { ...input };
  for (const field of ["MessageAttributes", "MessageSystemAttributes"] as const) {
    const attributes = input[field];
    if (!isObject(attributes)) continue;
    out[field] = Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [
        name,
        isObject(value) && typeof value.BinaryValue === "string"
          ? {
              ...value,
              BinaryValue: decodeBase64(value.BinaryValue, `${prefix}${field}.${name}.BinaryValue`),
            }
          : value,
      ]),
    );
  }
  return out;
}

export function encodeReceive(result: SqsShape | undefined): SqsShape | undefined {
  const messages = result?.Messages as Message[] | undefined;
  if (messages === undefined) return result;
  return {
    Messages: messages.map((m) =>
      m.MessageAttributes === undefined
        ? m
        : {
            ...m,
            MessageAttributes: Object.fromEntries(
              Object.entries(m.MessageAttributes).map(([n, v]) => [n, encodeAttribute(v)]),
            ),
          },
    ),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
