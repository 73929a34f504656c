import { describe, expect, it } from "vitest";
import { EnvelopeTemplate, notificationEnvelope } from "./envelope.js";
import type { PublishedMessage } from "./published-message.js";

/** The envelope as one JSON.stringify of the whole object: what the template must give. */
function plainEnvelope(message: PublishedMessage, topicArn: string, url: string): string {
  const envelope: Record<string, unknown> = { Type: "Notification", MessageId: message.MessageId };
  if (message.SequenceNumber !== undefined) envelope.SequenceNumber = message.SequenceNumber;
  envelope.TopicArn = topicArn;
  if (message.Subject !== undefined) envelope.Subject = message.Subject;
  envelope.Message = message.Message;
  envelope.Timestamp = new Date(message.timestamp).toISOString();
  envelope.UnsubscribeURL = url;
  const names = Object.keys(message.MessageAttributes);
  if (names.length > 0)
    envelope.MessageAttributes = Object.fromEntries(
      names.map((name) => {
        const a = message.MessageAttributes[name]!;
        return [
          name,
          {
            Type: a.DataType,
            Value:
              a.BinaryValue === undefined
                ? (a.StringValue ?? "")
                : Buffer.from(a.BinaryValue).toString("base64"),
          },
        ];
      }),
    );
  return JSON.stringify(envelope);
}

describe("EnvelopeTemplate", () => {
  const topicArn = "arn:aws:sns:us-east-1:000000000000:orders";
  const messages: PublishedMessage[] = [
    { MessageId: "1", Message: "plain", MessageAttributes: {}, timestamp: 0 },
    {
      MessageId: "2",
      Message: '{"quoted":"\\"}","UnsubscribeURL":"x"}\u2028\u0000',
      Subject: 'a "subject"',
      MessageAttributes: {
        s: { DataType: "String", StringValue: '},"x":"' },
        n: { DataType: "Number", StringValue: "1.5" },
        b: { DataType: "Binary", BinaryValue: new Uint8Array([0, 255]) },
      },
      timestamp: 1_700_000_000_123,
      SequenceNumber: "00000000000000000042",
    },
  ];
  const urls = ["http://localhost/?Action=Unsubscribe&SubscriptionArn=a:b:c", 'odd "url" \\ é'];

  it("gives each subscription the envelope one JSON.stringify would", () => {
    for (const message of messages) {
      const template = new EnvelopeTemplate(message, topicArn);
      for (const url of urls) {
        expect(template.for(url)).toBe(plainEnvelope(message, topicArn, url));
        expect(notificationEnvelope(message, topicArn, url)).toBe(
          plainEnvelope(message, topicArn, url),
        );
        expect(JSON.parse(template.for(url))).toMatchObject({ UnsubscribeURL: url });
      }
    }
  });
});
