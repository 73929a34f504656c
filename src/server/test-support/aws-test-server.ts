import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedEventBus, openEventBus } from "../../messaging/bus/index.js";
import { type EmbeddedPubSubService, openPubSub } from "../../messaging/pubsub/index.js";
import { EmbeddedQueueService } from "../../messaging/queues/index.js";
import { MetricsRegistry } from "../../observability/index.js";
import { eventBridgeJsonService } from "../bus/eventbridge-json.js";
import { snsQueryService } from "../pubsub/sns-query.js";
import { SluiceServer, type SluiceServerOptions } from "../server.js";
import { freePort } from "./test-server.js";

export interface AwsTestServer {
  readonly url: string;
  readonly server: SluiceServer;
  readonly queues: EmbeddedQueueService;
  readonly pubsub: EmbeddedPubSubService;
  readonly bus: EmbeddedEventBus;
  readonly metrics: MetricsRegistry;
  close(): Promise<void>;
}

/**
 * Queues, pub/sub and the bus in a temporary directory (pub/sub delivering to the queues, the
 * bus to both), served with SQS, SNS and EventBridge on a free port as `sluice start` does.
 */
export async function startAwsTestServer(
  options: Partial<SluiceServerOptions> = {},
): Promise<AwsTestServer> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-aws-"));
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const metrics = new MetricsRegistry();
  const common = { fsync: "never" as const, metrics };
  const queues = await EmbeddedQueueService.open(join(dir, "queues"), { ...common, baseUrl: url });
  const pubsub = await openPubSub(join(dir, "pubsub"), { ...common, queues, baseUrl: url });
  const bus = await openEventBus(join(dir, "bus"), { ...common, queues, topics: pubsub });
  const server = await SluiceServer.create(
    { queues, metrics },
    {
      port,
      publicUrl: url,
      ...options,
      modules: [
        { name: "sns", register() {}, awsQuery: [snsQueryService(pubsub)] },
        { name: "eventbridge", register() {}, awsJson: [eventBridgeJsonService(bus)] },
        ...(options.modules ?? []),
      ],
    },
  );
  await server.listen();
  return {
    url,
    server,
    queues,
    pubsub,
    bus,
    metrics,
    async close() {
      await server.close();
      await bus.close();
      await pubsub.close();
      await queues.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
