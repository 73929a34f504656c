import type { EventStore } from "../../eventstore/index.js";
import type { ServerModule } from "../server-module.js";
import { registerEventStoreRoutes } from "./event-store-routes.js";

/** The event store over HTTP: appends, reads, streams, subscriptions. */
export function eventStoreModule(store: EventStore): ServerModule {
  return {
    name: "eventstore",
    register(app, context) {
      registerEventStoreRoutes(app, store, context.shutdown);
    },
    links: [{ path: "/streams", description: "event store streams (REST)" }],
  };
}
