import { afterEach, describe, expect, it } from "vitest";
import { type InjectServer, injectServer } from "./test-support/inject-server.js";

let current: InjectServer | undefined;
const open = async (options: Parameters<typeof injectServer>[0] = {}): Promise<InjectServer> =>
  (current = await injectServer(options));
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe("server", () => {
  it("/ lists the URLs that matter", async () => {
    const { server } = await open();
    const page = await server.app.inject({ url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    for (const path of ["/queues", "/openapi.json", "/metrics", "/healthz"])
      expect(page.body).toContain(`http://localhost:8080${path}`);
    expect(page.body).toContain("AmazonSQS");
  });

  it("/openapi.json describes every REST route with its schema", async () => {
    const { server } = await open();
    const doc = (await server.app.inject({ url: "/openapi.json" })).json<{
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: unknown; parameters?: { name: string }[] }>
      >;
    }>();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/queues",
        "/queues/{name}/messages",
        "/queues/{name}/receive",
        "/message-move-tasks",
      ]),
    );
    expect(doc.paths["/queues/{name}/messages"]?.post?.requestBody).toBeDefined();
    expect(doc.paths["/queues/{name}/messages"]?.post?.parameters?.map((p) => p.name)).toEqual([
      "name",
    ]);
    expect(doc.paths["/"]).toBeUndefined();
  });

  it("/metrics exposes queue and HTTP metrics in Prometheus text format", async () => {
    const { server } = await open();
    await server.app.inject({ method: "POST", url: "/queues", payload: { QueueName: "m" } });
    await server.app.inject({
      method: "POST",
      url: "/queues/m/messages",
      payload: { MessageBody: "x" },
    });
    const metrics = await server.app.inject({ url: "/metrics" });
    expect(metrics.headers["content-type"]).toMatch(/text\/plain/);
    expect(metrics.body).toContain('sluice_queue_messages_sent_total{queue="m"} 1');
    expect(metrics.body).toContain("# TYPE sluice_queue_messages_visible gauge");
    expect(metrics.body).toMatch(
      /sluice_http_request_duration_seconds_count\{method="POST",route="\/queues\/:name\/messages",status_code="200"\} 1/,
    );
    expect(metrics.body).toContain("process_resident_memory_bytes");
  });

  it("REST errors carry the code, SQS's name and the field; schema violations are 400", async () => {
    const { server } = await open();
    const missing = await server.app.inject({
      method: "POST",
      url: "/queues/nope/messages",
      payload: { MessageBody: "x" },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      error: { code: "SLUICE_NOT_FOUND", name: "QueueDoesNotExist", field: "QueueUrl" },
    });
    await server.app.inject({ method: "POST", url: "/queues", payload: { QueueName: "q" } });
    const exists = await server.app.inject({
      method: "POST",
      url: "/queues",
      payload: { QueueName: "q", Attributes: { DelaySeconds: "5" } },
    });
    expect(exists.statusCode).toBe(409);
    const wrongType = await server.app.inject({
      method: "POST",
      url: "/queues/q/receive",
      payload: { MaxNumberOfMessages: "many" },
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json()).toMatchObject({
      error: { name: "InvalidParameterValue", field: "body.MaxNumberOfMessages" },
    });
    const outOfRange = await server.app.inject({
      method: "POST",
      url: "/queues/q/receive",
      payload: { MaxNumberOfMessages: 11 },
    });
    expect(outOfRange.json()).toMatchObject({
      error: { name: "InvalidParameterValue", field: "MaxNumberOfMessages" },
    });
    const badJson = await server.app.inject({
      method: "POST",
      url: "/queues",
      headers: { "content-type": "application/json" },
      payload: "{",
    });
    expect(badJson.statusCode).toBe(400);
    expect((await server.app.inject({ url: "/nowhere" })).statusCode).toBe(404);
  });

  it("a two-part path that is no REST route and no AWS call is a 404, not an SQS error in XML", async () => {
    const { server } = await open();
    for (const [method, url] of [
      ["GET", "/streams/nope"],
      ["GET", "/000000000000/q"],
      ["POST", "/topic/t"],
    ] as const) {
      const answer =
        method === "POST"
          ? await server.app.inject({ method, url, payload: {} })
          : await server.app.inject({ method, url });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.json(), url).toMatchObject({
        error: { code: "SLUICE_NOT_FOUND", name: "NotFound" },
      });
    }
    // The same paths with an Action are SQS's query protocol, as SDKs post to a queue URL.
    const call = await server.app.inject({ url: "/000000000000/q?Action=GetQueueAttributes" });
    expect(call.headers["content-type"]).toMatch(/xml/);
    expect(call.body).toContain("NonExistentQueue");
  });

  it("with an auth token, REST needs the Bearer token; health checks and AWS SDK calls do not", async () => {
    const { server } = await open({ authToken: "s3cret" });
    expect((await server.app.inject({ url: "/queues" })).statusCode).toBe(401);
    expect(
      (await server.app.inject({ url: "/queues", headers: { authorization: "Bearer wrong!" } }))
        .statusCode,
    ).toBe(401);
    expect(
      (await server.app.inject({ url: "/queues", headers: { authorization: "Bearer s3cret" } }))
        .statusCode,
    ).toBe(200);
    expect((await server.app.inject({ url: "/metrics" })).statusCode).toBe(401);
    expect((await server.app.inject({ url: "/healthz" })).statusCode).toBe(200);
    const sqs = await server.app.inject({
      method: "POST",
      url: "/",
      headers: {
        "x-amz-target": "AmazonSQS.ListQueues",
        "content-type": "application/x-amz-json-1.0",
      },
      payload: "{}",
    });
    expect(sqs.statusCode).toBe(200);
    const queryProtocol = await server.app.inject({ url: "/000000000000/q?Action=GetQueueUrl" });
    expect(queryProtocol.statusCode).not.toBe(401);
    // AWS headers on a REST route do not stand in for the token.
    for (const headers of [
      { "x-amz-target": "AmazonSQS.ListQueues" },
      { authorization: "AWS4-HMAC-SHA256 Credential=bogus/20260101/us-east-1/sqs/aws4_request" },
    ]) {
      for (const [method, url, payload] of [
        ["GET", "/queues", undefined],
        ["POST", "/queues", { name: "sneaky" }],
        ["DELETE", "/queues/q", undefined],
        ["GET", "/metrics", undefined],
        ["POST", "/streams/s/events", { events: [{ type: "E", data: {} }] }],
      ] as const) {
        const answer = await server.app.inject({
          method,
          url,
          headers: { ...headers, "content-type": "application/json" },
          ...(payload === undefined ? {} : { payload }),
        });
        expect(answer.statusCode, `${method} ${url} with ${Object.keys(headers)[0]}`).toBe(401);
      }
    }
    expect(
      (
        await server.app.inject({ url: "/queues", headers: { authorization: "Bearer s3cret" } })
      ).json(),
    ).toMatchObject({ QueueUrls: [] });
  });

  it("a body over the limit is refused in each protocol's own error format; a bad URL in REST's", async () => {
    const { server } = await open({ bodyLimitBytes: 1024 });
    const big = "x".repeat(2048);
    const json = await server.app.inject({
      method: "POST",
      url: "/",
      headers: {
        "x-amz-target": "AmazonSQS.SendMessage",
        "content-type": "application/x-amz-json-1.0",
      },
      payload: JSON.stringify({
        QueueUrl: "http://localhost:8080/000000000000/q",
        MessageBody: big,
      }),
    });
    expect(json.statusCode).toBe(413);
    expect(json.json()).toMatchObject({
      __type: expect.stringContaining("RequestEntityTooLarge") as string,
    });
    expect(json.headers["x-amzn-query-error"]).toMatch(/^RequestEntityTooLarge;Sender/);
    const query = await server.app.inject({
      method: "POST",
      url: "/000000000000/q",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: `Action=SendMessage&MessageBody=${big}`,
    });
    expect(query.statusCode).toBe(413);
    expect(query.headers["content-type"]).toMatch(/xml/);
    expect(query.body).toContain("<Code>RequestEntityTooLarge</Code>");
    const rest = await server.app.inject({
      method: "POST",
      url: "/queues",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ QueueName: big }),
    });
    expect(rest.statusCode).toBe(413);
    expect(rest.json()).toMatchObject({ error: { code: "SLUICE_VALIDATION" } });
    const badUrl = await server.app.inject({ url: "/queues/%zz" });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json()).toMatchObject({ error: { code: "SLUICE_VALIDATION" } });
  });

  it("/readyz is ready only while listening", async () => {
    const { server } = await open();
    expect((await server.app.inject({ url: "/readyz" })).statusCode).toBe(503);
    expect((await server.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
  });

  it("close ends a REST long poll with an empty answer", async () => {
    const { server } = await open();
    await server.app.inject({ method: "POST", url: "/queues", payload: { QueueName: "lp" } });
    const poll = server.app.inject({
      method: "POST",
      url: "/queues/lp/receive",
      payload: { WaitTimeSeconds: 20 },
    });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await server.close();
    const answer = await poll;
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ Messages: [] });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
