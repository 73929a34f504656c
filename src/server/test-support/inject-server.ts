import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedQueueService } from "../../messaging/queues/index.js";
import { MetricsRegistry } from "../../observability/index.js";
import { SluiceServer, type SluiceServerOptions } from "../server.js";

export interface InjectServer {
  readonly server: SluiceServer;
  readonly queues: EmbeddedQueueService;
  close(): Promise<void>;
}

/** A server on an embedded queue service in a temporary directory, for `app.inject` (no socket). */
export async function injectServer(
  options: Partial<SluiceServerOptions> = {},
): Promise<InjectServer> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-inject-"));
  const metrics = new MetricsRegistry();
  const queues = await EmbeddedQueueService.open(dir, {
    fsync: "never",
    metrics,
    baseUrl: "http://localhost:8080",
  });
  const server = await SluiceServer.create(
    { queues, metrics },
    { publicUrl: "http://localhost:8080", ...options },
  );
  await server.app.ready();
  return {
    server,
    queues,
    async close() {
      await server.close();
      await queues.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
