/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-assignment -- JSON answers are untyped */
import { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { serveCreditStream } from "./credit-stream.js";
import { EarlyFrames } from "../net/json-frames.js";
import { closeOnFailure } from "./stream-failure.js";
import { type TestServer, startTestServer } from "./test-support/test-server.js";

let sluice: TestServer;
beforeAll(async () => {
  sluice = await startTestServer();
});
afterAll(async () => {
  await sluice?.close();
});

interface Frame {
  type: string;
  items?: any[];
  id?: unknown;
  result?: unknown;
  error?: { name: string };
}

interface Stream {
  readonly socket: WebSocket;
  readonly frames: Frame[];
  items(): any[];
  credit(count: number): void;
}

function openStream(url: string): Promise<Stream> {
  const socket = new WebSocket(url);
  const frames: Frame[] = [];
  socket.on("message", (data: Buffer) => frames.push(JSON.parse(data.toString("utf8")) as Frame));
  return new Promise((resolve, reject) => {
    socket.once("open", () =>
      resolve({
        socket,
        frames,
        items: () => frames.flatMap((f) => f.items ?? []),
        credit: (count) => socket.send(JSON.stringify({ type: "credit", count })),
      }),
    );
    socket.once("error", reject);
  });
}

const ws = (path: string): string => `${sluice.url.replace("http", "ws")}${path}`;

const until = async (condition: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("topic stream (WebSocket)", () => {
  it("from an offset: sends as many records as the client gave credit for, then the rest", async () => {
    await sluice.sluice.topics.admin.createTopic({ name: "ticks", partitions: 1 });
    const producer = sluice.sluice.topics.producer();
    await producer.sendBatch(
      Array.from({ length: 20 }, (_, i) => ({ topic: "ticks", value: `tick ${i}` })),
    );
    const stream = await openStream(ws("/topics/ticks/stream?offset=2"));
    stream.credit(5);
    await until(() => stream.items().length >= 5);
    await new Promise((r) => setTimeout(r, 300));
    expect(stream.items().map((r) => r.value)).toEqual([2, 3, 4, 5, 6].map((i) => `tick ${i}`));
    stream.credit(100);
    await until(() => stream.items().length >= 18);
    // Live: a record produced now arrives too.
    await producer.send({ topic: "ticks", value: "late" });
    await until(() => stream.items().length >= 19);
    expect(stream.items().at(-1).value).toBe("late");
    stream.socket.close();
    await producer.close();
  });

  it("as a group member: commits what it was sent, and the group's lag drops to 0", async () => {
    await sluice.sluice.topics.admin.createTopic({ name: "jobs", partitions: 2 });
    const producer = sluice.sluice.topics.producer();
    await producer.sendBatch(
      Array.from({ length: 10 }, (_, i) => ({
        topic: "jobs",
        value: `job ${i}`,
        partition: i % 2,
      })),
    );
    const stream = await openStream(ws("/topics/jobs/stream?group=workers"));
    stream.credit(1000);
    await until(() => stream.items().length >= 10);
    stream.socket.send(JSON.stringify({ type: "commit", id: 1 }));
    await until(() => stream.frames.some((f) => f.type === "reply" && f.id === 1));
    const group = await sluice.sluice.topics.admin.describeGroup("workers");
    expect(group.offsets.map((o) => o.lag)).toEqual([0, 0]);
    expect(group.members).toHaveLength(1);
    stream.socket.close();
    await producer.close();
  });

  it("refuses an unknown topic with an error frame", async () => {
    const stream = await openStream(ws("/topics/absent/stream"));
    await until(() => stream.frames.length > 0);
    expect(stream.frames[0]!.error?.name).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });
});

describe("event store subscription (WebSocket)", () => {
  it("catches up from a point, then follows live appends, filtered by stream", async () => {
    const store = sluice.sluice.eventStore;
    await store.appendToStream("acct-1", [
      { type: "Opened", data: {} },
      { type: "Deposited", data: { amount: 5 } },
    ]);
    await store.appendToStream("other", [{ type: "Noise", data: {} }]);
    const stream = await openStream(ws("/all/subscribe?stream=acct-1&after=0"));
    stream.credit(100);
    await until(() => stream.items().length >= 1);
    expect(stream.items().map((e) => e.type)).toEqual(["Deposited"]);
    await store.appendToStream("acct-1", [{ type: "Withdrawn", data: { amount: 2 } }]);
    await until(() => stream.items().length >= 2);
    expect(stream.items()[1]).toMatchObject({ type: "Withdrawn", version: 2 });

    const all = await openStream(ws("/all/subscribe?types=Opened,Noise"));
    all.credit(100);
    await until(() => all.items().length >= 2);
    expect(all.items().map((e) => e.stream)).toEqual(["acct-1", "other"]);
    stream.socket.close();
    all.socket.close();
  });
});

describe("persistent subscription consumer (WebSocket)", () => {
  it("delivers within maxInFlight, settles by delivery id, and answers a bad nack with an error frame", async () => {
    const store = sluice.sluice.eventStore;
    await store.persistentSubscriptions().create({ group: "mailer", stream: "mail" });
    await store.appendToStream("mail", [
      { type: "Queued", data: { n: 0 } },
      { type: "Queued", data: { n: 1 } },
    ]);
    const stream = await openStream(ws("/persistent-subscriptions/mailer/connect?maxInFlight=1"));
    stream.credit(10);
    await until(() => stream.items().length >= 1);
    // One unsettled event at most: the second waits for the first to be settled.
    await new Promise((r) => setTimeout(r, 100));
    expect(stream.items()).toHaveLength(1);
    const [first] = stream.items();
    expect(first).toMatchObject({ retryCount: 0, replayed: false, event: { version: 0 } });
    const send = (command: object): void => stream.socket.send(JSON.stringify(command));
    send({ type: "nack", id: 1, delivery: first.delivery, action: "drop" });
    await until(() => stream.frames.some((f) => f.id === 1));
    expect(stream.frames.find((f) => f.id === 1)).toMatchObject({
      type: "error",
      error: { code: "SLUICE_VALIDATION", field: "action" },
    });
    send({ type: "ack", id: 2, delivery: first.delivery });
    await until(() => stream.items().length >= 2);
    expect(stream.frames.find((f) => f.id === 2)).toMatchObject({ type: "reply" });
    expect(stream.items()[1]).toMatchObject({ event: { version: 1 } });
    const [info] = await store.persistentSubscriptions().list();
    expect(info).toMatchObject({ checkpoint: 0, consumers: 1 });
    stream.socket.close();
  });

  it("refuses an unknown group with an error frame", async () => {
    const stream = await openStream(ws("/persistent-subscriptions/absent/connect"));
    stream.credit(1);
    await until(() => stream.frames.length > 0);
    expect(stream.frames[0]).toMatchObject({ type: "error", error: { code: "SLUICE_NOT_FOUND" } });
  });
});

describe("pub/sub subscriber (WebSocket)", () => {
  it("is a subscription of the topic while open, with its filter policy", async () => {
    await sluice.sluice.pubsub.createTopic({ Name: "alerts" });
    const stream = await openStream(
      ws(`/pubsub/topics/alerts/stream?FilterPolicy=${encodeURIComponent('{"level":["high"]}')}`),
    );
    await until(() => stream.frames.some((f) => f.type === "subscribed"));
    stream.credit(10);
    const { Topics } = await sluice.sluice.pubsub.listTopics();
    const TopicArn = Topics.find((t) => t.TopicArn.endsWith(":alerts"))!.TopicArn;
    const publish = (level: string, Message: string) =>
      sluice.sluice.pubsub.publish({
        TopicArn,
        Message,
        MessageAttributes: { level: { DataType: "String", StringValue: level } },
      });
    await publish("low", "ignored");
    await publish("high", "fire");
    await until(() => stream.items().length >= 1);
    expect(stream.items().map((n) => n.Message)).toEqual(["fire"]);
    stream.socket.close();
  });
});

describe("credit stream flow control", () => {
  it("stops pulling from its source while a slow client leaves bytes unsent, and resumes when it reads", async () => {
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const item = "x".repeat(1024);
    let pulled = 0;
    const stop = new AbortController();
    server.on("connection", (socket) => {
      void serveCreditStream(socket, stop.signal, {
        pull: async (max) => {
          // An endless source: only flow control can stop the stream.
          const n = Math.min(max, 100);
          pulled += n;
          return Array.from({ length: n }, () => item);
        },
      });
    });
    await new Promise((r) => server.once("listening", r));
    const port = (server.address() as AddressInfo).port;
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    let received = 0;
    client.on("message", (data: Buffer) => {
      received += (JSON.parse(data.toString("utf8")) as { items: unknown[] }).items.length;
    });
    await new Promise((r) => client.once("open", r));
    // A client that grants endless credit but stops reading: its TCP socket is paused.
    const raw = (client as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    client.send(JSON.stringify({ type: "credit", count: 1e12 }));
    let last = -1;
    while (pulled !== last) {
      last = pulled;
      await new Promise((r) => setTimeout(r, 500));
    }
    // Bounded by the 1 MiB high-water mark plus what the kernel's socket buffers hold.
    expect(pulled * item.length).toBeLessThan(64 * 1024 * 1024);
    raw.resume();
    await until(() => received >= last && pulled > last);
    stop.abort();
    client.close();
    await new Promise((r) => server.close(r));
  });

  it("takes the credit a client sent while its stream was still being set up", async () => {
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const stop = new AbortController();
    server.on("connection", (socket) => {
      const early = new EarlyFrames(socket);
      // A set-up (a group join, a subscription) that outlasts the client's first frames.
      socket.once("message", () =>
        setTimeout(() => {
          let given = false;
          void serveCreditStream(
            socket,
            stop.signal,
            {
              pull: async (_max, signal) => {
                if (!given) {
                  given = true;
                  return ["first", "second"];
                }
                await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
                return [];
              },
            },
            { early },
          );
        }, 100),
      );
    });
    await new Promise((r) => server.once("listening", r));
    const stream = await openStream(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    stream.credit(2);
    await until(() => stream.items().length === 2);
    expect(stream.items()).toEqual(["first", "second"]);
    stop.abort();
    stream.socket.close();
    await new Promise((r) => server.close(r));
  });

  it("a stream that fails in a way it did not handle closes its socket, not the process", async () => {
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    server.on("connection", (socket) =>
      closeOnFailure(socket, Promise.reject(new Error("a bug in a stream"))),
    );
    await new Promise((r) => server.once("listening", r));
    const stream = await openStream(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const code = await new Promise<number>((resolve) => stream.socket.once("close", resolve));
    expect(code).toBe(1011);
    expect(stream.frames).toEqual([
      {
        type: "error",
        error: {
          code: "SLUICE_INTERNAL",
          name: "InternalError",
          message: "the server failed to handle the request",
        },
      },
    ]);
    await new Promise((r) => server.close(r));
  });
});
