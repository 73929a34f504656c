import { connect as connectTcp } from "node:net";
import { describe, expect, it } from "vitest";
import { startTestServer } from "./test-support/test-server.js";

/** Sends a WebSocket upgrade for `path` with `token`; resolves with the answer and the open socket. */
async function upgrade(
  url: string,
  path: string,
  token: string,
  extraHeaders = "",
): Promise<{ answer: string; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  const socket = connectTcp(Number(port), hostname === "localhost" ? "127.0.0.1" : hostname);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      `Authorization: Bearer ${token}\r\n${extraHeaders}\r\n`,
  );
  let answer = "";
  await new Promise<void>((resolve) =>
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("utf8");
      // A refusal ends with its JSON error; an accepted upgrade with its headers.
      if (
        answer.includes("}}") ||
        (answer.startsWith("HTTP/1.1 101") && answer.includes("\r\n\r\n"))
      )
        resolve();
    }),
  );
  return { answer, closed };
}

describe("a WebSocket upgrade refused for its token", () => {
  it("is answered 401 with the error, and its connection closed: it holds no shutdown", async () => {
    const sluice = await startTestServer({ authToken: "right" });
    const refused = await upgrade(sluice.url, "/topics/session", "wrong");
    expect(refused.answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(refused.answer).toContain('"code":"SLUICE_UNAUTHORIZED"');
    // The client keeps its end open, as a keep-alive client would: the server closes it. Left
    // open, it held the server's close (a graceful shutdown) for as long as the client kept it,
    // so the server is closed only once it did.
    const outcome = await Promise.race([
      refused.closed.then(() => "closed by the server"),
      new Promise((resolve) => setTimeout(() => resolve("still open after 5 s"), 5000)),
    ]);
    expect(outcome).toBe("closed by the server");
    await sluice.close();
  });

  it("is refused though it carries an AWS header: X-Amz-Target does not stand in for the token", async () => {
    const sluice = await startTestServer({ authToken: "right" });
    await sluice.queues.createQueue({ QueueName: "q" });
    const refused = await upgrade(
      sluice.url,
      "/queues/q/stream",
      "wrong",
      "X-Amz-Target: AmazonSQS.ReceiveMessage\r\n",
    );
    expect(refused.answer).toMatch(/^HTTP\/1\.1 401 /);
    await sluice.close();
  });
});
