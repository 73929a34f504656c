import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { isSluiceError } from "../errors/index.js";
import { type RemoteSluice, connect } from "./connect.js";

/**
 * A client pointed at a server that is not Sluice (or not this version of it), whose WebSocket
 * frames are not Sluice frames: each call or stream that met one fails with SLUICE_IO, and the
 * client's process goes on (an exception in a socket's message listener would end it).
 */
describe("the remote client against a WebSocket server that sends what Sluice never does", () => {
  let server: WebSocketServer;
  let sluice: RemoteSluice;
  /** The close codes of the sockets the client closed, by path. */
  const closedBy: [string, number][] = [];
  beforeAll(async () => {
    server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    server.on("connection", (socket, request) => {
      socket.on("close", (code) => closedBy.push([request.url ?? "", code]));
      socket.send("not json");
      socket.send("null");
    });
    await new Promise((r) => server.once("listening", r));
    sluice = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await sluice.close();
    await new Promise((r) => server.close(r));
  });

  const isIo = (error: unknown): boolean => isSluiceError(error, "SLUICE_IO");

  it("a topic session: the call fails", async () => {
    const producer = sluice.topics.producer({ lingerMs: 0 });
    await expect(producer.send({ topic: "t", value: "v" })).rejects.toSatisfy(isIo);
  });

  it("an event-store subscription: the stream fails", async () => {
    const read = async (): Promise<void> => {
      for await (const event of sluice.eventStore.subscribe()) void event;
    };
    await expect(read()).rejects.toSatisfy(isIo);
  });

  it("a persistent subscription: the consumer fails", async () => {
    const read = async (): Promise<void> => {
      for await (const delivery of sluice.eventStore.persistentSubscriptions().connect("g"))
        void delivery;
    };
    await expect(read()).rejects.toSatisfy(isIo);
  });

  it("a handler: the client closes its socket as sending invalid data", async () => {
    sluice.pubsub.registerHandler("h", async () => undefined);
    const deadline = Date.now() + 10_000;
    while (!closedBy.some(([path]) => path.startsWith("/pubsub/handlers/h"))) {
      if (Date.now() > deadline) throw new Error("the handler socket stayed open");
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(closedBy.find(([path]) => path.startsWith("/pubsub/handlers/h"))?.[1]).toBe(1007);
  });
});
