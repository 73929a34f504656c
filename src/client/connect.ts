import type { EventStore } from "../eventstore/index.js";
import type { QueueService } from "../messaging/queues/index.js";
import type { TopicService } from "../messaging/topics/index.js";
import { HttpTransport, type HttpTransportOptions } from "./http-transport.js";
import { RemoteEventStore } from "./remote-event-store.js";
import { RemoteTopicService } from "./remote-topic-service.js";
import { RemoteQueueService } from "./remote-queue-service.js";

export type ConnectOptions = HttpTransportOptions;

/** The primitives of a Sluice server, behind the same interfaces as the embedded ones. */
export interface RemoteSluice {
  readonly queues: QueueService;
  readonly eventStore: EventStore;
  readonly topics: TopicService;
  /** Calls sent and not yet answered (for tests that must wait for the network to settle). */
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
  return {
    queues,
    eventStore,
    topics,
    get pendingCalls() {
      return http.pendingCalls;
    },
    async close() {
      await topics.close();
      await eventStore.close();
      await queues.close();
    },
  };
}
