import type { FastifyInstance } from "fastify";
import type { TopicService } from "../../messaging/topics/index.js";
import { documented } from "../route-schema.js";

/** The topics REST API: topics, partitions, produce, fetch, consumer groups. */
export function registerTopicRoutes(
  app: FastifyInstance,
  topics: TopicService,
  _shutdown: AbortSignal,
): void {
  const tags = ["topics"];
  app.get("/topics", documented(tags, "List topics"), async () => ({
    topics: await topics.admin.listTopics(),
  }));
  app.get("/groups", documented(["consumer groups"], "List consumer groups"), async () => ({
    groups: await topics.admin.listGroups(),
  }));
}
