import type { EventBusService } from "../../messaging/bus/index.js";
import type { ServerModule } from "../server-module.js";
import { registerBusRoutes } from "./bus-routes.js";
import { eventBridgeJsonService } from "./eventbridge-json.js";
import { registerRemoteHandlers } from "../remote-handlers.js";

/** EventBridge-semantics buses over HTTP: REST, and EventBridge in AWS JSON 1.1. */
export function busModule(bus: EventBusService): ServerModule {
  return {
    name: "bus",
    register(app, context) {
      registerBusRoutes(app, bus);
      registerRemoteHandlers(app, {
        prefix: "/bus/handlers",
        tags: ["bus"],
        register: (name, handler) => bus.registerHandler(name, handler),
        shutdown: context.shutdown,
      });
    },
    awsJson: [eventBridgeJsonService(bus)],
    links: [{ path: "/buses", description: "event buses, rules, archives, replays (REST)" }],
  };
}
