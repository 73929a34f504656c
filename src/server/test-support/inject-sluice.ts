import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sluice, open } from "../../sluice/index.js";
import { SluiceServer, type SluiceServerOptions } from "../server.js";

export interface InjectSluice {
  readonly server: SluiceServer;
  readonly sluice: Sluice;
  close(): Promise<void>;
}

/** `open(dir)` on a temporary directory, served for `app.inject` (no socket), every module on. */
export async function injectSluice(
  options: Partial<SluiceServerOptions> = {},
): Promise<InjectSluice> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-inject-"));
  const url = "http://localhost:8080";
  const sluice = await open(dir, {
    fsync: "never",
    queues: { baseUrl: url },
    pubsub: { baseUrl: url },
  });
  const server = await SluiceServer.create(sluice, { publicUrl: url, ...options });
  await server.app.ready();
  return {
    server,
    sluice,
    async close() {
      await server.close();
      await sluice.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
