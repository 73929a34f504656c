import type { PubSubService } from "../../messaging/pubsub/index.js";
import type { ServerModule } from "../server-module.js";
import { registerPubSubRoutes } from "./pubsub-routes.js";
import { registerPubSubStream } from "./pubsub-stream.js";

/** SNS-semantics pub/sub over HTTP: REST and WebSocket subscribers (the SNS API plugs in beside). */
export function pubSubModule(pubsub: PubSubService): ServerModule {
  return {
    name: "pubsub",
    register(app, context) {
      registerPubSubRoutes(app, pubsub);
      registerPubSubStream(app, pubsub, context.shutdown);
    },
    links: [
      { path: "/pubsub/topics", description: "pub/sub topics and subscriptions (REST)" },
      {
        path: "/pubsub/topics/{topic}/stream",
        description: "pub/sub subscriber (WebSocket, credit flow control)",
      },
    ],
  };
}
