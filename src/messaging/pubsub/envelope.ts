import type { PublishedMessage } from "./published-message.js";
import type { PubSubMessageAttributes } from "./pubsub-service.js";
import { setOwnEntry } from "../own-entry.js";

/** SNS's JSON envelope of a notification, as HTTP endpoints and non-raw queue subscribers get it. */
export function notificationEnvelope(
  message: PublishedMessage,
  topicArn: string,
  unsubscribeUrl: string,
): string {
  return new EnvelopeTemplate(message, topicArn).for(unsubscribeUrl);
}

/**
 * A message's envelope for every subscription of its topic: all of it but the UnsubscribeURL
 * (which names the subscription) is the same, so it is encoded once and each subscription's
 * envelope is the two halves around its own URL.
 */
export class EnvelopeTemplate {
  private readonly head: string;
  private readonly tail: string;

  constructor(message: PublishedMessage, topicArn: string) {
    const before: Record<string, unknown> = {
      Type: "Notification",
      MessageId: message.MessageId,
    };
    if (message.SequenceNumber !== undefined) before.SequenceNumber = message.SequenceNumber;
    before.TopicArn = topicArn;
    if (message.Subject !== undefined) before.Subject = message.Subject;
    before.Message = message.Message;
    before.Timestamp = new Date(message.timestamp).toISOString();
    // The same keys in the same order as one JSON.stringify of the whole envelope.
    const encoded = JSON.stringify(before);
    this.head = `${encoded.slice(0, -1)},"UnsubscribeURL":`;
    const attributes = envelopeAttributes(message.MessageAttributes);
    this.tail =
      attributes === undefined ? "}" : `,"MessageAttributes":${JSON.stringify(attributes)}}`;
  }

  /** The envelope as the subscription with this UnsubscribeURL gets it. */
  for(unsubscribeUrl: string): string {
    return this.head + JSON.stringify(unsubscribeUrl) + this.tail;
  }
}

/** Attributes in the envelope's form: `{ name: { Type, Value } }`, binary as base64. */
function envelopeAttributes(
  attributes: PubSubMessageAttributes,
): Record<string, { Type: string; Value: string }> | undefined {
  const names = Object.keys(attributes);
  if (names.length === 0) return undefined;
  const out: Record<string, { Type: string; Value: string }> = {};
  for (const name of names) {
    const a = attributes[name]!;
    setOwnEntry(out, name, {
      Type: a.DataType,
      Value:
        a.BinaryValue === undefined
          ? (a.StringValue ?? "")
          : Buffer.from(a.BinaryValue).toString("base64"),
    });
  }
  return out;
}

/** The message an HTTP(S) endpoint gets when subscribed: it must confirm with the token. */
export function confirmationEnvelope(input: {
  messageId: string;
  token: string;
  topicArn: string;
  subscribeUrl: string;
  timestamp: number;
}): string {
  return JSON.stringify({
    Type: "SubscriptionConfirmation",
    MessageId: input.messageId,
    Token: input.token,
    TopicArn: input.topicArn,
    Message: `You have chosen to subscribe to the topic ${input.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: input.subscribeUrl,
    Timestamp: new Date(input.timestamp).toISOString(),
  });
}
