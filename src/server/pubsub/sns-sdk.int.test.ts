import { type IncomingMessage, type Server, createServer } from "node:http";
import {
  AddPermissionCommand,
  ConfirmSubscriptionCommand,
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  InvalidParameterException,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTagsForResourceCommand,
  ListTopicsCommand,
  NotFoundException,
  PublishBatchCommand,
  PublishCommand,
  RemovePermissionCommand,
  ResourceNotFoundException,
  SNSClient,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  TagLimitExceededException,
  TagResourceCommand,
  UnsubscribeCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../test-support/test-server.js";

// The AWS SDK for JavaScript v3 speaks SNS in the AWS query protocol and parses SNS's XML:
// these flows pass only if the server's shapes and errors are SNS's. Deliveries are read back
// with the SQS client, as an application would.
let sluice: TestServer;
let sns: SNSClient;
let sqs: SQSClient;

beforeAll(async () => {
  sluice = await startTestServer();
  const config = {
    endpoint: sluice.url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  };
  sns = new SNSClient(config);
  sqs = new SQSClient(config);
});

afterAll(async () => {
  sns?.destroy();
  sqs?.destroy();
  await sluice?.close();
});

async function queue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** Receives until `count` messages arrived (deleting them), or fails after the deadline. */
async function receive(url: string, count: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 10_000;
  while (got.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${got.length} of ${count} arrived`);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
      }),
    );
    for (const m of Messages) {
      got.push(m);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return got;
}

/** Whether the queue stays empty for a short while (what a filter dropped never comes). */
async function staysEmpty(url: string): Promise<boolean> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }),
  );
  return Messages.length === 0;
}

describe("SNS through @aws-sdk/client-sns (AWS query protocol)", () => {
  it("topics: create (idempotent), list, attributes, delete", async () => {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({
        Name: "orders",
        Attributes: { DisplayName: "Orders" },
        Tags: [{ Key: "team", Value: "shop" }],
      }),
    );
    expect(TopicArn).toBe("arn:aws:sns:us-east-1:000000000000:orders");
    const again = await sns.send(new CreateTopicCommand({ Name: "orders" }));
    expect(again.TopicArn).toBe(TopicArn);
    const { Topics } = await sns.send(new ListTopicsCommand({}));
    expect(Topics).toContainEqual({ TopicArn });

    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn,
        AttributeName: "DisplayName",
        AttributeValue: "All orders",
      }),
    );
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn }));
    expect(Attributes).toMatchObject({
      TopicArn,
      DisplayName: "All orders",
      SubscriptionsConfirmed: "0",
    });

    await sns.send(new DeleteTopicCommand({ TopicArn }));
    const after = await sns.send(new ListTopicsCommand({}));
    expect(after.Topics ?? []).not.toContainEqual({ TopicArn });
  });

  it("fan-out to queues with filter policies on attributes and on the body, raw and enveloped", async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "shop-events" }));
    const all = await queue("all-events");
    const big = await queue("big-orders");
    const eu = await queue("eu-orders");
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: all.arn }));
    const bigSub = await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: big.arn,
        Attributes: {
          FilterPolicy: JSON.stringify({ kind: ["order"], total: [{ numeric: [">=", 100] }] }),
          RawMessageDelivery: "true",
        },
        ReturnSubscriptionArn: true,
      }),
    );
    expect(bigSub.SubscriptionArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:shop-events:/);
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: eu.arn,
        Attributes: {
          FilterPolicy: JSON.stringify({ region: [{ prefix: "eu-" }] }),
          FilterPolicyScope: "MessageBody",
          RawMessageDelivery: "true",
        },
      }),
    );

    const publish = (message: object, kind: string, total: number): Promise<unknown> =>
      sns.send(
        new PublishCommand({
          TopicArn,
          Message: JSON.stringify(message),
          Subject: "order",
          MessageAttributes: {
            kind: { DataType: "String", StringValue: kind },
            total: { DataType: "Number", StringValue: String(total) },
          },
        }),
      );
    await publish({ id: 1, region: "eu-west-1" }, "order", 250);
    await publish({ id: 2, region: "us-east-1" }, "order", 20);
    await publish({ id: 3, region: "eu-north-1" }, "refund", 500);

    // The unfiltered queue gets SNS's JSON envelope of every message.
    const envelopes = (await receive(all.url, 3)).map(
      (m) => JSON.parse(m.Body!) as Record<string, unknown>,
    );
    expect(
      envelopes
        .map((e) => JSON.parse(e.Message as string) as { id: number })
        .map((m) => m.id)
        .sort(),
    ).toEqual([1, 2, 3]);
    expect(envelopes[0]).toMatchObject({
      Type: "Notification",
      TopicArn,
      Subject: "order",
      MessageAttributes: { kind: { Type: "String" }, total: { Type: "Number" } },
    });
    expect(envelopes[0]!.UnsubscribeURL).toMatch(
      new RegExp(`^${sluice.url}/\\?Action=Unsubscribe`),
    );

    // Raw delivery: the body as published, attributes as SQS message attributes.
    const bigOnes = await receive(big.url, 1);
    expect(JSON.parse(bigOnes[0]!.Body!)).toEqual({ id: 1, region: "eu-west-1" });
    expect(bigOnes[0]!.MessageAttributes?.kind?.StringValue).toBe("order");
    expect(await staysEmpty(big.url)).toBe(true);

    const euOnes = await receive(eu.url, 2);
    expect(euOnes.map((m) => (JSON.parse(m.Body!) as { id: number }).id).sort()).toEqual([1, 3]);
    expect(await staysEmpty(eu.url)).toBe(true);
  });

  it("subscriptions: list (by topic and all), attributes, changing the filter, unsubscribe", async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "alerts" }));
    const target = await queue("alert-queue");
    const { SubscriptionArn } = await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: target.arn }),
    );
    const byTopic = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    expect(byTopic.Subscriptions).toEqual([
      {
        SubscriptionArn,
        TopicArn,
        Protocol: "sqs",
        Endpoint: target.arn,
        Owner: "000000000000",
      },
    ]);
    const all = await sns.send(new ListSubscriptionsCommand({}));
    expect(all.Subscriptions?.map((s) => s.SubscriptionArn)).toContain(SubscriptionArn);

    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn,
        AttributeName: "FilterPolicy",
        AttributeValue: JSON.stringify({ level: ["critical"] }),
      }),
    );
    const { Attributes } = await sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn }),
    );
    expect(Attributes).toMatchObject({
      SubscriptionArn,
      TopicArn,
      Protocol: "sqs",
      Endpoint: target.arn,
      FilterPolicy: JSON.stringify({ level: ["critical"] }),
      FilterPolicyScope: "MessageAttributes",
      RawMessageDelivery: "false",
      PendingConfirmation: "false",
    });
    const level = (value: string) => ({ level: { DataType: "String", StringValue: value } });
    await sns.send(
      new PublishCommand({ TopicArn, Message: "low", MessageAttributes: level("low") }),
    );
    await sns.send(
      new PublishCommand({ TopicArn, Message: "fire", MessageAttributes: level("critical") }),
    );
    const got = await receive(target.url, 1);
    expect((JSON.parse(got[0]!.Body!) as { Message: string }).Message).toBe("fire");

    await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
    const after = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    expect(after.Subscriptions ?? []).toEqual([]);
  });

  it("PublishBatch: each entry succeeds or fails on its own", async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "batch-topic" }));
    const target = await queue("batch-queue");
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: target.arn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    const result = await sns.send(
      new PublishBatchCommand({
        TopicArn,
        PublishBatchRequestEntries: [
          { Id: "a", Message: "one" },
          {
            Id: "b",
            Message: "two",
            MessageAttributes: { n: { DataType: "Number", StringValue: "2" } },
          },
          {
            Id: "c",
            Message: "bad",
            MessageAttributes: { n: { DataType: "Number", StringValue: "x" } },
          },
        ],
      }),
    );
    expect(result.Successful?.map((e) => e.Id).sort()).toEqual(["a", "b"]);
    expect(result.Successful?.[0]?.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: "c", Code: "InvalidParameterValue", SenderFault: true }),
    ]);
    const bodies = (await receive(target.url, 2)).map((m) => m.Body).sort();
    expect(bodies).toEqual(["one", "two"]);
  });

  it("FIFO topic to a FIFO queue keeps order and returns sequence numbers", async () => {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({
        Name: "ledger.fifo",
        Attributes: { FifoTopic: "true", ContentBasedDeduplication: "true" },
      }),
    );
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: "ledger.fifo",
        Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
      }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: Attributes!.QueueArn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    const first = await sns.send(
      new PublishCommand({ TopicArn, Message: "entry 1", MessageGroupId: "acct-1" }),
    );
    expect(first.SequenceNumber).toMatch(/^\d+$/);
    await sns.send(new PublishCommand({ TopicArn, Message: "entry 2", MessageGroupId: "acct-1" }));
    const got = await receive(QueueUrl!, 2);
    expect(got.map((m) => m.Body)).toEqual(["entry 1", "entry 2"]);
  });

  it("an HTTP endpoint confirms through the SubscribeURL, then gets notifications", async () => {
    const received: { type: string; path: string; body: Record<string, string> }[] = [];
    const endpoint = await listen((request, body) => {
      received.push({
        type: String(request.headers["x-amz-sns-message-type"]),
        path: request.url ?? "",
        body: JSON.parse(body) as Record<string, string>,
      });
    });
    try {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "webhooks" }));
      const subscribed = await sns.send(
        new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: endpoint.url }),
      );
      expect(subscribed.SubscriptionArn).toBe("pending confirmation");
      const confirmation = await until(() =>
        received.find((r) => r.type === "SubscriptionConfirmation"),
      );
      expect(confirmation.body.SubscribeURL).toMatch(
        new RegExp(`^${sluice.url}/\\?Action=ConfirmSubscription`),
      );
      // What an endpoint does: GET the SubscribeURL. SNS answers in XML.
      const visit = await fetch(confirmation.body.SubscribeURL!);
      expect(visit.status).toBe(200);
      const xml = await visit.text();
      expect(xml).toContain("<ConfirmSubscriptionResponse");
      const arn = /<SubscriptionArn>([^<]+)<\/SubscriptionArn>/.exec(xml)![1]!;

      const { Attributes } = await sns.send(
        new GetSubscriptionAttributesCommand({ SubscriptionArn: arn }),
      );
      expect(Attributes).toMatchObject({ PendingConfirmation: "false", Endpoint: endpoint.url });

      // A second endpoint confirms through the SDK with the token it was sent.
      const second = `${endpoint.url}/second`;
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: second }));
      const secondConfirmation = await until(() =>
        received.find((r) => r.type === "SubscriptionConfirmation" && r.path === "/hook/second"),
      );
      const confirmed = await sns.send(
        new ConfirmSubscriptionCommand({ TopicArn, Token: secondConfirmation.body.Token }),
      );
      expect(confirmed.SubscriptionArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:webhooks:/);

      await sns.send(new PublishCommand({ TopicArn, Message: "hello hook" }));
      const notes = await until(() => {
        const found = received.filter((r) => r.type === "Notification");
        return found.length === 2 ? found : undefined;
      });
      expect(notes.map((n) => n.path).sort()).toEqual(["/hook", "/hook/second"]);
      expect(notes[0]!.body).toMatchObject({
        Type: "Notification",
        Message: "hello hook",
        TopicArn,
      });
    } finally {
      await endpoint.close();
    }
  });

  it("MessageStructure json: each queue gets its sqs entry, raw and in the envelope; the rest the default", async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "per-protocol" }));
    const raw = await queue("per-protocol-raw");
    const wrapped = await queue("per-protocol-wrapped");
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: raw.arn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: wrapped.arn }));
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn,
        MessageStructure: "json",
        Message: JSON.stringify({ default: "for anyone", sqs: "for queues", email: "unused" }),
        Subject: "per protocol",
      }),
    );
    expect((await receive(raw.url, 1)).map((m) => m.Body)).toEqual(["for queues"]);
    const [envelope] = await receive(wrapped.url, 1);
    expect(JSON.parse(envelope!.Body!)).toMatchObject({
      Type: "Notification",
      MessageId,
      TopicArn,
      Subject: "per protocol",
      Message: "for queues",
    });

    const batch = await sns.send(
      new PublishBatchCommand({
        TopicArn,
        PublishBatchRequestEntries: [
          {
            Id: "structured",
            MessageStructure: "json",
            Message: JSON.stringify({ default: "batch default", sqs: "batch sqs" }),
          },
          { Id: "no-default", MessageStructure: "json", Message: JSON.stringify({ sqs: "x" }) },
        ],
      }),
    );
    expect(batch.Successful?.map((e) => e.Id)).toEqual(["structured"]);
    expect(batch.Failed).toMatchObject([
      {
        Id: "no-default",
        Code: "InvalidParameter",
        Message: "Invalid parameter: Message Structure - No default entry in JSON message body",
        SenderFault: true,
      },
    ]);
    expect((await receive(raw.url, 1)).map((m) => m.Body)).toEqual(["batch sqs"]);

    const notJson = await sns
      .send(new PublishCommand({ TopicArn, MessageStructure: "json", Message: "plain text" }))
      .catch((e: unknown) => e);
    expect(notJson).toBeInstanceOf(InvalidParameterException);
    expect((notJson as Error).message).toBe(
      "Invalid parameter: Message Structure - JSON message body failed to parse",
    );
    expect(await staysEmpty(raw.url)).toBe(true);
  });

  it("tags: CreateTopic with tags, TagResource, ListTagsForResource, UntagResource; Policy stored", async () => {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({ Name: "tagged", Tags: [{ Key: "team", Value: "shop" }] }),
    );
    const tags = async (): Promise<Record<string, string>> => {
      const { Tags = [] } = await sns.send(
        new ListTagsForResourceCommand({ ResourceArn: TopicArn }),
      );
      return Object.fromEntries(Tags.map((t): [string, string] => [t.Key!, t.Value!]));
    };
    expect(await tags()).toEqual({ team: "shop" });
    await sns.send(
      new TagResourceCommand({
        ResourceArn: TopicArn,
        Tags: [
          { Key: "env", Value: "prod" },
          { Key: "team", Value: "payments" },
        ],
      }),
    );
    expect(await tags()).toEqual({ team: "payments", env: "prod" });
    await sns.send(new UntagResourceCommand({ ResourceArn: TopicArn, TagKeys: ["team"] }));
    expect(await tags()).toEqual({ env: "prod" });

    const tooMany = await sns
      .send(
        new TagResourceCommand({
          ResourceArn: TopicArn,
          Tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: "v" })),
        }),
      )
      .catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(TagLimitExceededException);
    expect(await tags()).toEqual({ env: "prod" });
    const missing = await sns
      .send(
        new ListTagsForResourceCommand({
          ResourceArn: "arn:aws:sns:us-east-1:000000000000:no-such-topic",
        }),
      )
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    const longKey = await sns
      .send(
        new TagResourceCommand({
          ResourceArn: TopicArn,
          Tags: [{ Key: "k".repeat(129), Value: "" }],
        }),
      )
      .catch((e: unknown) => e);
    expect(longKey).toBeInstanceOf(InvalidParameterException);

    const policy = JSON.stringify({
      Version: "2008-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "SNS:Publish", Resource: TopicArn }],
    });
    await sns.send(
      new SetTopicAttributesCommand({ TopicArn, AttributeName: "Policy", AttributeValue: policy }),
    );
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn }));
    expect(Attributes?.Policy).toBe(policy);
  });

  it("GetTopicAttributes answers SNS's default Policy and EffectiveDeliveryPolicy; AddPermission and RemovePermission edit the Policy", async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "shared-orders" }));
    const attributes = async (): Promise<Record<string, string>> =>
      (await sns.send(new GetTopicAttributesCommand({ TopicArn }))).Attributes ?? {};
    const fresh = await attributes();
    expect(fresh).toMatchObject({
      Owner: "000000000000",
      DisplayName: "",
      SubscriptionsPending: "0",
      SubscriptionsConfirmed: "0",
      SubscriptionsDeleted: "0",
    });
    const defaultPolicy = JSON.parse(fresh.Policy!) as {
      Id: string;
      Statement: { Sid: string; Resource: string; Condition: unknown; Action: string[] }[];
    };
    expect(defaultPolicy.Id).toBe("__default_policy_ID");
    expect(defaultPolicy.Statement).toHaveLength(1);
    expect(defaultPolicy.Statement[0]).toMatchObject({
      Sid: "__default_statement_ID",
      Resource: TopicArn,
      Condition: { StringEquals: { "AWS:SourceOwner": "000000000000" } },
    });
    expect(defaultPolicy.Statement[0]!.Action).toContain("SNS:Publish");
    expect(JSON.parse(fresh.EffectiveDeliveryPolicy!)).toMatchObject({
      http: {
        defaultHealthyRetryPolicy: { numRetries: 3, minDelayTarget: 20, maxDelayTarget: 20 },
        disableSubscriptionOverrides: false,
      },
    });

    // A topic DeliveryPolicy is merged over the default.
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn,
        AttributeName: "DeliveryPolicy",
        AttributeValue: JSON.stringify({ http: { defaultHealthyRetryPolicy: { numRetries: 5 } } }),
      }),
    );
    const effective = JSON.parse((await attributes()).EffectiveDeliveryPolicy!) as {
      http: { defaultHealthyRetryPolicy: Record<string, unknown> };
    };
    expect(effective.http.defaultHealthyRetryPolicy).toMatchObject({
      numRetries: 5,
      minDelayTarget: 20,
      backoffFunction: "linear",
    });

    await sns.send(
      new AddPermissionCommand({
        TopicArn,
        Label: "partner-publish",
        AWSAccountId: ["111122223333", "444455556666"],
        ActionName: ["Publish", "Subscribe"],
      }),
    );
    await sns.send(
      new AddPermissionCommand({
        TopicArn,
        Label: "auditor",
        AWSAccountId: ["777788889999"],
        ActionName: ["GetTopicAttributes"],
      }),
    );
    type Statement = { Sid: string; Principal: unknown; Action: unknown; Resource: string };
    const statements = async (): Promise<Statement[]> =>
      (JSON.parse((await attributes()).Policy!) as { Statement: Statement[] }).Statement;
    const granted = await statements();
    expect(granted.map((s) => s.Sid)).toEqual([
      "__default_statement_ID",
      "partner-publish",
      "auditor",
    ]);
    expect(granted[1]).toEqual({
      Sid: "partner-publish",
      Effect: "Allow",
      Principal: { AWS: ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"] },
      Action: ["SNS:Publish", "SNS:Subscribe"],
      Resource: TopicArn,
    });
    expect(granted[2]).toMatchObject({
      Principal: { AWS: "arn:aws:iam::777788889999:root" },
      Action: "SNS:GetTopicAttributes",
    });

    const duplicate = await sns
      .send(
        new AddPermissionCommand({
          TopicArn,
          Label: "auditor",
          AWSAccountId: ["777788889999"],
          ActionName: ["Publish"],
        }),
      )
      .catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(InvalidParameterException);
    expect((duplicate as Error).message).toContain("Statement already exists");
    const outOfScope = await sns
      .send(
        new AddPermissionCommand({
          TopicArn,
          Label: "creator",
          AWSAccountId: ["777788889999"],
          ActionName: ["CreateTopic"],
        }),
      )
      .catch((e: unknown) => e);
    expect(outOfScope).toBeInstanceOf(InvalidParameterException);
    const missing = await sns
      .send(
        new AddPermissionCommand({
          TopicArn: `${TopicArn}-missing`,
          Label: "x",
          AWSAccountId: ["777788889999"],
          ActionName: ["Publish"],
        }),
      )
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundException);

    await sns.send(new RemovePermissionCommand({ TopicArn, Label: "partner-publish" }));
    await sns.send(new RemovePermissionCommand({ TopicArn, Label: "never-added" }));
    expect((await statements()).map((s) => s.Sid)).toEqual(["__default_statement_ID", "auditor"]);

    // Concurrent edits through one server are all kept (per-key-serializer.test.ts shows why
    // with a backend that answers slowly; the embedded one leaves no gap to race in).
    await Promise.all(
      ["a", "b", "c", "d"].map((Label) =>
        sns.send(
          new AddPermissionCommand({
            TopicArn,
            Label,
            AWSAccountId: ["111122223333"],
            ActionName: ["Publish"],
          }),
        ),
      ),
    );
    expect((await statements()).map((s) => s.Sid).sort()).toEqual(
      ["__default_statement_ID", "a", "auditor", "b", "c", "d"].sort(),
    );
  });

  it("errors are SNS's: NotFound for a missing topic, InvalidParameter naming the field", async () => {
    const missing = "arn:aws:sns:us-east-1:000000000000:no-such-topic";
    const error = await sns
      .send(new PublishCommand({ TopicArn: missing, Message: "x" }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundException);
    expect((error as NotFoundException).$metadata.httpStatusCode).toBe(404);
    expect((error as NotFoundException).message).toContain("Topic does not exist");

    const bad = await sns
      .send(new CreateTopicCommand({ Name: "no spaces" }))
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidParameterException);
    expect((bad as Error).message).toContain("Topic Name");

    const filter = await sns
      .send(
        new SubscribeCommand({
          TopicArn: (await sns.send(new CreateTopicCommand({ Name: "strict" }))).TopicArn,
          Protocol: "sqs",
          Endpoint: (await queue("strict-queue")).arn,
          Attributes: { FilterPolicy: "{not json" },
        }),
      )
      .catch((e: unknown) => e);
    expect(filter).toBeInstanceOf(InvalidParameterException);
  });
});

async function until<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A tiny HTTP endpoint on loopback that records what it is posted. */
async function listen(
  onPost: (request: IncomingMessage, body: string) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      onPost(request, body);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
