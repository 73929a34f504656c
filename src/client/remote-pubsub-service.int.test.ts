import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import {
  type PubSubUnderTest,
  describePubSubConformance,
} from "../messaging/pubsub/conformance.js";
import type { VirtualClock } from "../time/index.js";
import { RoutingServerFixture, type ServedRouting } from "./test-support/served-routing.js";

const fixture = new RoutingServerFixture();
const dirs: string[] = [];
const stacks = new WeakMap<PubSubUnderTest, { dir: string; served: ServedRouting }>();

async function openStack(dir: string, clock: VirtualClock): Promise<PubSubUnderTest> {
  const served = await fixture.open(dir, clock);
  const services = { pubsub: served.remote.pubsub, queues: served.remote.queues };
  stacks.set(services, { dir, served });
  return services;
}

const stackOf = (services: PubSubUnderTest): { dir: string; served: ServedRouting } => {
  const stack = stacks.get(services);
  if (stack === undefined) throw new Error("not services this harness opened");
  return stack;
};

describePubSubConformance({
  name: "remote client over REST",
  open(clock) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-remote-ps-"));
    dirs.push(dir);
    return openStack(dir, clock);
  },
  async reopen(services, clock) {
    const { dir, served } = stackOf(services);
    await served.close();
    return openStack(dir, clock);
  },
  close: (services) => stackOf(services).served.close(),
});

afterAll(async () => {
  await fixture.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
