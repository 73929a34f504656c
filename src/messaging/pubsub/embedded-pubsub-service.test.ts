import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Clock, VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "../queues/index.js";
import { describePubSubConformance, type PubSubUnderTest } from "./conformance.js";
import { EmbeddedPubSubService } from "./embedded-pubsub-service.js";
import { JsonCatalog } from "./json-catalog.js";

const dirs: string[] = [];
const dirOf = new WeakMap<PubSubUnderTest, string>();

async function openAt(dir: string, clock: Clock): Promise<PubSubUnderTest> {
  const queues = await EmbeddedQueueService.open(join(dir, "queues"), { clock, fsync: "never" });
  const pubsub = await EmbeddedPubSubService.open(join(dir, "pubsub"), {
    clock,
    queues,
    fsync: "never",
    random: () => 0.5,
  });
  const services = { pubsub, queues };
  dirOf.set(services, dir);
  return services;
}

async function closeBoth(services: PubSubUnderTest): Promise<void> {
  await services.pubsub.close();
  await services.queues.close();
}

describePubSubConformance({
  name: "embedded",
  open(clock) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-ps-"));
    dirs.push(dir);
    return openAt(dir, clock);
  },
  async reopen(services, clock) {
    const dir = dirOf.get(services)!;
    await closeBoth(services);
    return openAt(dir, clock);
  },
  close: closeBoth,
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("embedded pub/sub beyond the suite", () => {
  it("a topic created twice at once is opened once: no second log left open beside it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-ps-"));
    dirs.push(dir);
    const services = await openAt(dir, new VirtualClock());
    try {
      const arns = await Promise.all([
        services.pubsub.createTopic({ Name: "t" }),
        services.pubsub.createTopic({ Name: "t" }),
        services.pubsub.createTopic({ Name: "t" }),
      ]);
      expect(new Set(arns.map((a) => a.TopicArn)).size).toBe(1);
      expect(readdirSync(join(dir, "pubsub", "topics"))).toHaveLength(1);
    } finally {
      await closeBoth(services);
    }
  });

  it("a subscription whose topic is gone (left by an earlier release's race) is dropped at open", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-ps-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    const first = await openAt(dir, clock);
    const { TopicArn } = await first.pubsub.createTopic({ Name: "t" });
    await first.queues.createQueue({ QueueName: "q" });
    await first.pubsub.subscribe({
      TopicArn,
      Protocol: "sqs",
      Endpoint: "arn:aws:sqs:us-east-1:000000000000:q",
    });
    await closeBoth(first);
    // What the race left: the topic's entry deleted, its subscription's kept.
    const catalog = await JsonCatalog.open(
      join(dir, "pubsub", "catalog"),
      { clock, fsync: "always", name: "catalog/pubsub" },
      (v): v is unknown => v !== undefined,
    );
    await catalog.delete("topic:t");
    await catalog.close();
    const second = await openAt(dir, clock);
    try {
      await second.pubsub.createTopic({ Name: "t" });
      expect((await second.pubsub.listSubscriptionsByTopic({ TopicArn })).Subscriptions).toEqual(
        [],
      );
    } finally {
      await closeBoth(second);
    }
  });
});
