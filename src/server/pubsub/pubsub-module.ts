import type { PubSubService } from "../../messaging/pubsub/index.js";
import type { ServerModule } from "../server-module.js";
import { registerPubSubRoutes } from "./pubsub-routes.js";
import { registerPubSubStream } from "./pubsub-stream.js";
import { snsQueryService } from "./sns-query.js";

/** SNS-semantics pub/sub over HTTP: REST, WebSocket subscribers, and SNS in the AWS query protocol. */
export function pubSubModule(pubsub: PubSubService): ServerModule {
  return {
    name: "pubsub",
    register(app, context) {
      registerPubSubRoutes(app, pubsub);
      registerPubSubStream(app, pubsub, context.shutdown);
    },
    awsQuery: [snsQueryService(pubsub)],
    links: [
      { path: "/pubsub/topics", description: "pub/sub topics and subscriptions (REST)" },
      {
        path: "/pubsub/topics/{topic}/stream",
        description: "pub/sub subscriber (WebSocket, credit flow control)",
      },
    ],
  };
}
