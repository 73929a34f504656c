import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

function openStream(name: string): Promise<{ socket: WebSocket; frames: Frame[] }> {
  const socket = new WebSocket(`${sluice.url.replace("http", "ws")}/queues/${name}/stream`);
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
