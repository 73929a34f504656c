import type { PubSubService } from "../../messaging/pubsub/index.js";
import type { ServerModule } from "../server-module.js";
import { registerPubSubRoutes } from "./pubsub-routes.js";

/** SNS-semantics pub/sub over HTTP (REST); the SNS query API plugs in beside it. */
export function pubSubModule(pubsub: PubSubService): ServerModule {
  return {
    name: "pubsub",
    register(app, context) {
      registerPubSubRoutes(app, pubsub, context.shutdown);
    },
    links: [{ path: "/pubsub/topics", description: "pub/sub topics (REST)" }],
  };
}
