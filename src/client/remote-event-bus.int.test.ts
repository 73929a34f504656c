import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { type BusUnderTest, describeBusConformance } from "../messaging/bus/conformance.js";
import type { VirtualClock } from "../time/index.js";
import { RoutingServerFixture, type ServedRouting } from "./test-support/served-routing.js";

const fixture = new RoutingServerFixture();
const dirs: string[] = [];
const stacks = new WeakMap<BusUnderTest, { dir: string; served: ServedRouting }>();

async function openStack(dir: string, clock: VirtualClock): Promise<BusUnderTest> {
  const served = await fixture.open(dir, clock);
  const services = {
    bus: served.remote.bus,
    queues: served.remote.queues,
    topics: served.remote.pubsub,
  };
  stacks.set(services, { dir, served });
  return services;
}

const stackOf = (services: BusUnderTest): { dir: string; served: ServedRouting } => {
  const stack = stacks.get(services);
  if (stack === undefined) throw new Error("not services this harness opened");
  return stack;
};

describeBusConformance({
  name: "remote client over the EventBridge API",
  open(clock) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-remote-bus-"));
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
