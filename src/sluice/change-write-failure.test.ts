import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { isSluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { open, type Sluice } from "./open.js";

const DIR = "/data";
const TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:news";
const SINK_ARN = "arn:aws:sqs:us-east-1:000000000000:sink";
const RULE_ARN = "arn:aws:events:us-east-1:000000000000:rule/paid";

interface Case {
  readonly name: string;
  /** A part of the path of the catalog the change writes to. */
  readonly catalog: string;
  readonly setUp?: (sluice: Sluice) => Promise<void>;
  /** The change whose write fails. */
  readonly change: (sluice: Sluice) => Promise<unknown>;
  /** What the change would alter, read back: the same before and after the failed change. */
  readonly observe: (sluice: Sluice) => Promise<unknown>;
}

async function topicWithQueueSubscription(s: Sluice): Promise<string> {
  const { QueueUrl } = await s.queues.createQueue({ QueueName: "sink" });
  await s.pubsub.createTopic({ Name: "news" });
  const { SubscriptionArn } = await s.pubsub.subscribe({
    TopicArn: TOPIC_ARN,
    Protocol: "sqs",
    Endpoint: SINK_ARN,
  });
  return `${QueueUrl} ${SubscriptionArn}`;
}

/** Publishes, then lets the delivery loops run: what the sink queue got, raw or in envelopes. */
async function deliveredBodies(s: Sluice, clock: VirtualClock): Promise<string[]> {
  await s.pubsub.publish({ TopicArn: TOPIC_ARN, Message: "hello" });
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(10);
  }
  const { QueueUrl } = await s.queues.getQueueUrl({ QueueName: "sink" });
  const { Messages } = await s.queues.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 });
  return Messages.map((m) => (m.Body.startsWith("{") ? "envelope" : m.Body));
}

let clock = new VirtualClock();

const CASES: readonly Case[] = [
  {
    name: "a topic grown",
    catalog: "/topics/catalog/",
    setUp: async (s) => void (await s.topics.admin.createTopic({ name: "orders", partitions: 1 })),
    change: (s) => s.topics.admin.createPartitions("orders", 3),
    // A producer writes to partition 2 only once a restart would still have it.
    observe: async (s) => {
      const producer = s.topics.producer({ lingerMs: 0 });
      try {
        return {
          partitions: (await s.topics.admin.describeTopic("orders")).partitions,
          toPartition2: await producer.send({ topic: "orders", partition: 2, value: "x" }).then(
            () => "stored",
            () => "refused",
          ),
        };
      } finally {
        await producer.close();
      }
    },
  },
  {
    name: "a pub/sub topic created",
    catalog: "/pubsub/catalog/",
    change: (s) => s.pubsub.createTopic({ Name: "news" }),
    observe: async (s) => ({
      listed: (await s.pubsub.listTopics()).Topics.length,
      publish: await s.pubsub.publish({ TopicArn: TOPIC_ARN, Message: "x" }).then(
        () => "accepted",
        () => "refused",
      ),
    }),
  },
  {
    name: "a topic attribute set",
    catalog: "/pubsub/catalog/",
    setUp: async (s) => void (await s.pubsub.createTopic({ Name: "news" })),
    change: (s) =>
      s.pubsub.setTopicAttributes({
        TopicArn: TOPIC_ARN,
        AttributeName: "DisplayName",
        AttributeValue: "News",
      }),
    observe: async (s) =>
      (await s.pubsub.getTopicAttributes({ TopicArn: TOPIC_ARN })).Attributes.DisplayName ?? "",
  },
  {
    name: "a pub/sub topic tagged",
    catalog: "/pubsub/catalog/",
    setUp: async (s) =>
      void (await s.pubsub.createTopic({ Name: "news", Tags: [{ Key: "team", Value: "a" }] })),
    change: (s) =>
      s.pubsub.tagResource({ ResourceArn: TOPIC_ARN, Tags: [{ Key: "team", Value: "b" }] }),
    observe: async (s) => (await s.pubsub.listTagsForResource({ ResourceArn: TOPIC_ARN })).Tags,
  },
  {
    name: "a subscription's attributes set",
    catalog: "/pubsub/catalog/",
    setUp: async (s) => void (await topicWithQueueSubscription(s)),
    change: async (s) => {
      const { Subscriptions } = await s.pubsub.listSubscriptionsByTopic({ TopicArn: TOPIC_ARN });
      return s.pubsub.setSubscriptionAttributes({
        SubscriptionArn: Subscriptions[0]!.SubscriptionArn,
        AttributeName: "RawMessageDelivery",
        AttributeValue: "true",
      });
    },
    // It goes on delivering, in the envelope as before (it used to stop delivering at all).
    observe: (s) => deliveredBodies(s, clock),
  },
  {
    name: "a rule put",
    catalog: "/bus/catalog/",
    change: (s) =>
      s.bus.putRule({ Name: "paid", EventPattern: JSON.stringify({ source: ["shop"] }) }),
    observe: async (s) => (await s.bus.listRules()).Rules.map((r) => r.Name),
  },
  {
    name: "a rule's targets put",
    catalog: "/bus/catalog/",
    setUp: async (s) => {
      await s.queues.createQueue({ QueueName: "sink" });
      await s.bus.putRule({ Name: "paid", EventPattern: JSON.stringify({ source: ["shop"] }) });
    },
    change: (s) => s.bus.putTargets({ Rule: "paid", Targets: [{ Id: "q", Arn: SINK_ARN }] }),
    observe: async (s) => (await s.bus.listTargetsByRule({ Rule: "paid" })).Targets,
  },
  {
    name: "a rule tagged",
    catalog: "/bus/catalog/",
    setUp: async (s) =>
      void (await s.bus.putRule({
        Name: "paid",
        EventPattern: JSON.stringify({ source: ["shop"] }),
        Tags: [{ Key: "team", Value: "a" }],
      })),
    change: (s) =>
      s.bus.tagResource({ ResourceARN: RULE_ARN, Tags: [{ Key: "team", Value: "b" }] }),
    observe: async (s) => (await s.bus.listTagsForResource({ ResourceARN: RULE_ARN })).Tags,
  },
  {
    name: "an archive updated",
    catalog: "/bus/catalog/",
    setUp: async (s) =>
      void (await s.bus.createArchive({
        ArchiveName: "all",
        EventSourceArn: "arn:aws:events:us-east-1:000000000000:event-bus/default",
        RetentionDays: 1,
      })),
    change: (s) => s.bus.updateArchive({ ArchiveName: "all", RetentionDays: 7 }),
    observe: async (s) => (await s.bus.describeArchive({ ArchiveName: "all" })).RetentionDays,
  },
];

/**
 * A change whose write to the catalog fails is refused, and must leave things as they were:
 * nothing the caller was told failed may take effect until a restart quietly takes it back.
 */
describe("a change whose catalog write fails", () => {
  for (const c of CASES)
    it(`leaves things as they were: ${c.name}`, async () => {
      const fs = new SimulatedFileSystem(31);
      clock = new VirtualClock();
      const sluice = await open(DIR, { fs, clock, fsync: "never" });
      await c.setUp?.(sluice);
      const before = await c.observe(sluice);
      fs.tearNextWrite(10, c.catalog);
      await expect(c.change(sluice)).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_IO"));
      expect(await c.observe(sluice)).toEqual(before);
      // The retry is made and kept.
      await c.change(sluice);
      const after = await c.observe(sluice);
      await sluice.close();
      const reopened = await open(DIR, { fs, clock, fsync: "never" });
      expect(await c.observe(reopened)).toEqual(after);
      await reopened.close();
    });
});
