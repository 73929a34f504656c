import { getEventListeners } from "node:events";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HttpTransport, isAbort } from "./http-transport.js";

let server: Server;
let base: string;

beforeAll(async () => {
  // Answers `{}` at once, except under /hang, which it never answers.
  server = createServer((request, response) => {
    if (request.url?.startsWith("/hang")) return;
    response.setHeader("content-type", "application/json");
    response.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const asError = (e: { message: string }) => new Error(e.message);

describe("HttpTransport", () => {
  // fetch keeps a listener on the signal it is given until the request is garbage-collected: a
  // signal shared by every call of a long-lived client gathered one per call, and Node warned
  // (MaxListenersExceededWarning at 1,500).
  it("gives fetch a signal of each call's own, and keeps no listener once a call is done", async () => {
    const transport = new HttpTransport(base);
    const signals: AbortSignal[] = [];
    const realFetch = globalThis.fetch;
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      if (init?.signal) signals.push(init.signal);
      return realFetch(input, init);
    });
    try {
      for (let i = 0; i < 50; i++) await transport.call({ method: "GET", path: "/x" }, asError);
      const caller = new AbortController();
      await transport.call({ method: "GET", path: "/x", signal: caller.signal }, asError);
    } finally {
      spy.mockRestore();
    }
    expect(new Set(signals).size).toBe(51);
    const closing = (transport as unknown as { closing: AbortController }).closing.signal;
    expect(getEventListeners(closing, "abort")).toHaveLength(0);
    transport.close();
  });

  it("close() aborts the calls in flight and fails later ones at once", async () => {
    const transport = new HttpTransport(base);
    const hanging = transport.call({ method: "GET", path: "/hang" }, asError);
    await new Promise((resolve) => setTimeout(resolve, 50));
    transport.close();
    expect(isAbort(await hanging.catch((e: unknown) => e))).toBe(true);
    const later: unknown = await transport
      .call({ method: "GET", path: "/x" }, asError)
      .catch((e: unknown) => e);
    expect(isAbort(later)).toBe(true);
  });

  it("a caller's own signal aborts its call alone", async () => {
    const transport = new HttpTransport(base);
    const caller = new AbortController();
    const hanging = transport.call(
      { method: "GET", path: "/hang", signal: caller.signal },
      asError,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    caller.abort();
    expect(isAbort(await hanging.catch((e: unknown) => e))).toBe(true);
    await expect(transport.call({ method: "GET", path: "/x" }, asError)).resolves.toEqual({});
    transport.close();
  });
});
