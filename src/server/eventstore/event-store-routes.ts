import type { FastifyInstance } from "fastify";
import type { EventStore } from "../../eventstore/index.js";
import { documented } from "../route-schema.js";

/** The event store REST API. */
export function registerEventStoreRoutes(
  app: FastifyInstance,
  store: EventStore,
  _shutdown: AbortSignal,
): void {
  const tags = ["event store"];
  app.get("/streams", documented(tags, "List streams"), async () => ({
    streams: await store.listStreams(),
  }));
}
