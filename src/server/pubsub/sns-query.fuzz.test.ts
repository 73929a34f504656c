import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InjectSluice, injectSluice } from "../test-support/inject-sluice.js";

// Malformed or hostile input to the SNS endpoint gets a 4xx in SNS's XML error format and
// never changes state; nothing a client sends makes the server fail (5xx).
let s: InjectSluice;
const TOPIC = "arn:aws:sns:us-east-1:000000000000:fuzz";
const QUEUE = "arn:aws:sqs:us-east-1:000000000000:fuzz-queue";
let subscriptionArn: string;

beforeAll(async () => {
  s = await injectSluice();
  await s.sluice.queues.createQueue({ QueueName: "fuzz-queue" });
  await s.sluice.pubsub.createTopic({ Name: "fuzz" });
  ({ SubscriptionArn: subscriptionArn } = await s.sluice.pubsub.subscribe({
    TopicArn: TOPIC,
    Protocol: "sqs",
    Endpoint: QUEUE,
  }));
});
afterAll(async () => {
  await s?.close();
});

/** Topics, their attributes and subscriptions (with attributes), and how many were published. */
async function snapshot(): Promise<string> {
  const pubsub = s.sluice.pubsub;
  const { Topics } = await pubsub.listTopics();
  const topics = await Promise.all(
    Topics.map(async ({ TopicArn }) => {
      const { Subscriptions } = await pubsub.listSubscriptionsByTopic({ TopicArn });
      return {
        attributes: (await pubsub.getTopicAttributes({ TopicArn })).Attributes,
        subscriptions: await Promise.all(
          Subscriptions.map(async (sub) =>
            sub.SubscriptionArn.startsWith("arn:")
              ? (await pubsub.getSubscriptionAttributes(sub)).Attributes
              : sub,
          ),
        ),
      };
    }),
  );
  const published = s.sluice.metrics
    .collect()
    .find((m) => m.name === "sluice_pubsub_published_total");
  return JSON.stringify({ topics, published: published?.kind === "counter" ? published.value : 0 });
}

const ACTIONS = [
  "CreateTopic",
  "DeleteTopic",
  "SetTopicAttributes",
  "Subscribe",
  "Unsubscribe",
  "SetSubscriptionAttributes",
  "ConfirmSubscription",
  "Publish",
  "PublishBatch",
  "ListSubscriptions",
  "GetTopicAttributes",
  "AddPermission",
  "RemovePermission",
  "Nope",
];
const KEYS = [
  "Name",
  "TopicArn",
  "TargetArn",
  "SubscriptionArn",
  "Protocol",
  "Endpoint",
  "Message",
  "Subject",
  "MessageStructure",
  "MessageGroupId",
  "Token",
  "NextToken",
  "AttributeName",
  "AttributeValue",
  "ReturnSubscriptionArn",
  "Attributes.entry.1.key",
  "Attributes.entry.1.value",
  "Attributes.entry.0.key",
  "Attributes.entry.x.value",
  "MessageAttributes.entry.1.Name",
  "MessageAttributes.entry.1.Value.DataType",
  "MessageAttributes.entry.1.Value.StringValue",
  "MessageAttributes.entry.1.Value.BinaryValue",
  "PublishBatchRequestEntries.member.1.Id",
  "PublishBatchRequestEntries.member.1.Message",
  "PublishBatchRequestEntries.member.99999999.Id",
  "Tags.member.1.Key",
  "Label",
  "AWSAccountId.member.1",
  "ActionName.member.1",
];
const value = fc.oneof(
  fc.constantFrom(
    "",
    "fuzz",
    TOPIC,
    `${TOPIC}.fifo`,
    "arn:aws:sns:us-east-1:000000000000:other",
    QUEUE,
    "sqs",
    "sns",
    "handler",
    "email",
    "FilterPolicy",
    "RawMessageDelivery",
    "DisplayName",
    "FifoTopic",
    "true",
    "{",
    '{"a":["b"]}',
    "String",
    "Number",
    "Publish",
    "111122223333",
    "-1",
    "%%%",
    "AAAA=",
    "\u0000",
  ),
  fc.string({ maxLength: 20 }),
);

describe("SNS request decoder under fuzzing", () => {
  it("random forms answer 200 or a 4xx SNS XML error, and a 4xx changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ACTIONS),
        fc.array(fc.tuple(fc.constantFrom(...KEYS), value), { maxLength: 6 }),
        fc.boolean(),
        fc.boolean(),
        async (action, pairs, garble, viaGet) => {
          const form = new URLSearchParams([
            ["Action", action],
            ["Version", "2010-03-31"],
            ...pairs,
          ]).toString();
          const payload = garble ? form.replace(/=/g, "%") : form;
          const before = await snapshot();
          // A GET without a readable Action is a browser asking for the index page.
          const answer = await s.server.app.inject(
            viaGet && !garble
              ? { method: "GET", url: `/?${payload}` }
              : {
                  method: "POST",
                  url: "/",
                  headers: { "content-type": "application/x-www-form-urlencoded" },
                  payload,
                },
          );
          expect(answer.statusCode, answer.body).toBeLessThan(500);
          if (answer.statusCode >= 400) {
            expect(answer.body).toMatch(
              /^<\?xml version="1.0"\?><ErrorResponse xmlns="http:\/\/(sns|queue)\.amazonaws\.com\/doc\/[\d-]+\/"><Error><Type>Sender<\/Type><Code>[A-Za-z.]+<\/Code><Message>/,
            );
            expect(await snapshot()).toBe(before);
          } else expect(answer.body).toContain(`<${action}Response`);
        },
      ),
      { numRuns: 400 },
    );
    // The subscription made in setup is either still there or was removed by a valid call.
    expect(typeof subscriptionArn).toBe("string");
  });

  it("wrong shapes of known parameters are refused with SNS's codes, naming the parameter", async () => {
    // The random forms above may have deleted the topic (a valid DeleteTopic): the cases below
    // need it to exist, so that an invalid parameter, not a missing topic, is what they meet.
    await s.sluice.pubsub.createTopic({ Name: "fuzz" });
    const call = (form: Record<string, string>) =>
      s.server.app.inject({
        method: "POST",
        url: "/",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({ Version: "2010-03-31", ...form }).toString(),
      });
    const cases: [Record<string, string>, number, string, string][] = [
      [{ Action: "Publish", Message: "x" }, 400, "InvalidParameter", "TopicArn"],
      [{ Action: "Publish", TopicArn: "nope", Message: "x" }, 400, "InvalidParameter", "TopicArn"],
      [{ Action: "Publish", TopicArn: `${TOPIC}-missing`, Message: "x" }, 404, "NotFound", "Topic"],
      [
        { Action: "Subscribe", TopicArn: TOPIC, Protocol: "handler", Endpoint: "x" },
        400,
        "InvalidParameter",
        "Protocol",
      ],
      [
        {
          Action: "Subscribe",
          TopicArn: TOPIC,
          Protocol: "sqs",
          Endpoint: QUEUE,
          ReturnSubscriptionArn: "yes",
        },
        400,
        "InvalidParameter",
        "ReturnSubscriptionArn",
      ],
      [
        {
          Action: "Publish",
          TopicArn: TOPIC,
          Message: "x",
          "MessageAttributes.entry.1.Name": "a",
          "MessageAttributes.entry.1.Value.DataType": "Binary",
          "MessageAttributes.entry.1.Value.BinaryValue": "***",
        },
        400,
        "InvalidParameter",
        "BinaryValue",
      ],
      [
        { Action: "Publish", TopicArn: TOPIC, Message: "x", MessageStructure: "json" },
        400,
        "InvalidParameter",
        "Message Structure - JSON message body failed to parse",
      ],
      [
        { Action: "Publish", TopicArn: TOPIC, Message: '{"sqs":"x"}', MessageStructure: "json" },
        400,
        "InvalidParameter",
        "Message Structure - No default entry in JSON message body",
      ],
      [
        { Action: "Publish", TopicArn: TOPIC, Message: "x", MessageStructure: "xml" },
        400,
        "InvalidParameter",
        "MessageStructure",
      ],
      [
        { Action: "TagResource", ResourceArn: `${TOPIC}-missing`, "Tags.member.1.Key": "k" },
        404,
        "ResourceNotFound",
        "missing",
      ],
      [{ Action: "ListSubscriptions", NextToken: "-3" }, 400, "InvalidParameter", "NextToken"],
      [{ Action: "DeleteQueueForever" }, 400, "InvalidAction", "DeleteQueueForever"],
      [
        { Action: "AddPermission", TopicArn: TOPIC, "AWSAccountId.member.1": "111122223333" },
        400,
        "InvalidParameter",
        "Label",
      ],
      [
        {
          Action: "AddPermission",
          TopicArn: TOPIC,
          Label: "l",
          "AWSAccountId.member.1": "111122223333",
          "ActionName.member.1": "CreateTopic",
        },
        400,
        "InvalidParameter",
        "out of service scope",
      ],
      [
        {
          Action: "AddPermission",
          TopicArn: TOPIC,
          Label: "l",
          "AWSAccountId.member.1": "me",
          "ActionName.member.1": "Publish",
        },
        400,
        "InvalidParameter",
        "AWSAccountId.member.1",
      ],
      [
        { Action: "RemovePermission", TopicArn: `${TOPIC}-missing`, Label: "l" },
        404,
        "NotFound",
        "Topic",
      ],
    ];
    for (const [form, status, code, named] of cases) {
      const before = await snapshot();
      const answer = await call(form);
      expect(answer.statusCode, JSON.stringify(form)).toBe(status);
      expect(answer.body).toContain(`<Code>${code}</Code>`);
      expect(answer.body).toContain(named);
      expect(await snapshot()).toBe(before);
    }
  });
});
