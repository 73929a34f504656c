import type { EventStore } from "../eventstore/index.js";
import type { EventBusService } from "../messaging/bus/index.js";
import type { PubSubService } from "../messaging/pubsub/index.js";
import type { QueueService } from "../messaging/queues/index.js";
import type { TopicService } from "../messaging/topics/index.js";
import { HttpTransport, type HttpTransportOptions } from "./http-transport.js";
import { RemoteEventBus } from "./remote-event-bus.js";
import { RemoteEventStore } from "./remote-event-store.js";
import { RemotePubSubService } from "./remote-pubsub-service.js";
import { RemoteTopicService } from "./remote-topic-service.js";
import { RemoteQueueService } from "./remote-queue-service.js";

export type ConnectOptions = HttpTransportOptions;

/** The primitives of a Sluice server, behind the same interfaces as the embedded ones. */
export interface RemoteSluice {
  readonly queues: QueueService;
  readonly eventStore: EventStore;
  readonly topics: TopicService;
  /** Over the REST API; handlers registered here run here. */
  readonly pubsub: PubSubService;
  /** Over the EventBridge-compatible API; handlers registered here run here. */
  readonly bus: EventBusService;
  /** Calls sent and not yet answered, and handler calls running here (for tests that must wait for the network to settle). */
  readonly pendingCalls: number;
  /** Ends every call in flight; pending long polls return empty. */
  close(): Promise<void>;
}

/** Connects to a Sluice server at `url` (e.g. "http://localhost:8080"). */
export function connect(url: string, options: ConnectOptions = {}): RemoteSluice {
  const http = new HttpTransport(url, options);
  const queues = new RemoteQueueService(http);
  const eventStore = new RemoteEventStore(http);
  const topics = new RemoteTopicService(http);
  const pubsub = new RemotePubSubService(http);
  const bus = new RemoteEventBus(http);
  return {
    queues,
    eventStore,
    topics,
    pubsub,
    bus,
    get pendingCalls() {
      return http.pendingCalls + pubsub.handlers.running + bus.handlers.running;
    },
    async close() {
      await bus.close();
      await pubsub.close();
      await topics.close();
      await eventStore.close();
      await queues.close();
    },
  };
}
