import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import type { Clock } from "../../time/index.js";
import { EmbeddedPubSubService } from "../pubsub/embedded-pubsub-service.js";
import { EmbeddedQueueService } from "../queues/index.js";
import { type BusUnderTest, describeBusConformance } from "./conformance.js";
import { EmbeddedEventBus } from "./embedded-event-bus.js";

const dirs: string[] = [];
const dirOf = new WeakMap<BusUnderTest, string>();

async function openAt(dir: string, clock: Clock): Promise<BusUnderTest> {
  const queues = await EmbeddedQueueService.open(join(dir, "queues"), { clock, fsync: "never" });
  const topics = await EmbeddedPubSubService.open(join(dir, "pubsub"), {
    clock,
    queues,
    fsync: "never",
  });
  const bus = await EmbeddedEventBus.open(join(dir, "bus"), {
    clock,
    queues,
    topics,
    fsync: "never",
    random: () => 0.5,
  });
  const services = { bus, queues, topics };
  dirOf.set(services, dir);
  return services;
}

async function closeAll(services: BusUnderTest): Promise<void> {
  await services.bus.close();
  await services.topics.close();
  await services.queues.close();
}

describeBusConformance({
  name: "embedded",
  open(clock) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-bus-"));
    dirs.push(dir);
    return openAt(dir, clock);
  },
  async reopen(services, clock) {
    const dir = dirOf.get(services)!;
    await closeAll(services);
    return openAt(dir, clock);
  },
  close: closeAll,
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
