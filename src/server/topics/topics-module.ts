import type { TopicService } from "../../messaging/topics/index.js";
import type { ServerModule } from "../server-module.js";
import { registerTopicRoutes } from "./topic-routes.js";
import { registerTopicSession } from "./topic-session.js";
import { registerTopicStream } from "./topic-stream.js";

/** Kafka-semantics topics and consumer groups over HTTP: REST and a WebSocket consumer. */
export function topicsModule(topics: TopicService): ServerModule {
  return {
    name: "topics",
    register(app, context) {
      registerTopicRoutes(app, topics, context.shutdown);
      registerTopicStream(app, topics, context.shutdown);
      registerTopicSession(app, topics, context.shutdown);
    },
    links: [
      { path: "/topics", description: "topics (REST)" },
      { path: "/groups", description: "consumer groups with lag (REST)" },
      {
        path: "/topics/{topic}/stream",
        description: "topic consumer, group member or from an offset (WebSocket, credit)",
      },
    ],
  };
}
