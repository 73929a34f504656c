import type { PublishedMessage } from "./published-message.js";
import type { PubSubMessageAttributes } from "./pubsub-service.js";

/** SNS's JSON envelope of a notification, as HTTP endpoints and non-raw queue subscribers get it. */
export function notificationEnvelope(
  message: PublishedMessage,
  topicArn: string,
  unsubscribeUrl: string,
): string {
  const envelope: Record<string, unknown> = {
    Type: "Notification",
    MessageId: message.MessageId,
  };
  if (message.SequenceNumber !== undefined) envelope.SequenceNumber = message.SequenceNumber;
  envelope.TopicArn = topicArn;
  if (message.Subject !== undefined) envelope.Subject = message.Subject;
  envelope.Message = message.Message;
  envelope.Timestamp = new Date(message.timestamp).toISOString();
  envelope.UnsubscribeURL = unsubscribeUrl;
  const attributes = envelopeAttributes(message.MessageAttributes);
  if (attributes !== undefined) envelope.MessageAttributes = attributes;
  return JSON.stringify(envelope);
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
    out[name] = {
      Type: a.DataType,
      Value:
        a.BinaryValue === undefined
          ? (a.StringValue ?? "")
          : Buffer.from(a.BinaryValue).toString("base64"),
    };
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
