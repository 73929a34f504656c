import type { FastifyInstance } from "fastify";
import type { EventBusService } from "../../messaging/bus/index.js";
import { documented } from "../route-schema.js";

/** The event bus REST API. */
export function registerBusRoutes(app: FastifyInstance, bus: EventBusService): void {
  const tags = ["bus"];
  app.get("/buses", documented(tags, "List event buses"), () => bus.listEventBuses());
}
