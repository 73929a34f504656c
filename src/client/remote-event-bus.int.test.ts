import { afterAll } from "vitest";
import { describeBusConformance } from "../messaging/bus/conformance.js";
import { RoutingServerFixture } from "./test-support/served-routing.js";

const fixture = new RoutingServerFixture();

describeBusConformance({
  name: "remote client over the EventBridge API",
  ...fixture.harness((remote) => ({
    bus: remote.bus,
    queues: remote.queues,
    topics: remote.pubsub,
  })),
});

afterAll(() => fixture.close());
