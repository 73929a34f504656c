import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { cliMain } from "./test-support/cli-build.js";
import { type StartedServer, startServer } from "./test-support/started-server.js";

/** Frames a careless or hostile client may send: none is a command any route takes. */
const JUNK = [
  "null",
  "1",
  '"credit"',
  "[]",
  "[{}]",
  "not json",
  "{}",
  '{"type":null}',
  '{"type":"credit","count":"5"}',
  '{"type":"credit","count":-1}',
  '{"id":1,"op":null}',
  '{"id":"1","op":"consumer"}',
  '{"id":1,"op":"consumer","args":5}',
  '{"id":1,"op":"consumer","args":[null]}',
];

interface Frame {
  type?: string;
  ok?: boolean;
  error?: { code: string; message: string };
  items?: unknown[];
}

interface Session {
  readonly frames: Frame[];
  readonly closed: Promise<number>;
  send(text: string): void;
}

function connect(url: string): Promise<Session> {
  const socket = new WebSocket(url);
  const frames: Frame[] = [];
  socket.on("message", (data: Buffer) => frames.push(JSON.parse(data.toString("utf8")) as Frame));
  const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve({ frames, closed, send: (text) => socket.send(text) }));
    socket.once("error", reject);
  });
}

const until = async (condition: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const root = mkdtempSync(join(tmpdir(), "sluice-ws-frames-"));
let server: StartedServer;

const post = async (path: string, body: unknown): Promise<void> => {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
};

beforeAll(async () => {
  server = await startServer(
    [process.execPath, cliMain(), "start"],
    ["--data-dir", join(root, "data"), "--kafka-port", "0"],
  );
  await post("/queues", { QueueName: "jobs" });
  await post("/queues/jobs/messages", { MessageBody: "still served" });
  await post("/topics", { name: "ticks", partitions: 1 });
  await post("/topics/ticks/records", { records: [{ value: "tick" }] });
  await post("/streams/cart-1/events", { events: [{ type: "Added", data: {} }] });
  await post("/persistent-subscriptions", { group: "billing", stream: "cart-1" });
  await post("/pubsub/topics", { Name: "news" });
}, 90_000);

afterAll(async () => {
  server?.child.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

/**
 * Every WebSocket route of `sluice start`, sent frames that are not commands: each is answered
 * with a validation error in the route's own frame format, and the server goes on serving (one
 * such frame used to end the process with an uncaught TypeError, and every client with it).
 */
describe("sluice start refuses WebSocket frames that are not commands, and keeps serving", () => {
  const streams: [string, string][] = [
    ["queue stream", "/queues/jobs/stream"],
    ["topic stream", "/topics/ticks/stream?partition=0&offset=0"],
    // Set up by a group join: frames sent meanwhile must wait for it, not be dropped.
    ["topic stream of a group", "/topics/ticks/stream?group=readers"],
    ["event store subscription", "/all/subscribe"],
    ["persistent subscription", "/persistent-subscriptions/billing/connect"],
    ["pub/sub topic stream", "/pubsub/topics/news/stream"],
  ];
  for (const [name, path] of streams)
    it(`${name}: an error frame for each, and credit sent with them delivers`, async () => {
      // Sent the moment the socket opens, while the stream may still be setting up.
      const session = await connect(`${server.url.replace("http", "ws")}${path}`);
      for (const text of JUNK) session.send(text);
      session.send(JSON.stringify({ type: "credit", count: 10 }));
      const errors = (): Frame[] => session.frames.filter((f) => f.type === "error");
      await until(() => errors().length >= JUNK.length, "an answer to every frame");
      for (const frame of errors()) expect(frame.error?.code).toBe("SLUICE_VALIDATION");
      // A pub/sub stream delivers what is published once it is subscribed.
      if (name === "pub/sub topic stream")
        await post("/pubsub/topics/news/messages", { Message: "still served" });
      // A queue stream sends its messages one frame each, the others in batches.
      await until(
        () => session.frames.some((f) => f.type === "batch" || f.type === "message"),
        "something delivered",
      );
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    });

  it("topic session: a failed answer for each, then a real call still works", async () => {
    const session = await connect(`${server.url.replace("http", "ws")}/topics/session`);
    for (const text of JUNK) session.send(text);
    await until(() => session.frames.length >= JUNK.length, "an answer to every frame");
    for (const frame of session.frames) {
      expect(frame.ok).toBe(false);
      expect(frame.error?.code).toBe("SLUICE_VALIDATION");
    }
    session.send(JSON.stringify({ id: 7, op: "admin.listTopics", args: [] }));
    await until(() => session.frames.some((f) => f.ok === true), "an answer to a real call");
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  for (const kind of ["pubsub", "bus"])
    it(`${kind} handlers: a frame that is not an answer closes that socket alone`, async () => {
      const session = await connect(`${server.url.replace("http", "ws")}/${kind}/handlers/h1`);
      session.send("null");
      expect(await session.closed).toBe(1007);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    });

  it("the server process is still the one that started", () => {
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/TypeError|Uncaught/);
  });
});
