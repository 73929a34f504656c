import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import type { Clock } from "../../time/index.js";
import { EmbeddedQueueService } from "../queues/index.js";
import { describePubSubConformance, type PubSubUnderTest } from "./conformance.js";
import { EmbeddedPubSubService } from "./embedded-pubsub-service.js";

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
