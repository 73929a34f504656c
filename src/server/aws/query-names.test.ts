import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InjectSluice, injectSluice } from "../test-support/inject-sluice.js";

let sluice: InjectSluice;
beforeAll(async () => {
  sluice = await injectSluice();
});
afterAll(async () => {
  await sluice.close();
});

const query = async (
  params: Record<string, string>,
  version = "2012-11-05", // SQS's; SNS's is 2010-03-31
): Promise<string> => {
  const answer = await sluice.server.app.inject({
    method: "POST",
    url: "/",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ ...params, Version: version }).toString(),
  });
  expect(answer.statusCode).toBe(200);
  return answer.body;
};

/**
 * The query protocol's attribute and tag lists are decoded into records keyed by the names the
 * client sent: "__proto__" (a valid name) is kept like any other, not taken as a prototype.
 */
describe("query protocols: attribute and tag names JavaScript gives a meaning to", () => {
  it("SQS keeps a message attribute and a tag named __proto__", async () => {
    const QueueUrl = /<QueueUrl>([^<]+)<\/QueueUrl>/.exec(
      await query({ Action: "CreateQueue", QueueName: "names" }),
    )![1]!;
    await query({
      Action: "SendMessage",
      QueueUrl,
      MessageBody: "b",
      "MessageAttribute.1.Name": "__proto__",
      "MessageAttribute.1.Value.DataType": "String",
      "MessageAttribute.1.Value.StringValue": "kept",
    });
    const received = await query({
      Action: "ReceiveMessage",
      QueueUrl,
      "MessageAttributeName.1": "All",
    });
    expect(received).toContain(
      "<MessageAttribute><Name>__proto__</Name><Value><DataType>String</DataType><StringValue>kept</StringValue></Value></MessageAttribute>",
    );
    await query({ Action: "TagQueue", QueueUrl, "Tag.1.Key": "__proto__", "Tag.1.Value": "t" });
    expect(await query({ Action: "ListQueueTags", QueueUrl })).toContain(
      "<Tag><Key>__proto__</Key><Value>t</Value></Tag>",
    );
  });

  it("SNS keeps a message attribute named __proto__ on its way to a queue", async () => {
    const { sluice: s } = sluice;
    const { QueueUrl } = await s.queues.createQueue({ QueueName: "from-sns" });
    const { TopicArn } = await s.pubsub.createTopic({ Name: "names" });
    await s.pubsub.subscribe({
      TopicArn,
      Protocol: "sqs",
      Endpoint: "arn:aws:sqs:us-east-1:000000000000:from-sns",
      Attributes: { RawMessageDelivery: "true" },
    });
    await query(
      {
        Action: "Publish",
        TopicArn,
        Message: "m",
        "MessageAttributes.entry.1.Name": "__proto__",
        "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "kept",
      },
      "2010-03-31",
    );
    const { Messages = [] } = await s.queues.receiveMessage({
      QueueUrl,
      MessageAttributeNames: ["All"],
      WaitTimeSeconds: 5,
    });
    expect(JSON.stringify(Messages[0]?.MessageAttributes)).toBe(
      '{"__proto__":{"DataType":"String","StringValue":"kept"}}',
    );
  });
});
