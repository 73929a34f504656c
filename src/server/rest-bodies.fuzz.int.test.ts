// Every REST route that takes a body, from the server's own OpenAPI document, sent bodies of
// every JSON type, malformed JSON and wrong types in each documented field: the server answers
// none with a 5xx, each refusal is a 4xx in its REST error shape, the server stays up, and a
// refused request changes nothing (what a user can list is the same after it as before; some
// of these bodies are valid, such as `{}` for a route whose fields are all optional).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../engine/simulated-file-system.js";
import { type TestServer, startTestServer } from "./test-support/test-server.js";

interface Operation {
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

let sluice: TestServer;
beforeAll(async () => {
  sluice = await startTestServer();
  // Something for the routes to find: a queue, a topic, a stream, a pub/sub topic.
  await sluice.sluice.queues.createQueue({ QueueName: "q" });
  await sluice.sluice.topics.admin.createTopic({ name: "t" });
  await sluice.sluice.eventStore.appendToStream("s", [{ type: "E", data: {} }]);
});
afterAll(async () => {
  await sluice?.close();
});

/** A concrete path for an OpenAPI path template: each parameter a name that exists. */
const concrete = (template: string): string =>
  template.replace(/\{[^}]+\}/g, (p) =>
    p === "{partition}" ? "0" : p === "{stream}" ? "s" : p === "{name}" ? "q" : "x",
  );

function wrongValues(random: () => number): unknown[] {
  const values: unknown[] = [
    null,
    true,
    -1,
    1.5,
    "",
    "x".repeat(300),
    [],
    [null],
    {},
    { __proto__: { polluted: true } },
    Number.MAX_SAFE_INTEGER,
  ];
  return values.sort(() => random() - 0.5);
}

/** What a user can list: the same before and after a request with wrong input. */
async function listings(): Promise<unknown> {
  const s = sluice.sluice;
  return {
    queues: (await s.queues.listQueues({})).QueueUrls,
    topics: await s.topics.admin.listTopics(),
    streams: await s.eventStore.listStreams(),
    head: await s.eventStore.headPosition(),
  };
}

describe("REST request bodies, fuzzed from the OpenAPI document", () => {
  it("answer no body with a 5xx; a refused one is a 4xx REST error and changes nothing", async () => {
    const doc = (await sluice.server.app.inject({ url: "/openapi.json" })).json<{
      paths: Record<string, Record<string, Operation>>;
    }>();
    const random = seededRandom(42);
    let requests = 0;
    let accepted = 0;
    for (const [template, methods] of Object.entries(doc.paths))
      for (const [method, operation] of Object.entries(methods)) {
        const schema = operation.requestBody?.content?.["application/json"]?.schema;
        if (schema === undefined) continue;
        const url = concrete(template);
        const fields = Object.keys(schema.properties ?? {});
        const bodies: string[] = [
          "{",
          "[1,",
          '{"a":',
          "nul",
          ...wrongValues(random).map((v) => JSON.stringify(v)),
        ];
        for (const field of fields)
          for (const value of wrongValues(random).slice(0, 4))
            bodies.push(JSON.stringify({ [field]: value }));
        for (const payload of bodies) {
          const before = await listings();
          const answer = await sluice.server.app.inject({
            method: method.toUpperCase() as "POST",
            url,
            headers: { "content-type": "application/json" },
            payload,
          });
          requests++;
          const where = `${method.toUpperCase()} ${url} ${payload.slice(0, 60)}`;
          expect(answer.statusCode, where).toBeLessThan(500);
          if (answer.statusCode >= 400) {
            expect(answer.json(), where).toMatchObject({
              error: { code: expect.any(String) as string, message: expect.any(String) as string },
            });
            expect(await listings(), where).toEqual(before);
          } else accepted++;
        }
      }
    expect(requests).toBeGreaterThan(200);
    expect(accepted).toBeLessThan(requests / 4);
    expect((await sluice.server.app.inject({ url: "/healthz" })).statusCode).toBe(200);
  });
});
