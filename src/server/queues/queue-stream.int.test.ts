import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { WebSocket } from "ws";
import { type TestServer, startTestServer } from "../test-support/test-server.js";

let sluice: TestServer;
beforeAll(async () => {
  sluice = await startTestServer();
});
afterAll(async () => {
  await sluice?.close();
});

interface Frame {
  type: string;
  message?: { Body: string; ReceiptHandle: string };
}

function openStream(name: string, query = ""): Promise<{ socket: WebSocket; frames: Frame[] }> {
  const socket = new WebSocket(`${sluice.url.replace("http", "ws")}/queues/${name}/stream${query}`);
  const frames: Frame[] = [];
  socket.on("message", (data: Buffer) => frames.push(JSON.parse(data.toString("utf8")) as Frame));
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve({ socket, frames }));
    socket.once("error", reject);
  });
}

const until = async (condition: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("queue stream (WebSocket)", () => {
  it("sends only as many messages as the client gave credit for; the rest stay in the queue", async () => {
    const { QueueUrl } = await sluice.queues.createQueue({ QueueName: "stream" });
    await sluice.queues.sendMessageBatch({
      QueueUrl,
      Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${i}` })),
    });
    const { socket, frames } = await openStream("stream");
    socket.send(JSON.stringify({ type: "credit", count: 3 }));
    await until(() => frames.length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(frames).toHaveLength(3);
    const counts = await sluice.queues.getQueueAttributes({ QueueUrl });
    expect(counts.Attributes.ApproximateNumberOfMessages).toBe("7");
    expect(counts.Attributes.ApproximateNumberOfMessagesNotVisible).toBe("3");
    // Deleting through the stream acknowledges; more credit brings the rest.
    for (const frame of frames)
      socket.send(JSON.stringify({ type: "delete", ReceiptHandle: frame.message!.ReceiptHandle }));
    socket.send(JSON.stringify({ type: "credit", count: 100 }));
    await until(() => frames.length >= 10);
    expect(frames.map((f) => f.message!.Body).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `body ${i}`).sort(),
    );
    const after = await sluice.queues.getQueueAttributes({ QueueUrl });
    expect(after.Attributes.ApproximateNumberOfMessagesNotVisible).toBe("7");
    // A message sent while the stream waits arrives without polling from the client.
    await sluice.queues.sendMessage({ QueueUrl, MessageBody: "late" });
    await until(() => frames.length >= 11);
    expect(frames[10]!.message!.Body).toBe("late");
    socket.close();
  });

  it("a client that stops reading holds at most 64 unsent messages; the rest stay in the queue for other consumers", async () => {
    // Large messages, so that the kernel's socket buffers (a few MiB on loopback) take only a
    // few of them and the server's own limit is what stops it.
    const size = 128 * 1024;
    const total = 300;
    // A name of its own per attempt: a retry must not find the first attempt's messages.
    const name = `slow-reader-${Date.now()}`;
    const { QueueUrl } = await sluice.queues.createQueue({ QueueName: name });
    for (let i = 0; i < total; i += 20)
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          sluice.queues.sendMessage({
            QueueUrl,
            MessageBody: `${String(i + j).padStart(3, "0")}:${"x".repeat(size)}`,
          }),
        ),
      );
    const counts = async (): Promise<{ visible: number; inFlight: number }> => {
      const { Attributes } = await sluice.queues.getQueueAttributes({ QueueUrl });
      return {
        visible: Number(Attributes.ApproximateNumberOfMessages),
        inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
      };
    };
    // Endless credit, then the client's TCP socket stops reading.
    const { socket, frames } = await openStream(name, "?VisibilityTimeout=5");
    const raw = (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    // Also when an assertion fails: a retry must find no stalled socket of this attempt.
    onTestFinished(() => socket.terminate());
    socket.send(JSON.stringify({ type: "credit", count: 1_000_000 }));
    let held = -1;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const { inFlight } = await counts();
      if (inFlight > 0 && inFlight === held) break;
      held = inFlight;
    }
    // What the server took from the queue: what the kernel's buffers hold and 64 sends waiting
    // in the socket, not the 300 the credit allowed.
    const kernelHolds = Math.ceil((8 * 1024 * 1024) / size);
    expect(held).toBeGreaterThanOrEqual(64);
    expect(held).toBeLessThanOrEqual(kernelHolds + 64);
    // Bytes the server's socket has not yet handed to the kernel.
    const serverSockets = [...sluice.server.app.websocketServer.clients];
    expect(serverSockets).toHaveLength(1);
    const buffered = serverSockets[0]!.bufferedAmount;
    expect((await counts()).visible).toBe(total - held);

    // Another consumer takes the rest meanwhile…
    const bodies = new Set<string>();
    for (;;) {
      const { Messages } = await sluice.queues.receiveMessage({
        QueueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 600,
      });
      if (Messages.length === 0) break;
      for (const m of Messages) bodies.add(m.Body.slice(0, 3));
    }
    expect(bodies.size).toBe(total - held);
    // …and, once their visibility timeout has passed, the ones held for the stalled client.
    const again: string[] = [];
    const deadline = Date.now() + 15_000;
    while (again.length < held && Date.now() < deadline) {
      const { Messages } = await sluice.queues.receiveMessage({
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 600,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      });
      for (const m of Messages) {
        expect(m.Attributes?.ApproximateReceiveCount).toBe("2");
        again.push(m.Body.slice(0, 3));
      }
    }
    expect(again).toHaveLength(held);
    for (const id of again) bodies.add(id);
    expect(bodies.size).toBe(total);
    // The client reads again: what was held for it arrives; nothing more can (all in flight).
    raw.resume();
    await until(() => frames.length >= held, 30_000);
    expect(frames.length).toBe(held);
    // The server's buffer held no more than 64 such frames (and a header or two).
    const frameBytes = Math.max(...frames.map((f) => JSON.stringify(f).length));
    expect(buffered).toBeGreaterThan(32 * frameBytes);
    expect(buffered).toBeLessThanOrEqual(64 * (frameBytes + 14));
  });

  it("answers a malformed command with an error frame and keeps the stream open", async () => {
    await sluice.queues.createQueue({ QueueName: "stream2" });
    const { socket, frames } = await openStream("stream2");
    socket.send("not json");
    await until(() => frames.length >= 1);
    expect(frames[0]).toMatchObject({ type: "error", error: { name: "InvalidParameterValue" } });
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });

  it("refuses a queue that does not exist at once, with an error frame and close code 1008", async () => {
    const { socket, frames } = await openStream("no-such-queue");
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    // No credit given: the refusal does not wait for the client's first command.
    expect(await closed).toBe(1008);
    expect(frames).toMatchObject([
      { type: "error", error: { code: "SLUICE_NOT_FOUND", name: "QueueDoesNotExist" } },
    ]);
  });
});
