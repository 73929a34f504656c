import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../../engine/index.js";
import { VirtualClock } from "../../time/virtual-clock.js";
import { DurableTopic } from "./durable-topic.js";
import type { PublishedMessage } from "./published-message.js";

const message = (id: string): PublishedMessage => ({
  MessageId: id,
  Message: `body ${id}`,
  MessageAttributes: {},
  timestamp: 0,
});

async function openTopic(fs: SimulatedFileSystem): Promise<DurableTopic> {
  fs.mkdir("/t");
  return DurableTopic.open(
    "/t",
    { name: "t", uid: "u", attributes: {}, tags: {}, createdMs: 0 },
    { clock: new VirtualClock(), fsync: "always", fs },
  );
}

/** Whether `promise` settles within a few turns of the event loop. */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let turn = 0; turn < 20 && !settled; turn++)
    await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe("DurableTopic", () => {
  it("says whether an append is on its way until it is acknowledged", async () => {
    const topic = await openTopic(new SimulatedFileSystem(1));
    expect(topic.appending).toBe(false);
    const appended = topic.append([message("m1")]);
    expect(topic.appending).toBe(true);
    await appended;
    expect([topic.appending, topic.endOffset]).toEqual([false, 1]);
    await topic.close();
  });

  it("an append that fails wakes those waiting for messages, and is no longer on its way", async () => {
    const fs = new SimulatedFileSystem(1);
    const topic = await openTopic(fs);
    const waiting = topic.waitForMessages(0, new AbortController().signal);
    fs.failNextSyncs(1);
    await expect(topic.append([message("m1")])).rejects.toThrow();
    expect(topic.appending).toBe(false);
    expect(await settles(waiting)).toBe(true);
    topic.kill();
  });
});
