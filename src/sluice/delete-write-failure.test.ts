import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { isSluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { open, type Sluice } from "./open.js";

const DIR = "/data";

interface Case {
  readonly name: string;
  /** Makes the resource; returns what `remove` and `exists` need. */
  readonly make: (sluice: Sluice) => Promise<string>;
  readonly remove: (sluice: Sluice, id: string) => Promise<unknown>;
  readonly exists: (sluice: Sluice, id: string) => Promise<boolean>;
  /** A part of the path of the catalog that records the resource. */
  readonly catalog: string;
}

const CASES: readonly Case[] = [
  {
    name: "a queue",
    catalog: "/queues/catalog/",
    make: async (s) => (await s.queues.createQueue({ QueueName: "jobs" })).QueueUrl,
    remove: (s, url) => s.queues.deleteQueue({ QueueUrl: url }),
    exists: async (s, url) => (await s.queues.listQueues()).QueueUrls.includes(url),
  },
  {
    name: "a topic",
    catalog: "/topics/catalog/",
    make: async (s) => (await s.topics.admin.createTopic({ name: "orders" })).name,
    remove: (s, name) => s.topics.admin.deleteTopic(name),
    exists: async (s, name) => (await s.topics.admin.listTopics()).includes(name),
  },
  {
    name: "a pub/sub topic",
    catalog: "/pubsub/catalog/",
    make: async (s) => (await s.pubsub.createTopic({ Name: "news" })).TopicArn,
    remove: (s, arn) => s.pubsub.deleteTopic({ TopicArn: arn }),
    exists: async (s, arn) => (await s.pubsub.listTopics()).Topics.some((t) => t.TopicArn === arn),
  },
  {
    name: "a pub/sub subscription",
    catalog: "/pubsub/catalog/",
    make: async (s) => {
      await s.queues.createQueue({ QueueName: "sink" });
      const { TopicArn } = await s.pubsub.createTopic({ Name: "news" });
      return (
        await s.pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: "arn:aws:sqs:us-east-1:000000000000:sink",
        })
      ).SubscriptionArn;
    },
    remove: (s, arn) => s.pubsub.unsubscribe({ SubscriptionArn: arn }),
    exists: async (s, arn) =>
      (
        await s.pubsub.listSubscriptionsByTopic({
          TopicArn: "arn:aws:sns:us-east-1:000000000000:news",
        })
      ).Subscriptions.some((x) => x.SubscriptionArn === arn),
  },
  {
    name: "an event bus",
    catalog: "/bus/catalog/",
    make: async (s) => {
      await s.bus.createEventBus({ Name: "orders" });
      return "orders";
    },
    remove: (s, name) => s.bus.deleteEventBus({ Name: name }),
    exists: async (s, name) =>
      (await s.bus.listEventBuses()).EventBuses.some((b) => b.Name === name),
  },
  {
    name: "a rule",
    catalog: "/bus/catalog/",
    make: async (s) => {
      await s.bus.putRule({ Name: "paid", EventPattern: JSON.stringify({ source: ["shop"] }) });
      return "paid";
    },
    remove: (s, name) => s.bus.deleteRule({ Name: name }),
    exists: async (s, name) => (await s.bus.listRules()).Rules.some((r) => r.Name === name),
  },
  {
    name: "an archive",
    catalog: "/bus/catalog/",
    make: async (s) => {
      await s.bus.createArchive({
        ArchiveName: "all",
        EventSourceArn: "arn:aws:events:us-east-1:000000000000:event-bus/default",
      });
      return "all";
    },
    remove: (s, name) => s.bus.deleteArchive({ ArchiveName: name }),
    exists: async (s, name) =>
      (await s.bus.listArchives()).Archives.some((a) => a.ArchiveName === name),
  },
];

/**
 * A delete whose write to the catalog fails must leave the resource as it was, so that the
 * caller's retry deletes it for good; otherwise it is gone until a restart brings it back (a
 * rule routing events again), and the retry finds nothing to delete.
 */
describe("a delete whose catalog write fails", () => {
  for (const c of CASES)
    it(`keeps ${c.name} for a retry that deletes it for good`, async () => {
      const fs = new SimulatedFileSystem(21);
      const clock = new VirtualClock();
      let sluice = await open(DIR, { fs, clock, fsync: "never" });
      const id = await c.make(sluice);
      fs.tearNextWrite(10, c.catalog);
      await expect(c.remove(sluice, id)).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_IO"));
      expect(await c.exists(sluice, id), "still there after the failed delete").toBe(true);
      await c.remove(sluice, id);
      expect(await c.exists(sluice, id)).toBe(false);
      await sluice.close();
      sluice = await open(DIR, { fs, clock, fsync: "never" });
      expect(await c.exists(sluice, id), "gone after a restart").toBe(false);
      await sluice.close();
    });
});
