import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import { type TestServer, startTestServer } from "../server/test-support/test-server.js";
import { connect, type RemoteSluice } from "./connect.js";

// A server that asks for a token, and a client with the wrong one: each kind of socket the
// client opens is refused at its upgrade with 401, and fails with the server's own error, as
// the REST calls do, rather than an I/O error saying "Unexpected server response: 401".
let sluice: TestServer;
let remote: RemoteSluice;

beforeAll(async () => {
  sluice = await startTestServer({ authToken: "right" });
  remote = connect(sluice.url, { authToken: "wrong" });
});
afterAll(async () => {
  await remote?.close();
  await sluice?.close();
});

async function failure(work: Promise<unknown>): Promise<SluiceError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SluiceError);
  return error as SluiceError;
}

async function first(items: AsyncIterable<unknown>): Promise<unknown> {
  for await (const item of items) return item;
  return undefined;
}

const refused = { code: "SLUICE_UNAUTHORIZED", message: "a valid Bearer token is required" };

describe("a socket the server refuses at its upgrade", () => {
  it("REST, for comparison", async () => {
    expect(await failure(remote.queues.listQueues())).toMatchObject(refused);
  });

  it("the topic session", async () => {
    expect(await failure(remote.topics.admin.listTopics())).toMatchObject(refused);
  });

  it("an event-store subscription", async () => {
    expect(await failure(first(remote.eventStore.subscribe()))).toMatchObject(refused);
  });

  it("a persistent subscription's consumer", async () => {
    const consumer = remote.eventStore.persistentSubscriptions().connect("billing");
    expect(await failure(first(consumer))).toMatchObject(refused);
  });

  it("a pub/sub handler's registration", async () => {
    remote.pubsub.registerHandler("audit", () => undefined);
    expect(await failure(remote.pubsub.listTopics())).toMatchObject(refused);
  });
});
