import { afterAll } from "vitest";
import { describePubSubConformance } from "../messaging/pubsub/conformance.js";
import { RoutingServerFixture } from "./test-support/served-routing.js";

const fixture = new RoutingServerFixture();

describePubSubConformance({
  name: "remote client over REST",
  ...fixture.harness((remote) => ({ pubsub: remote.pubsub, queues: remote.queues })),
});

afterAll(() => fixture.close());
