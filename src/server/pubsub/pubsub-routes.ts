import type { FastifyInstance } from "fastify";
import type { PubSubService } from "../../messaging/pubsub/index.js";
import { documented } from "../route-schema.js";

/** The pub/sub REST API. */
export function registerPubSubRoutes(
  app: FastifyInstance,
  pubsub: PubSubService,
  _shutdown: AbortSignal,
): void {
  const tags = ["pub/sub"];
  app.get("/pubsub/topics", documented(tags, "List pub/sub topics"), () => pubsub.listTopics());
}
