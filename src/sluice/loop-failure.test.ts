import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { SluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { open, type Sluice } from "./open.js";
import { settle } from "./test-support/settle.js";

const SINK_ARN = "arn:aws:sqs:us-east-1:000000000000:sink";

/** Makes `object[method]` throw a read error the first time it is called. */
function failOnce(object: object, method: string): void {
  const target = object as Record<string, (...args: unknown[]) => unknown>;
  const original = target[method]!.bind(object);
  let failed = false;
  target[method] = (...args: unknown[]) => {
    if (failed) return original(...args);
    failed = true;
    throw new SluiceError("SLUICE_IO", "read: simulated EIO");
  };
}

async function sunk(sluice: Sluice): Promise<number> {
  const { QueueUrl } = await sluice.queues.getQueueUrl({ QueueName: "sink" });
  return (await sluice.queues.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 })).Messages
    .length;
}

/**
 * A background loop that failed in a way it did not expect (here, a read the disk refused)
 * used to reject with nothing to catch it: an unhandled rejection, which ends a Node process,
 * and the loop never ran again. Now it runs again from its saved position after a pause.
 */
describe("a background loop whose read fails", () => {
  it("pub/sub: the subscription's deliveries go on after the pause", async () => {
    const clock = new VirtualClock();
    const sluice = await open("/data", { fs: new SimulatedFileSystem(71), clock, fsync: "never" });
    await sluice.queues.createQueue({ QueueName: "sink" });
    const { TopicArn } = await sluice.pubsub.createTopic({ Name: "news" });
    await sluice.pubsub.subscribe({ TopicArn, Protocol: "sqs", Endpoint: SINK_ARN });
    const topics = (sluice.pubsub as unknown as { topics: Map<string, object> }).topics;
    failOnce(topics.get("news")!, "read");
    await sluice.pubsub.publish({ TopicArn, Message: "hello" });
    await settle(clock, 300, 100);
    expect(await sunk(sluice)).toBe(0);
    await settle(clock, 1500, 100);
    expect(await sunk(sluice)).toBe(1);
    await sluice.close();
  });

  it("bus: the dispatcher goes on after the pause", async () => {
    const clock = new VirtualClock();
    const sluice = await open("/data", { fs: new SimulatedFileSystem(72), clock, fsync: "never" });
    await sluice.queues.createQueue({ QueueName: "sink" });
    await sluice.bus.putRule({ Name: "r", EventPattern: JSON.stringify({ source: ["shop"] }) });
    await sluice.bus.putTargets({ Rule: "r", Targets: [{ Id: "q", Arn: SINK_ARN }] });
    const buses = (sluice.bus as unknown as { buses: Map<string, object> }).buses;
    failOnce(buses.get("default")!, "take");
    await sluice.bus.putEvents({ Entries: [{ Source: "shop", DetailType: "o", Detail: "{}" }] });
    await settle(clock, 300, 100);
    expect(await sunk(sluice)).toBe(0);
    await settle(clock, 1500, 100);
    expect(await sunk(sluice)).toBe(1);
    await sluice.close();
  });
});
