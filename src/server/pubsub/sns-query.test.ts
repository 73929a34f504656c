import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InjectSluice, injectSluice } from "../test-support/inject-sluice.js";

// SNS refuses a request without a parameter it requires with InvalidParameter and
// "Invalid parameter: <name> Reason: no value for required parameter" (boto3 and the SDKs
// show that message as is), never with what the server made of an undefined value.
let s: InjectSluice;
const TOPIC = "arn:aws:sns:us-east-1:000000000000:present";

beforeAll(async () => {
  s = await injectSluice();
  await s.sluice.pubsub.createTopic({ Name: "present" });
});
afterAll(async () => {
  await s?.close();
});

const post = (form: Record<string, string>) =>
  s.server.app.inject({
    method: "POST",
    url: "/",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ Version: "2010-03-31", ...form }).toString(),
  });

const missing = (name: string): string =>
  `<Code>InvalidParameter</Code><Message>Invalid parameter: ${name} Reason: no value for required parameter</Message>`;

describe("SNS query protocol: missing required parameters", () => {
  it("CreateTopic without Name says Name is required, in SNS's words, and creates nothing", async () => {
    const answer = await post({ Action: "CreateTopic" });
    expect(answer.statusCode).toBe(400);
    expect(answer.headers["x-amzn-query-error"]).toBe("InvalidParameter;Sender");
    expect(answer.headers["x-sluice-error-field"]).toBe("Name");
    expect(answer.body).toContain(
      '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">',
    );
    expect(answer.body).toContain(missing("Name"));
    expect(answer.body).not.toContain("undefined");
    const { Topics } = await s.sluice.pubsub.listTopics();
    expect(Topics.map((t) => t.TopicArn)).toEqual([TOPIC]);
  });

  it("every action names the required parameter it lacks, the same way", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ Action: "DeleteTopic" }, "TopicArn"],
      [{ Action: "GetTopicAttributes" }, "TopicArn"],
      [{ Action: "SetTopicAttributes", TopicArn: TOPIC }, "AttributeName"],
      [{ Action: "Subscribe", TopicArn: TOPIC }, "Protocol"],
      [{ Action: "Unsubscribe" }, "SubscriptionArn"],
      [{ Action: "ConfirmSubscription", TopicArn: TOPIC }, "Token"],
      [{ Action: "Publish", Message: "m" }, "TopicArn or TargetArn"],
      [{ Action: "PublishBatch" }, "TopicArn"],
      [
        {
          Action: "PublishBatch",
          TopicArn: TOPIC,
          "PublishBatchRequestEntries.member.1.Id": "a",
          "PublishBatchRequestEntries.member.1.Message": "m",
          "PublishBatchRequestEntries.member.2.Message": "m",
        },
        "PublishBatchRequestEntries.member.2.Id",
      ],
      [
        { Action: "TagResource", ResourceArn: TOPIC, "Tags.member.1.Value": "v" },
        "Tags.member.1.Key",
      ],
      [
        {
          Action: "Publish",
          TopicArn: TOPIC,
          Message: "m",
          "MessageAttributes.entry.1.Value.DataType": "String",
          "MessageAttributes.entry.1.Value.StringValue": "v",
        },
        "MessageAttributes.entry.1.Name",
      ],
      [{ Action: "AddPermission", TopicArn: TOPIC, "ActionName.member.1": "Publish" }, "Label"],
      [
        { Action: "AddPermission", TopicArn: TOPIC, Label: "l", "ActionName.member.1": "Publish" },
        "AWSAccountId",
      ],
    ];
    for (const [form, name] of cases) {
      const answer = await post(form);
      expect(answer.statusCode, form.Action).toBe(400);
      expect(answer.body, JSON.stringify(form)).toContain(missing(name));
    }
    // Nothing was published or changed.
    const published = s.sluice.metrics
      .collect()
      .find((m) => m.name === "sluice_pubsub_published_total");
    expect(published?.kind === "counter" ? published.value : 0).toBe(0);
  });
});
