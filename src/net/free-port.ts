import { createServer } from "node:net";

/**
 * A TCP port on loopback that was free when asked (the caller binds it at once, and another
 * process may take it in between: a server that can listen on port 0 should do that instead).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
