import type { EventBusService } from "../../messaging/bus/index.js";
import type { ServerModule } from "../server-module.js";
import { registerBusRoutes } from "./bus-routes.js";

/** EventBridge-semantics buses over HTTP (REST); the EventBridge JSON API plugs in beside it. */
export function busModule(bus: EventBusService): ServerModule {
  return {
    name: "bus",
    register(app) {
      registerBusRoutes(app, bus);
    },
    links: [{ path: "/buses", description: "event buses, rules, archives, replays (REST)" }],
  };
}
