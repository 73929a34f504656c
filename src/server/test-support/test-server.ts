import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EmbeddedQueueService } from "../../messaging/queues/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import { type Sluice, open } from "../../sluice/index.js";
import { SluiceServer, type SluiceServerOptions } from "../server.js";

export interface TestServer {
  readonly url: string;
  readonly server: SluiceServer;
  readonly sluice: Sluice;
  readonly queues: EmbeddedQueueService;
  readonly metrics: MetricsRegistry;
  /**
   * Stops the server and closes its data directory, then opens and serves the same directory
   * again (on a new port), as a restarted `sluice start` would: what was stored must be there.
   */
  restart(): Promise<TestServer>;
  /** Stops the server and removes its data directory. */
  close(): Promise<void>;
}

/** `open(dir)` on a temporary directory, served on a port picked when it listens, as `sluice start --port 0` does. */
export function startTestServer(options: Partial<SluiceServerOptions> = {}): Promise<TestServer> {
  return serve(mkdtempSync(join(tmpdir(), "sluice-server-")), options);
}

async function serve(dir: string, options: Partial<SluiceServerOptions>): Promise<TestServer> {
  // Known once the server listens; nothing asks for a URL before then.
  let url = "http://localhost:0";
  const baseUrl = (): string => url;
  const sluice = await open(dir, {
    fsync: "never",
    queues: { baseUrl },
    pubsub: { baseUrl },
  });
  const server = await SluiceServer.create(sluice, { port: 0, ...options });
  url = await server.listen();
  return {
    url,
    server,
    sluice,
    queues: sluice.queues,
    metrics: sluice.metrics,
    async restart() {
      await server.close();
      await sluice.close();
      return serve(dir, options);
    },
    async close() {
      await server.close();
      await sluice.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
