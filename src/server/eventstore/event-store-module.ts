import type { EventStore, ProjectionRunner } from "../../eventstore/index.js";
import type { ServerModule } from "../server-module.js";
import { registerEventStoreRoutes } from "./event-store-routes.js";
import { registerEventStoreStream } from "./event-store-stream.js";
import { registerPersistentSubscriptionRoutes } from "./persistent-subscription-routes.js";
import { registerPersistentSubscriptionStream } from "./persistent-subscription-stream.js";

export interface EventStoreModuleOptions {
  /** Projections whose status `/projections` reports (an application registers its own). */
  readonly projections?: () => readonly ProjectionRunner[];
}

/**
 * The event store over HTTP: appends, reads, audit, projections, subscriptions and persistent
 * subscription groups.
 */
export function eventStoreModule(
  store: EventStore,
  options: EventStoreModuleOptions = {},
): ServerModule {
  return {
    name: "eventstore",
    register(app, context) {
      registerEventStoreRoutes(app, store, context.shutdown, options.projections ?? (() => []));
      registerEventStoreStream(app, store, context.shutdown);
      const groups = () => store.persistentSubscriptions();
      registerPersistentSubscriptionRoutes(app, groups);
      registerPersistentSubscriptionStream(app, groups, context.shutdown);
    },
    links: [
      { path: "/streams", description: "event store streams (REST)" },
      { path: "/all/events", description: "event store $all (REST)" },
      {
        path: "/all/subscribe",
        description: "event store subscription (WebSocket, credit flow control)",
      },
      {
        path: "/persistent-subscriptions",
        description: "persistent subscription groups (REST; consumers over WebSocket)",
      },
    ],
  };
}
