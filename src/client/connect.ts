import type { QueueService } from "../messaging/queues/index.js";
import { HttpTransport, type HttpTransportOptions } from "./http-transport.js";
import { RemoteQueueService } from "./remote-queue-service.js";

export type ConnectOptions = HttpTransportOptions;

/** The primitives of a Sluice server, behind the same interfaces as the embedded ones. */
export interface RemoteSluice {
  readonly queues: QueueService;
  /** Calls sent and not yet answered (for tests that must wait for the network to settle). */
  readonly pendingCalls: number;
  /** Ends every call in flight; pending long polls return empty. */
  close(): Promise<void>;
}

/** Connects to a Sluice server at `url` (e.g. "http://localhost:8080"). */
export function connect(url: string, options: ConnectOptions = {}): RemoteSluice {
  const http = new HttpTransport(url, options);
  const queues = new RemoteQueueService(http);
  return {
    queues,
    get pendingCalls() {
      return http.pendingCalls;
    },
    close: () => queues.close(),
  };
}
