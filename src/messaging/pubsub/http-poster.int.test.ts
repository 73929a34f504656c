import { type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../time/index.js";
import { fetchPoster } from "./http-poster.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

/** Serves every POST with `answer` (after a 200 head); resolves with the URL. */
async function endpoint(answer: (response: ServerResponse) => void): Promise<string> {
  server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      answer(response);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe("HTTP deliveries (pub/sub endpoints, bus HTTP targets)", () => {
  it("an endpoint that answers without end costs neither the delivery's time nor memory", async () => {
    const url = await endpoint((response) => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      const more = (): void => {
        if (response.destroyed) return;
        for (let i = 0; i < 16; i++) response.write(chunk);
        setTimeout(more, 1);
      };
      more();
    });
    const started = Date.now();
    // Reading the whole answer, the post would last until its timeout and fail with it.
    expect(await fetchPoster(systemClock, 10_000).post(url, {}, "hello")).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a short answer is read through", async () => {
    const url = await endpoint((response) => setTimeout(() => response.end("ok"), 10));
    expect(await fetchPoster(systemClock, 10_000).post(url, {}, "hello")).toBe(200);
  });
});
