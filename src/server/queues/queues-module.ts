import { resolveBaseUrl } from "../../messaging/base-url.js";
import type { QueueService } from "../../messaging/queues/index.js";
import type { ServerModule } from "../server-module.js";
import { registerQueueRoutes } from "./queue-routes.js";
import { registerQueueStream } from "./queue-stream.js";
import { sqsJsonService } from "./sqs-json.js";
import { sqsQueryService } from "./sqs-query.js";

export interface QueuesModuleOptions {
  /** The account in queue URLs (default "000000000000", as the embedded service). */
  readonly accountId?: string;
  /** The base of queue URLs (default: the server's public URL). */
  readonly baseUrl?: string;
}

/** Queues over HTTP: REST, a WebSocket stream, and SQS in both AWS protocols. */
export function queuesModule(
  queues: QueueService,
  options: QueuesModuleOptions = {},
): ServerModule {
  return {
    name: "queues",
    register(app, context) {
      const account = options.accountId ?? "000000000000";
      // Asked per URL: a server listening on a port picked at start knows its URL only then.
      const urlOf = (name: string): string =>
        `${resolveBaseUrl(options.baseUrl ?? context.publicUrl)}/${account}/${name}`;
      registerQueueRoutes(app, queues, urlOf, context.shutdown);
      registerQueueStream(app, queues, urlOf, context.shutdown);
    },
    awsJson: [sqsJsonService(queues)],
    awsQuery: [sqsQueryService(queues)],
    links: [
      { path: "/queues", description: "queues (REST)" },
      {
        path: "/queues/{name}/stream",
        description: "queue consumer (WebSocket, credit flow control)",
      },
    ],
  };
}
