import {
  type Notification,
  type PubSubService,
  notificationToJson,
} from "../../messaging/pubsub/index.js";
import type { ServerModule } from "../server-module.js";
import { registerPubSubRoutes } from "./pubsub-routes.js";
import { registerPubSubStream } from "./pubsub-stream.js";
import { registerRemoteHandlers } from "../remote-handlers.js";
import { snsQueryService } from "./sns-query.js";

/** SNS-semantics pub/sub over HTTP: REST, WebSocket subscribers, and SNS in the AWS query protocol. */
export function pubSubModule(pubsub: PubSubService): ServerModule {
  return {
    name: "pubsub",
    register(app, context) {
      registerPubSubRoutes(app, pubsub);
      registerPubSubStream(app, pubsub, context.shutdown);
      registerRemoteHandlers(app, {
        prefix: "/pubsub/handlers",
        tags: ["pub/sub"],
        register: (name, handler) => pubsub.registerHandler(name, handler),
        encode: (notification) => notificationToJson(notification as Notification),
        shutdown: context.shutdown,
      });
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
