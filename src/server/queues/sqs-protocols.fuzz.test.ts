import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InjectServer, injectServer } from "../test-support/inject-server.js";

// Malformed or hostile input to the SQS endpoints gets a 4xx in the protocol's own error format
// and never changes state; nothing a client sends makes the server fail (5xx).
let sluice: InjectServer;
const URL = "http://localhost:8080/000000000000/fuzz";

beforeAll(async () => {
  sluice = await injectServer();
  await sluice.queues.createQueue({ QueueName: "fuzz" });
  await sluice.queues.sendMessage({ QueueUrl: URL, MessageBody: "keep me" });
});
afterAll(async () => {
  await sluice?.close();
});

/** What a 4xx must leave as it was: the queues and the message counts. */
async function snapshot(): Promise<string> {
  const { QueueUrls } = await sluice.queues.listQueues();
  const counts = await Promise.all(
    QueueUrls.map(
      async (QueueUrl) => (await sluice.queues.getQueueAttributes({ QueueUrl })).Attributes,
    ),
  );
  return JSON.stringify({
    QueueUrls,
    counts: counts.map((a) => [
      a.ApproximateNumberOfMessages,
      a.ApproximateNumberOfMessagesNotVisible,
      a.DelaySeconds,
      a.VisibilityTimeout,
      a.Policy,
    ]),
  });
}

const ACTIONS = [
  "CreateQueue",
  "DeleteQueue",
  "SendMessage",
  "SendMessageBatch",
  "ReceiveMessage",
  "DeleteMessage",
  "SetQueueAttributes",
  "PurgeQueue",
  "ChangeMessageVisibility",
  "TagQueue",
  "AddPermission",
  "RemovePermission",
  "Nope",
];
const KEYS = [
  "QueueName",
  "QueueUrl",
  "MessageBody",
  "DelaySeconds",
  "Attribute.1.Name",
  "Attribute.1.Value",
  "Attribute.0.Name",
  "Attribute.x.Value",
  "MessageAttribute.1.Name",
  "MessageAttribute.1.Value.DataType",
  "MessageAttribute.1.Value.BinaryValue",
  "SendMessageBatchRequestEntry.1.Id",
  "SendMessageBatchRequestEntry.1.MessageBody",
  "SendMessageBatchRequestEntry.99999999.Id",
  "ReceiptHandle",
  "VisibilityTimeout",
  "Tag.1.Key",
  "Label",
  "AWSAccountId.1",
  "ActionName.1",
  "ActionName.8",
];
const value = fc.oneof(
  fc.constantFrom(
    "",
    "fuzz",
    URL,
    "http://localhost:8080/000000000000/other",
    "-1",
    "99999999999",
    "1.5",
    "DelaySeconds",
    "111122223333",
    "SendMessage",
    "*",
    "%%%",
    "AAAA=",
    "\u0000",
  ),
  fc.string({ maxLength: 20 }),
);

describe("SQS request decoders under fuzzing", () => {
  it("query protocol: random forms answer 200 or a 4xx XML error, and a 4xx changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ACTIONS),
        fc.array(fc.tuple(fc.constantFrom(...KEYS), value), { maxLength: 6 }),
        fc.boolean(),
        async (action, pairs, garble) => {
          const form = new URLSearchParams([["Action", action], ...pairs]).toString();
          const before = await snapshot();
          const answer = await sluice.server.app.inject({
            method: "POST",
            url: "/",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            payload: garble ? form.replace(/=/g, "%") : form,
          });
          expect(answer.statusCode).toBeLessThan(500);
          if (answer.statusCode >= 400) {
            expect(answer.body).toMatch(
              /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>[^<]+<\/Code>/,
            );
            expect(answer.headers["x-amzn-query-error"]).toMatch(/;Sender$/);
            expect(await snapshot()).toBe(before);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("AWS JSON: random bodies answer 200 or a 4xx with __type, and a 4xx changes nothing", async () => {
    const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), value, fc.constant(URL));
    const body = fc.oneof(
      fc
        .record(
          {
            QueueUrl: field,
            QueueName: field,
            MessageBody: field,
            Entries: field,
            Attributes: field,
            MessageAttributes: field,
            DelaySeconds: field,
            Label: field,
            AWSAccountIds: field,
            Actions: field,
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
      fc.string({ maxLength: 30 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ACTIONS), body, async (action, payload) => {
        const before = await snapshot();
        const answer = await sluice.server.app.inject({
          method: "POST",
          url: "/",
          headers: {
            "x-amz-target": `AmazonSQS.${action}`,
            "content-type": "application/x-amz-json-1.0",
          },
          payload,
        });
        expect(answer.statusCode).toBeLessThan(500);
        if (answer.statusCode >= 400) {
          expect(answer.json<{ __type: string; message: string }>().__type).toMatch(/#\w+$/);
          expect(await snapshot()).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
  });
});
