import { SluiceError, asError } from "../../errors/index.js";
import type { Clock } from "../../time/index.js";
import type { PubSubService } from "../pubsub/pubsub-service.js";
import type { QueueService, SendMessageInput } from "../queues/index.js";
import type { HttpPoster } from "../pubsub/http-poster.js";
import type { BusEvent, BusHandler, Target } from "./event-bus-service.js";

/** What targets deliver through. */
export interface TargetWiring {
  readonly clock: Clock;
  readonly queues: QueueService | undefined;
  readonly topics: PubSubService | undefined;
  readonly handlers: ReadonlyMap<string, BusHandler>;
  readonly http: HttpPoster;
  /** Puts an event on another bus of this service, as it is. */
  readonly forward: (bus: string, event: BusEvent) => Promise<void>;
  readonly busName: (arn: string) => string | undefined;
}

/** The kinds of target an ARN can name. */
export type TargetKind = "sqs" | "sns" | "bus" | "handler" | "http";

/** The kind of target `arn` names, or undefined. */
export function targetKind(arn: string): TargetKind | undefined {
  if (/^arn:aws:sqs:[^:]+:[^:]+:[A-Za-z0-9_.-]+$/.test(arn)) return "sqs";
  if (/^arn:aws:sns:[^:]+:[^:]+:[A-Za-z0-9_.-]+$/.test(arn)) return "sns";
  if (/^arn:aws:events:[^:]+:[^:]+:event-bus\/.+$/.test(arn)) return "bus";
  if (/^arn:aws:lambda:[^:]+:[^:]+:function:[A-Za-z0-9_-]+$/.test(arn)) return "handler";
  if (/^https?:\/\/[^/]/.test(arn)) return "http";
  return undefined;
}

/** A delivery attempt that failed; `code` is EventBridge's dead-letter ERROR_CODE. */
export class TargetError extends SluiceError {
  constructor(
    readonly targetCode: string,
    message: string,
    cause?: unknown,
  ) {
    super("SLUICE_IO", message, cause === undefined ? {} : { cause });
  }
}

/** What a target gets as text for `payload`: a string as it is, anything else as JSON. */
export const textOf = (payload: unknown): string =>
  typeof payload === "string" ? payload : JSON.stringify(payload);

/** Sends one payload to one target; throws TargetError when it was not delivered. */
export async function sendToTarget(
  wiring: TargetWiring,
  target: Target,
  payload: unknown,
  event: BusEvent,
  queueUrls: Map<string, string>,
): Promise<void> {
  const arn = target.Arn;
  switch (targetKind(arn)) {
    case "sqs": {
      const entry = queueEntryFor(target, textOf(payload), () => event.id);
      return sendToQueue(
        wiring,
        arn,
        entry.MessageBody,
        queueUrls,
        entry.MessageGroupId === undefined
          ? {}
          : {
              MessageGroupId: entry.MessageGroupId,
              MessageDeduplicationId: entry.MessageDeduplicationId ?? event.id,
            },
      );
    }
    case "sns":
      if (wiring.topics === undefined)
        throw new TargetError("SDK_CLIENT_ERROR", "no pub/sub service to deliver to");
      try {
        await wiring.topics.publish({ TopicArn: arn, Message: textOf(payload) });
      } catch (error) {
        throw new TargetError(
          "SNS_PUBLISH_FAILED",
          `topic ${arn}: ${asError(error).message}`,
          error,
        );
      }
      return;
    case "bus": {
      const bus = wiring.busName(arn);
      if (bus === undefined) throw new TargetError("RESOURCE_NOT_FOUND", `no bus ${arn}`);
      await wiring.forward(bus, event);
      return;
    }
    case "handler": {
      const name = arn.slice(arn.lastIndexOf(":") + 1);
      const handler = wiring.handlers.get(name);
      if (handler === undefined)
        throw new TargetError("RESOURCE_NOT_FOUND", `no handler registered as ${name}`);
      try {
        await handler(payload);
      } catch (error) {
        throw new TargetError(
          "HANDLER_FAILED",
          `handler ${name}: ${asError(error).message}`,
          error,
        );
      }
      return;
    }
    case "http": {
      let status: number;
      try {
        status = await wiring.http.post(
          arn,
          { "content-type": "application/json; charset=utf-8" },
          textOf(payload),
        );
      } catch (error) {
        throw new TargetError("HTTP_ERROR", asError(error).message, error);
      }
      if (status < 200 || status > 299)
        throw new TargetError(`HTTP_${status}`, `${arn} answered HTTP ${status}`);
      return;
    }
    default:
      throw new TargetError("INVALID_TARGET", `unsupported target ${arn}`);
  }
}

/**
 * The message a queue target gets with `body` (FIFO targets: the rule's group, and the event's
 * id, asked for only then, as the deduplication id).
 */
export function queueEntryFor(
  target: Target,
  body: string | undefined,
  eventId: () => string,
): Omit<SendMessageInput, "QueueUrl"> {
  // An absent body (an InputPath to nothing) is refused by the queue, as it was before.
  return target.SqsParameters === undefined
    ? { MessageBody: body! }
    : {
        MessageBody: body!,
        MessageGroupId: target.SqsParameters.MessageGroupId,
        MessageDeduplicationId: eventId(),
      };
}

/** The URL of the queue `arn` names, looked up once and cached in `queueUrls`. */
export async function queueUrlOf(
  wiring: TargetWiring,
  arn: string,
  queueUrls: Map<string, string>,
): Promise<string> {
  const queues = wiring.queues;
  if (queues === undefined)
    throw new TargetError("SDK_CLIENT_ERROR", "no queue service to deliver to");
  let url = queueUrls.get(arn);
  if (url === undefined) {
    url = (await queues.getQueueUrl({ QueueName: arn.slice(arn.lastIndexOf(":") + 1) })).QueueUrl;
    queueUrls.set(arn, url);
  }
  return url;
}

/** Sends a message to a queue named by ARN (the URL is looked up once and cached). */
export async function sendToQueue(
  wiring: TargetWiring,
  arn: string,
  body: string,
  queueUrls: Map<string, string>,
  extra: {
    MessageGroupId?: string;
    MessageDeduplicationId?: string;
    MessageAttributes?: Record<string, { DataType: string; StringValue: string }>;
  } = {},
): Promise<void> {
  const queues = wiring.queues;
  if (queues === undefined)
    throw new TargetError("SDK_CLIENT_ERROR", "no queue service to deliver to");
  try {
    const url = await queueUrlOf(wiring, arn, queueUrls);
    await queues.sendMessage({ QueueUrl: url, MessageBody: body, ...extra });
  } catch (error) {
    queueUrls.delete(arn);
    throw new TargetError("SQS_SEND_FAILED", `queue ${arn}: ${asError(error).message}`, error);
  }
}
