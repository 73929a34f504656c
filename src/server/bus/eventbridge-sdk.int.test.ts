import {
  CancelReplayCommand,
  CreateArchiveCommand,
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  DescribeArchiveCommand,
  DescribeReplayCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  IllegalStatusException,
  InvalidEventPatternException,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTagsForResourceCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  ResourceNotFoundException,
  StartReplayCommand,
  TagResourceCommand,
  TestEventPatternCommand,
  UntagResourceCommand,
  UpdateArchiveCommand,
} from "@aws-sdk/client-eventbridge";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../test-support/test-server.js";

// The AWS SDK for JavaScript v3 speaks EventBridge in AWS JSON 1.1 and reads timestamps as
// epoch seconds: these flows pass only if the server's shapes and errors are EventBridge's.
let sluice: TestServer;
let events: EventBridgeClient;
let sqs: SQSClient;
let sns: SNSClient;

beforeAll(async () => {
  sluice = await startTestServer();
  const config = {
    endpoint: sluice.url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  };
  events = new EventBridgeClient(config);
  sqs = new SQSClient(config);
  sns = new SNSClient(config);
});

afterAll(async () => {
  events?.destroy();
  sqs?.destroy();
  sns?.destroy();
  await sluice?.close();
});

async function queue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** Receives (and deletes) until `count` bodies arrived, or fails after the deadline. */
async function receive(url: string, count: number): Promise<string[]> {
  const got: string[] = [];
  const deadline = Date.now() + 10_000;
  while (got.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${got.length} of ${count} arrived`);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of Messages) {
      got.push(m.Body!);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return got;
}

async function staysEmpty(url: string): Promise<boolean> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }),
  );
  return Messages.length === 0;
}

const order = (total: number, region = "eu-west-1") => ({
  Source: "shop.orders",
  DetailType: "OrderPlaced",
  Detail: JSON.stringify({ total, region }),
});

describe("EventBridge through @aws-sdk/client-eventbridge (AWS JSON 1.1)", () => {
  it("a rule with a pattern routes matching events to a queue, as the event or transformed", async () => {
    const target = await queue("big-orders");
    const shaped = await queue("order-totals");
    const { RuleArn } = await events.send(
      new PutRuleCommand({
        Name: "big-orders",
        EventPattern: JSON.stringify({
          source: ["shop.orders"],
          detail: { total: [{ numeric: [">=", 100] }] },
        }),
        Description: "orders of 100 or more",
      }),
    );
    expect(RuleArn).toBe("arn:aws:events:us-east-1:000000000000:rule/big-orders");
    const put = await events.send(
      new PutTargetsCommand({
        Rule: "big-orders",
        Targets: [
          { Id: "queue", Arn: target.arn },
          {
            Id: "totals",
            Arn: shaped.arn,
            InputTransformer: {
              InputPathsMap: { total: "$.detail.total" },
              InputTemplate: '{"amount": <total>}',
            },
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);

    const result = await events.send(
      new PutEventsCommand({
        Entries: [order(250), order(20), { ...order(300), Time: new Date("2026-01-02T03:04:05Z") }],
      }),
    );
    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries?.every((e) => /^[0-9a-f-]{36}$/.test(e.EventId ?? ""))).toBe(true);

    const delivered = (await receive(target.url, 2)).map(
      (b) => JSON.parse(b) as Record<string, unknown>,
    );
    expect(delivered.map((e) => (e.detail as { total: number }).total).sort()).toEqual([250, 300]);
    expect(delivered.find((e) => (e.detail as { total: number }).total === 300)).toMatchObject({
      source: "shop.orders",
      "detail-type": "OrderPlaced",
      time: "2026-01-02T03:04:05Z",
      account: "000000000000",
    });
    expect(await staysEmpty(target.url)).toBe(true);
    expect((await receive(shaped.url, 2)).map((b) => JSON.parse(b) as unknown)).toEqual(
      expect.arrayContaining([{ amount: 250 }, { amount: 300 }]),
    );
  });

  it("rules: describe, list, disable (events stop), enable, targets listed and removed, delete", async () => {
    const target = await queue("rule-life");
    await events.send(
      new PutRuleCommand({ Name: "life", EventPattern: JSON.stringify({ source: ["life"] }) }),
    );
    await events.send(
      new PutTargetsCommand({ Rule: "life", Targets: [{ Id: "q", Arn: target.arn }] }),
    );
    const rule = await events.send(new DescribeRuleCommand({ Name: "life" }));
    expect(rule).toMatchObject({
      Name: "life",
      Arn: "arn:aws:events:us-east-1:000000000000:rule/life",
      State: "ENABLED",
      EventBusName: "default",
    });
    const { Rules } = await events.send(new ListRulesCommand({ NamePrefix: "li" }));
    expect(Rules?.map((r) => r.Name)).toEqual(["life"]);

    const event = { Source: "life", DetailType: "Tick", Detail: "{}" };
    await events.send(new DisableRuleCommand({ Name: "life" }));
    expect((await events.send(new DescribeRuleCommand({ Name: "life" }))).State).toBe("DISABLED");
    await events.send(new PutEventsCommand({ Entries: [event] }));
    expect(await staysEmpty(target.url)).toBe(true);
    await events.send(new EnableRuleCommand({ Name: "life" }));
    await events.send(new PutEventsCommand({ Entries: [event] }));
    expect(await receive(target.url, 1)).toHaveLength(1);

    const { Targets } = await events.send(new ListTargetsByRuleCommand({ Rule: "life" }));
    expect(Targets).toEqual([{ Id: "q", Arn: target.arn }]);
    const removed = await events.send(new RemoveTargetsCommand({ Rule: "life", Ids: ["q"] }));
    expect(removed.FailedEntryCount).toBe(0);
    await events.send(new DeleteRuleCommand({ Name: "life" }));
    const gone = await events
      .send(new DescribeRuleCommand({ Name: "life" }))
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
  });

  it("custom buses: create, list, route to an SNS topic that fans out to a queue, delete", async () => {
    const { EventBusArn } = await events.send(new CreateEventBusCommand({ Name: "partners" }));
    expect(EventBusArn).toBe("arn:aws:events:us-east-1:000000000000:event-bus/partners");
    const { EventBuses } = await events.send(new ListEventBusesCommand({}));
    expect(EventBuses?.map((b) => b.Name)).toEqual(expect.arrayContaining(["default", "partners"]));

    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "partner-events" }));
    const target = await queue("partner-queue");
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: target.arn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    await events.send(
      new PutRuleCommand({
        Name: "all-partner",
        EventBusName: "partners",
        EventPattern: JSON.stringify({ source: [{ prefix: "partner." }] }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: "all-partner",
        EventBusName: "partners",
        Targets: [{ Id: "topic", Arn: TopicArn }],
      }),
    );
    await events.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: "partners", Source: "partner.acme", DetailType: "Hi", Detail: '{"n":1}' },
          { EventBusName: "partners", Source: "other", DetailType: "Hi", Detail: '{"n":2}' },
        ],
      }),
    );
    const bodies = await receive(target.url, 1);
    expect(JSON.parse(bodies[0]!)).toMatchObject({ source: "partner.acme", detail: { n: 1 } });
    expect(await staysEmpty(target.url)).toBe(true);

    await events.send(
      new DeleteRuleCommand({ Name: "all-partner", EventBusName: "partners", Force: true }),
    );
    await events.send(new DeleteEventBusCommand({ Name: "partners" }));
    const after = await events.send(new ListEventBusesCommand({}));
    expect(after.EventBuses?.map((b) => b.Name)).not.toContain("partners");
  });

  it("PutEvents reports each refused entry, and a missing bus, in its own result", async () => {
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          order(1),
          { Source: "x", DetailType: "y", Detail: "not json" },
          { ...order(2), EventBusName: "no-such-bus" },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries?.[0]?.EventId).toBeDefined();
    expect(result.Entries?.[1]?.ErrorCode).toBe("MalformedDetail");
    expect(result.Entries?.[2]?.ErrorCode).toBe("ResourceNotFoundException");
  });

  it("TestEventPattern matches and refuses bad patterns with InvalidEventPatternException", async () => {
    const event = JSON.stringify({
      id: "1",
      account: "000000000000",
      source: "shop.orders",
      time: "2026-01-01T00:00:00Z",
      region: "us-east-1",
      "detail-type": "OrderPlaced",
      resources: [],
      detail: { total: 120, note: "gift wrap" },
    });
    const test = (pattern: object) =>
      events.send(
        new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: event }),
      );
    expect((await test({ detail: { total: [{ numeric: [">", 100] }] } })).Result).toBe(true);
    expect((await test({ detail: { note: [{ wildcard: "*wrap" }] } })).Result).toBe(true);
    expect((await test({ source: [{ "anything-but": "shop.orders" }] })).Result).toBe(false);
    const bad = await events
      .send(new TestEventPatternCommand({ EventPattern: '{"source": "not a list"}', Event: event }))
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidEventPatternException);
  });

  it("an archive records matching events and a replay sends them to the rules again", async () => {
    const target = await queue("replayed");
    await events.send(
      new PutRuleCommand({
        Name: "audit",
        EventPattern: JSON.stringify({ source: ["audit"] }),
      }),
    );
    await events.send(
      new PutTargetsCommand({ Rule: "audit", Targets: [{ Id: "q", Arn: target.arn }] }),
    );
    const busArn = "arn:aws:events:us-east-1:000000000000:event-bus/default";
    const created = await events.send(
      new CreateArchiveCommand({
        ArchiveName: "audit-archive",
        EventSourceArn: busArn,
        EventPattern: JSON.stringify({ source: ["audit"] }),
        RetentionDays: 7,
      }),
    );
    expect(created.State).toBe("ENABLED");
    expect(created.CreationTime).toBeInstanceOf(Date);
    const start = new Date(Date.now() - 60_000);
    await events.send(
      new PutEventsCommand({
        Entries: [1, 2, 3].map((n) => ({
          Source: "audit",
          DetailType: "Entry",
          Detail: `{"n":${n}}`,
        })),
      }),
    );
    expect(await receive(target.url, 3)).toHaveLength(3);
    const archive = await until(async () => {
      const a = await events.send(new DescribeArchiveCommand({ ArchiveName: "audit-archive" }));
      return a.EventCount === 3 ? a : undefined;
    });
    expect(archive).toMatchObject({ EventSourceArn: busArn, RetentionDays: 7, State: "ENABLED" });

    // The end of a replay window may not be in the future; wait for the second to turn.
    await new Promise((r) => setTimeout(r, 1100));
    const end = new Date();
    const started = await events.send(
      new StartReplayCommand({
        ReplayName: "audit-replay",
        EventSourceArn: created.ArchiveArn,
        EventStartTime: start,
        EventEndTime: end,
        Destination: { Arn: busArn },
      }),
    );
    expect(started.ReplayArn).toBe("arn:aws:events:us-east-1:000000000000:replay/audit-replay");
    expect(started.ReplayStartTime).toBeInstanceOf(Date);
    const replay = await until(async () => {
      const r = await events.send(new DescribeReplayCommand({ ReplayName: "audit-replay" }));
      return r.State === "COMPLETED" ? r : undefined;
    });
    expect(replay.EventStartTime?.getTime()).toBe(start.getTime());
    expect(replay.ReplayEndTime).toBeInstanceOf(Date);
    const replayed = (await receive(target.url, 3)).map(
      (b) => JSON.parse(b) as Record<string, unknown>,
    );
    expect(replayed.every((e) => e["replay-name"] === "audit-replay")).toBe(true);
    expect(replayed.map((e) => (e.detail as { n: number }).n).sort()).toEqual([1, 2, 3]);

    const late = await events
      .send(new CancelReplayCommand({ ReplayName: "audit-replay" }))
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(IllegalStatusException);
    const missing = await events
      .send(new CancelReplayCommand({ ReplayName: "no-such-replay" }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("EventBridge tags and archive updates through @aws-sdk/client-eventbridge, across a restart", () => {
  const connect = (server: TestServer): EventBridgeClient =>
    new EventBridgeClient({
      endpoint: server.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
  const defaultBus = "arn:aws:events:us-east-1:000000000000:event-bus/default";

  it("tags of buses and rules round-trip and are still there after the server restarts on its data directory; so is an updated archive", async () => {
    let server = await startTestServer();
    let client = connect(server);
    try {
      const tagsOf = async (ResourceARN: string) =>
        (await client.send(new ListTagsForResourceCommand({ ResourceARN }))).Tags;
      const { EventBusArn } = await client.send(
        new CreateEventBusCommand({ Name: "tagged", Tags: [{ Key: "team", Value: "shop" }] }),
      );
      const { RuleArn } = await client.send(
        new PutRuleCommand({
          Name: "tagged-rule",
          EventBusName: "tagged",
          EventPattern: JSON.stringify({ source: ["shop"] }),
          Tags: [{ Key: "env", Value: "test" }],
        }),
      );
      await client.send(
        new TagResourceCommand({
          ResourceARN: RuleArn,
          Tags: [
            { Key: "env", Value: "prod" },
            { Key: "owner", Value: "" },
          ],
        }),
      );
      await client.send(
        new TagResourceCommand({ ResourceARN: defaultBus, Tags: [{ Key: "k", Value: "v" }] }),
      );
      expect(await tagsOf(RuleArn!)).toEqual([
        { Key: "env", Value: "prod" },
        { Key: "owner", Value: "" },
      ]);
      await client.send(new UntagResourceCommand({ ResourceARN: RuleArn, TagKeys: ["env"] }));
      expect(await tagsOf(RuleArn!)).toEqual([{ Key: "owner", Value: "" }]);
      expect(await tagsOf(EventBusArn!)).toEqual([{ Key: "team", Value: "shop" }]);

      const missing = await client
        .send(
          new ListTagsForResourceCommand({
            ResourceARN: "arn:aws:events:us-east-1:000000000000:rule/no-such-rule",
          }),
        )
        .catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(ResourceNotFoundException);
      const tooLong = await client
        .send(
          new TagResourceCommand({
            ResourceARN: RuleArn,
            Tags: [{ Key: "k".repeat(129), Value: "" }],
          }),
        )
        .catch((e: { name?: string; message?: string }) => e);
      expect(tooLong).toMatchObject({ name: "ValidationException" });
      expect((tooLong as { message: string }).message).toContain("Tags[0].Key");

      const { ArchiveArn } = await client.send(
        new CreateArchiveCommand({ ArchiveName: "tagged-archive", EventSourceArn: EventBusArn }),
      );
      const updated = await client.send(
        new UpdateArchiveCommand({
          ArchiveName: "tagged-archive",
          Description: "shop events",
          EventPattern: JSON.stringify({ source: ["shop"] }),
          RetentionDays: 14,
        }),
      );
      expect(updated).toMatchObject({ ArchiveArn, State: "ENABLED" });
      expect(updated.CreationTime).toBeInstanceOf(Date);
      const badPattern = await client
        .send(new UpdateArchiveCommand({ ArchiveName: "tagged-archive", EventPattern: "[1]" }))
        .catch((e: unknown) => e);
      expect(badPattern).toBeInstanceOf(InvalidEventPatternException);
      const noArchive = await client
        .send(new UpdateArchiveCommand({ ArchiveName: "no-such-archive", RetentionDays: 1 }))
        .catch((e: unknown) => e);
      expect(noArchive).toBeInstanceOf(ResourceNotFoundException);

      client.destroy();
      server = await server.restart();
      client = connect(server);
      expect(await tagsOf(EventBusArn!)).toEqual([{ Key: "team", Value: "shop" }]);
      expect(await tagsOf(RuleArn!)).toEqual([{ Key: "owner", Value: "" }]);
      expect(await tagsOf(defaultBus)).toEqual([{ Key: "k", Value: "v" }]);
      expect(
        await client.send(new DescribeArchiveCommand({ ArchiveName: "tagged-archive" })),
      ).toMatchObject({
        Description: "shop events",
        EventPattern: JSON.stringify({ source: ["shop"] }),
        RetentionDays: 14,
      });
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
