import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { open } from "./open.js";

const root = mkdtempSync(join(tmpdir(), "sluice-closed-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The error `call` fails with, thrown or rejected. */
async function failure(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

it("every service of a closed data directory refuses calls with SLUICE_CLOSED, so one check catches them all", async () => {
  const sluice = await open(join(root, "data"), { fsync: "never" });
  const { QueueUrl } = await sluice.queues.createQueue({ QueueName: "q" });
  await sluice.close();
  const calls: Record<string, () => unknown> = {
    queues: () => sluice.queues.sendMessage({ QueueUrl, MessageBody: "m" }),
    topics: () => sluice.topics.admin.listTopics(),
    "topic producer": () => sluice.topics.producer(),
    "event store": () => sluice.eventStore.readAll(),
    pubsub: () => sluice.pubsub.listTopics({}),
    bus: () => sluice.bus.listEventBuses({}),
  };
  for (const [service, call] of Object.entries(calls)) {
    const error = await failure(call);
    expect(isSluiceError(error, "SLUICE_CLOSED"), `${service}: ${String(error)}`).toBe(true);
  }
});
