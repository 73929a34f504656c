/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access -- parsed XML is untyped */
import { createHash } from "node:crypto";
import {
  AddPermissionCommand,
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  OverLimit,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  RemovePermissionCommand,
  SQSClient,
  SendMessageBatchCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../test-support/test-server.js";

// The AWS SDK for JavaScript v3 speaks SQS in AWS JSON 1.0 and checks every MD5 it receives:
// these flows pass only if the server's shapes, digests and errors are SQS's.
let sluice: TestServer;
let sqs: SQSClient;

beforeAll(async () => {
  sluice = await startTestServer();
  sqs = new SQSClient({
    endpoint: sluice.url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
});

afterAll(async () => {
  sqs?.destroy();
  await sluice?.close();
});

/** A queue name suffix of its own per attempt: a retry must not meet the first attempt's queue. */
const attempt = (): string => `-${Date.now().toString(36)}`;

const until = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("SQS through @aws-sdk/client-sqs (AWS JSON 1.0)", () => {
  it("standard queue: URL on this server, attributes with MD5s checked by the SDK, delete", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "orders" }));
    expect(QueueUrl).toBe(`${sluice.url}/000000000000/orders`);
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: "order 1 ✓",
        MessageAttributes: {
          kind: { DataType: "String", StringValue: "order" },
          total: { DataType: "Number", StringValue: "42.5" },
          blob: { DataType: "Binary", BinaryValue: Uint8Array.of(0, 1, 254, 255) },
        },
      }),
    );
    expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    expect(Messages).toHaveLength(1);
    const m = Messages![0]!;
    expect(m.Body).toBe("order 1 ✓");
    expect(m.MessageAttributes?.kind?.StringValue).toBe("order");
    expect(Buffer.from(m.MessageAttributes!.blob!.BinaryValue!)).toEqual(
      Buffer.from([0, 1, 254, 255]),
    );
    expect(m.Attributes?.ApproximateReceiveCount).toBe("1");
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }),
    );
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe("0");
    expect(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe("0");
    const { QueueUrls } = await sqs.send(new ListQueuesCommand({}));
    expect(QueueUrls).toContain(QueueUrl);
  });

  it("batches, long polling and a visibility change", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "batch" }));
    const poll = sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10 }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 10 }, (_, i) => ({
          Id: `m${i}`,
          MessageBody: `body ${i}`,
          MessageAttributes: { n: { DataType: "Number", StringValue: String(i) } },
        })),
      }),
    );
    expect(batch.Successful).toHaveLength(10);
    expect(batch.Failed ?? []).toEqual([]);
    const first = (await poll).Messages ?? [];
    expect(first.length).toBeGreaterThan(0);
    const received = [...first];
    while (received.length < 10) {
      const more = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
      received.push(...(more.Messages ?? []));
    }
    expect(received.map((m) => m.Body).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `body ${i}`).sort(),
    );
    // Make one visible again at once; the rest are deleted in one batch.
    const [again, ...rest] = received;
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: again!.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: rest.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    expect(deleted.Successful).toHaveLength(9);
    const redelivered = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(redelivered.Messages?.map((m) => m.Body)).toEqual([again!.Body]);
  });

  it("FIFO queue: order within a group and deduplication", async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: "jobs.fifo", Attributes: { FifoQueue: "true" } }),
    );
    for (const body of ["a", "b", "a", "c"])
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: body,
          MessageGroupId: "g",
          MessageDeduplicationId: body,
        }),
      );
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["SequenceNumber"],
      }),
    );
    expect(Messages?.map((m) => m.Body)).toEqual(["a", "b", "c"]);
    expect(Messages?.every((m) => /^\d+$/.test(m.Attributes?.SequenceNumber ?? ""))).toBe(true);
  });

  it("dead-letter queue after maxReceiveCount, and a move task redrives it back", async () => {
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: "work-dlq" }))).QueueUrl!;
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    const work = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: "work",
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
          },
        }),
      )
    ).QueueUrl!;
    await sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: "poison" }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: work, VisibilityTimeout: 0 }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: work }))).Messages ?? []).toEqual(
      [],
    );
    const dead = await until(
      async () =>
        (await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, VisibilityTimeout: 0 })))
          .Messages,
    );
    expect(dead.map((m) => m.Body)).toEqual(["poison"]);
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    expect(TaskHandle).toEqual(expect.any(String));
    const back = await until(
      async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: work }))).Messages,
    );
    expect(back.map((m) => m.Body)).toEqual(["poison"]);
    const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    expect(tasks.Results?.[0]?.Status).toMatch(/RUNNING|COMPLETED/);
  });

  it("ChangeMessageVisibilityBatch changes each entry's visibility and reports a failed entry on its own", async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `visibility-batch${attempt()}` }),
    );
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: ["now", "soon", "later"].map((body) => ({ Id: body, MessageBody: body })),
      }),
    );
    const received = await until(async () => {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
      );
      return Messages?.length === 3 ? Messages : undefined;
    });
    const handle = (body: string): string => received.find((m) => m.Body === body)!.ReceiptHandle!;
    const changed = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl,
        Entries: [
          { Id: "now", ReceiptHandle: handle("now"), VisibilityTimeout: 0 },
          { Id: "soon", ReceiptHandle: handle("soon"), VisibilityTimeout: 2 },
          { Id: "bogus", ReceiptHandle: "not-a-receipt-handle", VisibilityTimeout: 0 },
        ],
      }),
    );
    expect(changed.Successful?.map((e) => e.Id).sort()).toEqual(["now", "soon"]);
    expect(changed.Failed).toEqual([
      {
        Id: "bogus",
        Code: "ReceiptHandleIsInvalid",
        SenderFault: true,
        Message: expect.any(String),
      },
    ]);
    // "now" is visible at once, "soon" after 2 s; "later" (not in the batch) keeps its 60 s.
    const first = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    expect(first.Messages?.map((m) => m.Body)).toEqual(["now"]);
    const started = Date.now();
    const second = await until(
      async () =>
        (
          await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
              VisibilityTimeout: 60,
            }),
          )
        ).Messages,
    );
    expect(second.map((m) => m.Body)).toEqual(["soon"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    expect(attrs.Attributes).toEqual({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "3",
    });
  });

  it("CancelMessageMoveTask stops a running move task: CANCELLED, the rest left in the dead-letter queue", async () => {
    const suffix = attempt();
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `slow-dlq${suffix}` })))
      .QueueUrl!;
    const arnOf = async (QueueUrl: string): Promise<string> =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] })))
        .Attributes!.QueueArn!;
    const dlqArn = await arnOf(dlq);
    const source = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: `slow-source${suffix}`,
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
          },
        }),
      )
    ).QueueUrl!;
    const total = 20;
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: dlq,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `a${i}`, MessageBody: `m${i}` })),
      }),
    );
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: dlq,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `b${i}`, MessageBody: `n${i}` })),
      }),
    );
    // One message a second: the task is still running when it is cancelled.
    const { TaskHandle } = await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: dlqArn,
        DestinationArn: await arnOf(source),
        MaxNumberOfMessagesPerSecond: 1,
      }),
    );
    // Cancelled once it has moved some, not all.
    const running = await until(async () => {
      const { Results } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
      return (Results?.[0]?.ApproximateNumberOfMessagesMoved ?? 0) > 0 ? Results![0] : undefined;
    });
    expect(running).toMatchObject({ TaskHandle, Status: "RUNNING" });
    const cancelled = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
    const moved = cancelled.ApproximateNumberOfMessagesMoved!;
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(total);
    const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    expect(tasks.Results?.[0]).toMatchObject({
      TaskHandle,
      Status: "CANCELLED",
      ApproximateNumberOfMessagesMoved: moved,
    });
    // Nothing moves after the cancel, and nothing is lost.
    await new Promise((r) => setTimeout(r, 1_500));
    const count = async (QueueUrl: string): Promise<number> =>
      Number(
        (
          await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl,
              AttributeNames: ["ApproximateNumberOfMessages"],
            }),
          )
        ).Attributes!.ApproximateNumberOfMessages,
      );
    expect(await count(source)).toBe(moved);
    expect(await count(dlq)).toBe(total - moved);
    // A task no longer running cannot be cancelled again; an unknown handle is not found.
    const again = (await sqs
      .send(new CancelMessageMoveTaskCommand({ TaskHandle }))
      .catch((e: unknown) => e)) as Error;
    expect(again.name).toBe("UnsupportedOperation");
    const unknown = (await sqs
      .send(new CancelMessageMoveTaskCommand({ TaskHandle: "never-issued" }))
      .catch((e: unknown) => e)) as Error;
    expect(unknown.name).toBe("ResourceNotFoundException");
  });

  it("UntagQueue removes the keys named and leaves the others; unknown keys are ignored", async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `tagged${attempt()}`,
        tags: { team: "core", env: "dev" },
      }),
    );
    await sqs.send(new TagQueueCommand({ QueueUrl, Tags: { cost: "42", owner: "ana" } }));
    const tags = async (): Promise<Record<string, string>> =>
      (await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags ?? {};
    expect(await tags()).toEqual({ team: "core", env: "dev", cost: "42", owner: "ana" });
    await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ["env", "owner", "absent"] }));
    expect(await tags()).toEqual({ team: "core", cost: "42" });
    await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ["team", "cost"] }));
    expect(await tags()).toEqual({});
  });

  it("GetQueueAttributes without AttributeNames returns no attributes, as SQS does", async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: "unnamed-attrs", Attributes: { DelaySeconds: "3" } }),
    );
    const none = await sqs.send(new GetQueueAttributesCommand({ QueueUrl }));
    expect(none.Attributes).toBeUndefined();
    const empty = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: [] }));
    expect(empty.Attributes).toBeUndefined();
    const named = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["DelaySeconds"] }),
    );
    expect(named.Attributes).toEqual({ DelaySeconds: "3" });
    // The queue is still looked up: a missing one is an error, not an empty answer.
    const missing: unknown = await sqs
      .send(new GetQueueAttributesCommand({ QueueUrl: `${sluice.url}/000000000000/nope` }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(QueueDoesNotExist);
  });

  it("AddPermission and RemovePermission edit the queue's stored Policy (not enforced), with SQS's errors", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "shared-jobs" }));
    const queueArn = "arn:aws:sqs:us-east-1:000000000000:shared-jobs";
    const policy = async (): Promise<string | undefined> =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["Policy"] })))
        .Attributes?.Policy;
    expect(await policy()).toBeUndefined();

    await sqs.send(
      new AddPermissionCommand({
        QueueUrl,
        Label: "partner-send",
        AWSAccountIds: ["111122223333"],
        Actions: ["SendMessage"],
      }),
    );
    await sqs.send(
      new AddPermissionCommand({
        QueueUrl,
        Label: "auditor",
        AWSAccountIds: ["444455556666", "777788889999"],
        Actions: ["GetQueueAttributes", "ReceiveMessage"],
      }),
    );
    expect(JSON.parse((await policy())!)).toEqual({
      Version: "2012-10-17",
      Id: `${queueArn}/SQSDefaultPolicy`,
      Statement: [
        {
          Sid: "partner-send",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111122223333:root" },
          Action: "SQS:SendMessage",
          Resource: queueArn,
        },
        {
          Sid: "auditor",
          Effect: "Allow",
          Principal: {
            AWS: ["arn:aws:iam::444455556666:root", "arn:aws:iam::777788889999:root"],
          },
          Action: ["SQS:GetQueueAttributes", "SQS:ReceiveMessage"],
          Resource: queueArn,
        },
      ],
    });

    const refused = async (command: AddPermissionCommand | RemovePermissionCommand) =>
      (await sqs.send(command as AddPermissionCommand).catch((e: unknown) => e)) as Error & {
        Code?: string;
      };
    const duplicate = await refused(
      new AddPermissionCommand({
        QueueUrl,
        Label: "auditor",
        AWSAccountIds: ["111122223333"],
        Actions: ["SendMessage"],
      }),
    );
    expect(duplicate.name).toBe("InvalidParameterValue");
    expect(duplicate.message).toContain("Already exists");
    const tooMany = await refused(
      new AddPermissionCommand({
        QueueUrl,
        Label: "many",
        AWSAccountIds: ["111122223333"],
        Actions: [
          "SendMessage",
          "ReceiveMessage",
          "DeleteMessage",
          "ChangeMessageVisibility",
          "GetQueueAttributes",
          "GetQueueUrl",
          "PurgeQueue",
          "ListDeadLetterSourceQueues",
        ],
      }),
    );
    expect(tooMany).toBeInstanceOf(OverLimit);
    const ownerOnly = await refused(
      new AddPermissionCommand({
        QueueUrl,
        Label: "deleter",
        AWSAccountIds: ["111122223333"],
        Actions: ["DeleteQueue"],
      }),
    );
    expect(ownerOnly.name).toBe("InvalidParameterValue");
    const badLabel = await refused(
      new AddPermissionCommand({
        QueueUrl,
        Label: "no spaces",
        AWSAccountIds: ["111122223333"],
        Actions: ["*"],
      }),
    );
    expect(badLabel.name).toBe("InvalidParameterValue");
    expect(badLabel.message).toContain("Label");
    const unknownLabel = await refused(new RemovePermissionCommand({ QueueUrl, Label: "nobody" }));
    expect(unknownLabel.name).toBe("InvalidParameterValue");
    const missingQueue = await refused(
      new RemovePermissionCommand({
        QueueUrl: `${sluice.url}/000000000000/nope`,
        Label: "auditor",
      }),
    );
    expect(missingQueue).toBeInstanceOf(QueueDoesNotExist);

    // Not enforced: any caller still sends.
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "still accepted" }));

    await sqs.send(new RemovePermissionCommand({ QueueUrl, Label: "partner-send" }));
    expect(
      (JSON.parse((await policy())!) as { Statement: { Sid: string }[] }).Statement.map(
        (s) => s.Sid,
      ),
    ).toEqual(["auditor"]);
    // The last permission removed takes the Policy with it.
    await sqs.send(new RemovePermissionCommand({ QueueUrl, Label: "auditor" }));
    expect(await policy()).toBeUndefined();
  });

  it("a missing queue is the SDK's QueueDoesNotExist, with the legacy code from x-amzn-query-error", async () => {
    const error: unknown = await sqs
      .send(new GetQueueUrlCommand({ QueueName: "missing" }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect((error as { Code?: string }).Code).toBe("AWS.SimpleQueueService.NonExistentQueue");
    expect((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(400);
  });
});

describe("SQS in the query protocol (form posts, XML answers)", () => {
  const xml = new XMLParser();
  const post = async (
    form: Record<string, string>,
    path = "/",
  ): Promise<{ status: number; body: any; header: string | null }> => {
    const response = await fetch(sluice.url + path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ Version: "2012-11-05", ...form }).toString(),
    });
    return {
      status: response.status,
      body: xml.parse(await response.text()),
      header: response.headers.get("x-amzn-query-error"),
    };
  };

  it("create, send with attributes, receive posted to the queue URL, delete", async () => {
    const created = await post({
      Action: "CreateQueue",
      QueueName: "legacy",
      "Attribute.1.Name": "VisibilityTimeout",
      "Attribute.1.Value": "45",
    });
    const url = created.body.CreateQueueResponse.CreateQueueResult.QueueUrl as string;
    expect(url).toBe(`${sluice.url}/000000000000/legacy`);
    const sent = await post({
      Action: "SendMessage",
      QueueUrl: url,
      MessageBody: "<xml & friends>",
      "MessageAttribute.1.Name": "k",
      "MessageAttribute.1.Value.DataType": "String",
      "MessageAttribute.1.Value.StringValue": "v",
    });
    expect(sent.body.SendMessageResponse.SendMessageResult.MD5OfMessageBody).toBe(
      createHash("md5").update("<xml & friends>").digest("hex"),
    );
    const received = await post(
      { Action: "ReceiveMessage", "MessageAttributeName.1": "All" },
      "/000000000000/legacy",
    );
    const message = received.body.ReceiveMessageResponse.ReceiveMessageResult.Message;
    expect(message.Body).toBe("<xml & friends>");
    expect(message.MessageAttribute.Value.StringValue).toBe("v");
    const attrs = await post({
      Action: "GetQueueAttributes",
      QueueUrl: url,
      "AttributeName.1": "VisibilityTimeout",
    });
    expect(attrs.body.GetQueueAttributesResponse.GetQueueAttributesResult.Attribute).toEqual({
      Name: "VisibilityTimeout",
      Value: 45,
    });
    const unnamed = await post({ Action: "GetQueueAttributes", QueueUrl: url });
    expect(unnamed.status).toBe(200);
    expect(unnamed.body.GetQueueAttributesResponse.GetQueueAttributesResult).toBe("");
    const deleted = await post({
      Action: "DeleteMessage",
      QueueUrl: url,
      ReceiptHandle: message.ReceiptHandle,
    });
    expect(deleted.status).toBe(200);
  });

  it("AddPermission and RemovePermission as form posts (AWSAccountId.N, ActionName.N)", async () => {
    const created = await post({ Action: "CreateQueue", QueueName: "legacy-shared" });
    const url = created.body.CreateQueueResponse.CreateQueueResult.QueueUrl as string;
    const added = await post({
      Action: "AddPermission",
      QueueUrl: url,
      Label: "partner",
      "AWSAccountId.1": "111122223333",
      "AWSAccountId.2": "444455556666",
      "ActionName.1": "SendMessage",
    });
    expect(added.status).toBe(200);
    expect(added.body.AddPermissionResponse).toBeDefined();
    const policyOf = async (): Promise<any> => {
      const got = await post({
        Action: "GetQueueAttributes",
        QueueUrl: url,
        "AttributeName.1": "Policy",
      });
      const attribute = got.body.GetQueueAttributesResponse.GetQueueAttributesResult.Attribute;
      return attribute === undefined ? undefined : JSON.parse(attribute.Value as string);
    };
    expect((await policyOf()).Statement).toEqual([
      {
        Sid: "partner",
        Effect: "Allow",
        Principal: {
          AWS: ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"],
        },
        Action: "SQS:SendMessage",
        Resource: "arn:aws:sqs:us-east-1:000000000000:legacy-shared",
      },
    ]);
    const noActions = await post({
      Action: "AddPermission",
      QueueUrl: url,
      Label: "other",
      "AWSAccountId.1": "111122223333",
    });
    expect(noActions.status).toBe(400);
    expect(noActions.body.ErrorResponse.Error.Code).toBe("MissingParameter");
    const removed = await post({ Action: "RemovePermission", QueueUrl: url, Label: "partner" });
    expect(removed.status).toBe(200);
    expect(await policyOf()).toBeUndefined();
    const again = await post({ Action: "RemovePermission", QueueUrl: url, Label: "partner" });
    expect(again.body.ErrorResponse.Error.Code).toBe("InvalidParameterValue");
  });

  it("errors: XML with the legacy code and the x-amzn-query-error header; unknown actions; malformed forms", async () => {
    const missing = await post({ Action: "GetQueueUrl", QueueName: "nope" });
    expect(missing.status).toBe(400);
    expect(missing.body.ErrorResponse.Error).toMatchObject({
      Type: "Sender",
      Code: "AWS.SimpleQueueService.NonExistentQueue",
    });
    expect(missing.header).toBe("AWS.SimpleQueueService.NonExistentQueue;Sender");
    const unknown = await post({ Action: "FlyToTheMoon" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.ErrorResponse.Error.Code).toBe("InvalidAction");
    const malformed = await post({
      Action: "CreateQueue",
      QueueName: "x",
      "Attribute.0.Name": "DelaySeconds",
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.ErrorResponse.Error.Code).toBe("MalformedQueryString");
    const queues = await post({ Action: "ListQueues" });
    expect(JSON.stringify(queues.body)).not.toContain("/x<");
  });
});
