import { fileURLToPath } from "node:url";
import { EventBridgeClient, ListEventBusesCommand } from "@aws-sdk/client-eventbridge";
import { CreateTopicCommand, ListTopicsCommand, SNSClient } from "@aws-sdk/client-sns";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasBoto3, requireBoto3InCi, runBoto3 } from "../test-support/boto3.js";
import { type TestServer, startTestServer } from "../test-support/test-server.js";

// A server with configured keys: the AWS SDK signs every request with SigV4, and only the
// right secret gets through, in all three protocols (JSON 1.0, JSON 1.1, query).
const KEY = { accessKeyId: "AKIDSLUICE", secretAccessKey: "right/secret+value" };
let sluice: TestServer;

beforeAll(async () => {
  sluice = await startTestServer({ awsCredentials: [KEY] });
});
afterAll(async () => {
  await sluice?.close();
});

type Credentials = { accessKeyId: string; secretAccessKey: string };
const config = (credentials: Credentials) => ({
  endpoint: sluice.url,
  region: "us-east-1",
  credentials,
  maxAttempts: 1,
});

/** The error a call fails with: its name (the SDK's code) and HTTP status. */
async function failure(
  call: Promise<unknown>,
): Promise<{ name: string; status: number | undefined }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e as { name: string; $metadata?: { httpStatusCode?: number } },
  );
  if (error === undefined) throw new Error("the call succeeded");
  return { name: error.name, status: error.$metadata?.httpStatusCode };
}

describe("SigV4 verification with configured keys", () => {
  it("accepts the right secret in SQS (JSON 1.0), SNS (query) and EventBridge (JSON 1.1)", async () => {
    const sqs = new SQSClient(config(KEY));
    const sns = new SNSClient(config(KEY));
    const events = new EventBridgeClient(config(KEY));
    try {
      expect(await sqs.send(new ListQueuesCommand({}))).toBeDefined();
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "signed" }));
      expect(TopicArn).toContain(":signed");
      expect((await sns.send(new ListTopicsCommand({}))).Topics).toContainEqual({ TopicArn });
      const { EventBuses } = await events.send(new ListEventBusesCommand({}));
      expect(EventBuses?.map((b) => b.Name)).toContain("default");
    } finally {
      sqs.destroy();
      sns.destroy();
      events.destroy();
    }
  });

  it("refuses a wrong secret with SignatureDoesNotMatch (403) in each protocol's error format", async () => {
    const wrong = { ...KEY, secretAccessKey: "wrong" };
    const sqs = new SQSClient(config(wrong));
    const sns = new SNSClient(config(wrong));
    const events = new EventBridgeClient(config(wrong));
    try {
      expect(await failure(sqs.send(new ListQueuesCommand({})))).toEqual({
        name: "SignatureDoesNotMatch",
        status: 403,
      });
      expect(await failure(sns.send(new CreateTopicCommand({ Name: "never" })))).toEqual({
        name: "SignatureDoesNotMatch",
        status: 403,
      });
      expect(await failure(events.send(new ListEventBusesCommand({})))).toEqual({
        name: "SignatureDoesNotMatch",
        status: 403,
      });
      // Nothing was created by the refused call.
      expect(await sluice.sluice.pubsub.listTopics()).toEqual({
        Topics: [{ TopicArn: "arn:aws:sns:us-east-1:000000000000:signed" }],
      });
    } finally {
      sqs.destroy();
      sns.destroy();
      events.destroy();
    }
  });

  it("refuses an unknown key with InvalidClientTokenId", async () => {
    const sns = new SNSClient(config({ accessKeyId: "NOBODY", secretAccessKey: "x" }));
    try {
      expect(await failure(sns.send(new ListTopicsCommand({})))).toEqual({
        name: "InvalidClientTokenId",
        status: 403,
      });
    } finally {
      sns.destroy();
    }
  });

  it("answers unsigned requests in XML or JSON, and a truncated signature with IncompleteSignature", async () => {
    const form = await fetch(`${sluice.url}/`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=ListTopics&Version=2010-03-31",
    });
    expect(form.status).toBe(403);
    const xml = await form.text();
    expect(xml).toContain("<Code>MissingAuthenticationToken</Code>");
    expect(xml).toContain('<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">');

    const json = await fetch(`${sluice.url}/`, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AWSEvents.ListEventBuses",
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKIDSLUICE/20260101/us-east-1/events/aws4_request",
        "x-amz-date": "20260101T000000Z",
      },
      body: "{}",
    });
    expect(json.status).toBe(400);
    expect(json.headers.get("content-type")).toContain("application/x-amz-json-1.1");
    expect(await json.json()).toMatchObject({ __type: "IncompleteSignature" });
  });

  it("lets an HTTP endpoint confirm its subscription through the SubscribeURL without a signature", async () => {
    const sns = new SNSClient(config(KEY));
    try {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "hooks-signed" }));
      const url = `${sluice.url}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TopicArn!)}&Token=nope`;
      const visit = await fetch(url);
      // Past the signature check: the token itself is what is refused.
      expect(visit.status).toBe(400);
      expect(await visit.text()).toContain("<Code>InvalidParameter</Code>");
      const unsignedPublish = await fetch(
        `${sluice.url}/?Action=Publish&TopicArn=${encodeURIComponent(TopicArn!)}&Message=x`,
      );
      expect(unsignedPublish.status).toBe(403);
    } finally {
      sns.destroy();
    }
  });

  // botocore signs with its own implementation; Debian's boto3 speaks the query protocol.
  const SIGNED = fileURLToPath(new URL("./test-support/boto3_signed.py", import.meta.url));
  const boto3 = async (accessKeyId: string, secret: string): Promise<string> =>
    (await runBoto3(SIGNED, [sluice.url, accessKeyId, secret])).output;

  requireBoto3InCi();

  it.skipIf(!hasBoto3)(
    "boto3 (SNS and SQS, query protocol) passes with the right secret only",
    async () => {
      expect(await boto3(KEY.accessKeyId, KEY.secretAccessKey)).toContain("signed ok");
      expect(await boto3(KEY.accessKeyId, "wrong")).toContain("error SignatureDoesNotMatch");
    },
  );
});
