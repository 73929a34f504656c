import type { EventBusService } from "../../messaging/bus/index.js";
import type { ServerModule } from "../server-module.js";
import { registerBusRoutes } from "./bus-routes.js";
import { eventBridgeJsonService } from "./eventbridge-json.js";

/** EventBridge-semantics buses over HTTP: REST, and EventBridge in AWS JSON 1.1. */
export function busModule(bus: EventBusService): ServerModule {
  return {
    name: "bus",
    register(app) {
      registerBusRoutes(app, bus);
    },
    awsJson: [eventBridgeJsonService(bus)],
    links: [{ path: "/buses", description: "event buses, rules, archives, replays (REST)" }],
  };
}
