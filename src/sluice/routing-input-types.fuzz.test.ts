import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { BusError } from "../messaging/bus/bus-error.js";
import { PatternError } from "../messaging/bus/patterns/index.js";
import { PubSubError } from "../messaging/pubsub/pubsub-error.js";
import { type SweptPart, untypedFailures } from "../test-support/type-sweep.js";
import { VirtualClock } from "../time/index.js";
import { open, type Sluice } from "./open.js";

const ACCOUNT = "arn:aws:sns:us-east-1:000000000000";
const TOPIC = `${ACCOUNT}:typed`;
const QUEUE = "arn:aws:sqs:us-east-1:000000000000:typed-sink";
const BUS = "arn:aws:events:us-east-1:000000000000:event-bus/default";
const RULE = "arn:aws:events:us-east-1:000000000000:rule/typed";

interface Case {
  readonly method: string;
  /** Valid input; each call gets a fresh one (new names where a call creates something). */
  readonly input: () => Record<string, unknown>;
  /** Paths inside the input swept with every wrong type ([] is the input itself). */
  readonly fields: readonly (readonly (string | number)[])[];
}

let counter = 0;
const fresh = (prefix: string): string => `${prefix}-${counter++}`;
const attributes = { kind: { DataType: "String", StringValue: "order" } };

const PUBSUB: readonly Case[] = [
  {
    method: "createTopic",
    input: () => ({ Name: fresh("t"), Attributes: { DisplayName: "d" }, Tags: [tag()] }),
    fields: [[], ["Name"], ["Attributes"], ["Attributes", "DisplayName"], ["Tags"], ["Tags", 0]],
  },
  { method: "getTopicAttributes", input: () => ({ TopicArn: TOPIC }), fields: [[], ["TopicArn"]] },
  {
    method: "setTopicAttributes",
    input: () => ({ TopicArn: TOPIC, AttributeName: "DisplayName", AttributeValue: "d" }),
    fields: [[], ["TopicArn"], ["AttributeName"], ["AttributeValue"]],
  },
  { method: "listTopics", input: () => ({}), fields: [[], ["NextToken"]] },
  {
    method: "subscribe",
    input: () => ({
      TopicArn: TOPIC,
      Protocol: "sqs",
      Endpoint: QUEUE,
      Attributes: { RawMessageDelivery: "true", FilterPolicy: '{"kind":["order"]}' },
    }),
    fields: [
      [],
      ["TopicArn"],
      ["Protocol"],
      ["Endpoint"],
      ["Attributes"],
      ["Attributes", "RawMessageDelivery"],
      ["Attributes", "FilterPolicy"],
      ["ReturnSubscriptionArn"],
    ],
  },
  {
    method: "listSubscriptionsByTopic",
    input: () => ({ TopicArn: TOPIC }),
    fields: [[], ["TopicArn"], ["NextToken"]],
  },
  {
    method: "publish",
    input: () => ({
      TopicArn: TOPIC,
      Message: "m",
      Subject: "s",
      MessageAttributes: attributes,
    }),
    fields: [
      [],
      ["TopicArn"],
      ["Message"],
      ["Subject"],
      ["MessageStructure"],
      ["MessageAttributes"],
      ["MessageAttributes", "kind"],
      ["MessageAttributes", "kind", "DataType"],
      ["MessageAttributes", "kind", "StringValue"],
    ],
  },
  {
    method: "publishBatch",
    input: () => ({
      TopicArn: TOPIC,
      PublishBatchRequestEntries: [{ Id: "a", Message: "m", MessageAttributes: attributes }],
    }),
    fields: [
      [],
      ["TopicArn"],
      ["PublishBatchRequestEntries"],
      ["PublishBatchRequestEntries", 0],
      ["PublishBatchRequestEntries", 0, "Id"],
      ["PublishBatchRequestEntries", 0, "Message"],
      ["PublishBatchRequestEntries", 0, "MessageAttributes"],
    ],
  },
  {
    method: "tagResource",
    input: () => ({ ResourceArn: TOPIC, Tags: [tag()] }),
    fields: [[], ["ResourceArn"], ["Tags"], ["Tags", 0], ["Tags", 0, "Key"], ["Tags", 0, "Value"]],
  },
  {
    method: "untagResource",
    input: () => ({ ResourceArn: TOPIC, TagKeys: ["team"] }),
    fields: [[], ["ResourceArn"], ["TagKeys"], ["TagKeys", 0]],
  },
];

const BUS_CASES: readonly Case[] = [
  {
    method: "createEventBus",
    input: () => ({ Name: fresh("b"), Tags: [tag()] }),
    fields: [[], ["Name"], ["Tags"], ["Tags", 0], ["Tags", 0, "Key"]],
  },
  {
    method: "putRule",
    input: () => ({
      Name: fresh("r"),
      EventPattern: '{"source":["shop"]}',
      State: "ENABLED",
      Description: "d",
    }),
    fields: [
      [],
      ["Name"],
      ["EventBusName"],
      ["EventPattern"],
      ["ScheduleExpression"],
      ["State"],
      ["Description"],
      ["Tags"],
    ],
  },
  {
    method: "describeRule",
    input: () => ({ Name: "typed" }),
    fields: [[], ["Name"], ["EventBusName"]],
  },
  {
    method: "listRules",
    input: () => ({ NamePrefix: "t" }),
    fields: [[], ["EventBusName"], ["NamePrefix"]],
  },
  {
    method: "putTargets",
    input: () => ({
      Rule: "typed",
      Targets: [{ Id: fresh("q"), Arn: QUEUE, InputPath: "$.detail" }],
    }),
    fields: [
      [],
      ["Rule"],
      ["Targets"],
      ["Targets", 0],
      ["Targets", 0, "Id"],
      ["Targets", 0, "Arn"],
      ["Targets", 0, "InputPath"],
      ["Targets", 0, "RetryPolicy"],
      ["Targets", 0, "DeadLetterConfig"],
    ],
  },
  {
    method: "removeTargets",
    input: () => ({ Rule: "typed", Ids: ["nope"] }),
    fields: [[], ["Rule"], ["Ids"], ["Ids", 0]],
  },
  {
    method: "putEvents",
    input: () => ({
      Entries: [{ Source: "shop", DetailType: "order", Detail: '{"n":1}', Resources: ["r"] }],
    }),
    fields: [
      [],
      ["Entries"],
      ["Entries", 0],
      ["Entries", 0, "Source"],
      ["Entries", 0, "DetailType"],
      ["Entries", 0, "Detail"],
      ["Entries", 0, "Resources"],
      ["Entries", 0, "Time"],
      ["Entries", 0, "EventBusName"],
    ],
  },
  {
    method: "testEventPattern",
    input: () => ({
      EventPattern: '{"source":["shop"]}',
      Event: JSON.stringify({
        id: "1",
        source: "shop",
        "detail-type": "x",
        account: "1",
        time: "2026-01-01T00:00:00Z",
        region: "us-east-1",
        resources: [],
        detail: {},
      }),
    }),
    fields: [[], ["EventPattern"], ["Event"]],
  },
  {
    method: "createArchive",
    input: () => ({ ArchiveName: fresh("a"), EventSourceArn: BUS, RetentionDays: 1 }),
    fields: [
      [],
      ["ArchiveName"],
      ["EventSourceArn"],
      ["EventPattern"],
      ["RetentionDays"],
      ["Description"],
    ],
  },
  { method: "listArchives", input: () => ({}), fields: [[], ["EventSourceArn"]] },
  {
    method: "startReplay",
    input: () => ({
      ReplayName: fresh("p"),
      EventSourceArn: "arn:aws:events:us-east-1:000000000000:archive/typed",
      EventStartTime: new Date(0),
      EventEndTime: new Date(1000),
      Destination: { Arn: BUS },
    }),
    fields: [
      [],
      ["ReplayName"],
      ["EventSourceArn"],
      ["EventStartTime"],
      ["EventEndTime"],
      ["Destination"],
      ["Destination", "Arn"],
      ["Destination", "FilterArns"],
    ],
  },
  { method: "listReplays", input: () => ({}), fields: [[], ["State"]] },
  {
    method: "tagResource",
    input: () => ({ ResourceARN: RULE, Tags: [tag()] }),
    fields: [[], ["ResourceARN"], ["Tags"], ["Tags", 0], ["Tags", 0, "Value"]],
  },
];

function tag(): { Key: string; Value: string } {
  return { Key: "team", Value: "shop" };
}

/**
 * Every method of pub/sub and the bus, each field swept with values of every JavaScript type:
 * a call either works or is refused with the primitive's typed error (SNS's or EventBridge's
 * error name, or a pattern error naming the path), never a TypeError from deep inside.
 */
describe("pub/sub and the bus answer wrong-typed input with typed errors", () => {
  let sluice: Sluice;
  beforeAll(async () => {
    sluice = await open("/data", {
      fs: new SimulatedFileSystem(9),
      clock: new VirtualClock(),
      fsync: "never",
    });
    await sluice.queues.createQueue({ QueueName: "typed-sink" });
    await sluice.pubsub.createTopic({ Name: "typed" });
    await sluice.bus.putRule({ Name: "typed", EventPattern: '{"source":["shop"]}' });
    await sluice.bus.createArchive({ ArchiveName: "typed", EventSourceArn: BUS });
  });
  afterAll(async () => {
    await sluice.close();
  });

  const sweep = (service: () => object, c: Case, isTyped: (e: unknown) => boolean) =>
    it(c.method, async () => {
      const parts = c.fields.map((path) => [0, ...path] as SweptPart);
      const untyped = await untypedFailures(
        () => [c.input()],
        parts,
        ([input]) => {
          const target = service() as Record<string, (input: unknown) => Promise<unknown>>;
          return target[c.method]!.call(target, input);
        },
        isTyped,
      );
      expect(untyped).toEqual([]);
    });

  describe("pub/sub", () => {
    for (const c of PUBSUB)
      sweep(
        () => sluice.pubsub,
        c,
        (e) => e instanceof PubSubError || e instanceof PatternError,
      );
  });
  describe("bus", () => {
    for (const c of BUS_CASES)
      sweep(
        () => sluice.bus,
        c,
        (e) => e instanceof BusError || e instanceof PatternError,
      );
  });
});
