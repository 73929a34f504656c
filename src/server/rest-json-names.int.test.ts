/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument -- JSON answers are untyped */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "./test-support/test-server.js";

/**
 * JSON bodies whose keys mean something to JavaScript (`__proto__`, `constructor.prototype`)
 * are data like any other on the REST routes, as on the AWS protocols: a tag key, a message
 * attribute name or a field of an event's data is kept and given back, and never reaches a
 * prototype.
 */
let sluice: TestServer;
beforeAll(async () => {
  sluice = await startTestServer();
});
afterAll(async () => {
  await sluice?.close();
});
afterEach(() => {
  // Nothing a body held may have reached the prototype every object shares.
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
});

/** Sends `body` as written: `JSON.stringify` of an object literal could not hold these keys. */
async function call(
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sluice.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body }),
  });
  const text = await response.text();
  return { status: response.status, json: text.length === 0 ? undefined : JSON.parse(text) };
}

const POISON = '{"polluted":"yes"}';

/** A queue to deliver to, by its URL and its ARN. */
async function newQueue(name: string): Promise<{ QueueUrl: string; QueueArn: string }> {
  const { QueueUrl } = await sluice.queues.createQueue({ QueueName: name });
  const { Attributes } = await sluice.queues.getQueueAttributes({
    QueueUrl,
    AttributeNames: ["QueueArn"],
  });
  return { QueueUrl, QueueArn: Attributes.QueueArn! };
}

describe("REST bodies with keys named __proto__ or constructor", () => {
  it("keeps a queue tag named __proto__", async () => {
    expect((await call("POST", "/queues", '{"QueueName":"tagged"}')).status).toBe(201);
    const tagged = await call(
      "POST",
      "/queues/tagged/tags",
      `{"Tags":{"__proto__":"x","team":"a"}}`,
    );
    expect(tagged.status).toBe(204);
    const tags = await call("GET", "/queues/tagged/tags");
    expect(Object.hasOwn(tags.json.Tags, "__proto__")).toBe(true);
    expect(tags.json.Tags).toEqual(JSON.parse('{"__proto__":"x","team":"a"}'));
  });

  it("keeps a message attribute named __proto__ and its digest", async () => {
    await call("POST", "/queues", '{"QueueName":"attributes"}');
    const sent = await call(
      "POST",
      "/queues/attributes/messages",
      `{"MessageBody":"m","MessageAttributes":{"__proto__":{"DataType":"String","StringValue":"v"}}}`,
    );
    expect(sent.status).toBe(200);
    const received = await call(
      "POST",
      "/queues/attributes/receive",
      '{"MessageAttributeNames":["All"],"WaitTimeSeconds":1}',
    );
    const [message] = received.json.Messages;
    expect(Object.hasOwn(message.MessageAttributes, "__proto__")).toBe(true);
    expect(
      Object.getOwnPropertyDescriptor(message.MessageAttributes, "__proto__")?.value,
    ).toMatchObject({
      DataType: "String",
      StringValue: "v",
    });
    expect(message.MD5OfMessageAttributes).toBe(sent.json.MD5OfMessageAttributes);
  });

  it("stores event data holding __proto__ and constructor.prototype as written", async () => {
    const data = `{"__proto__":${POISON},"constructor":{"prototype":${POISON}},"sku":"a"}`;
    const appended = await call(
      "POST",
      "/streams/odd-1/events",
      `{"expectedVersion":"no_stream","events":[{"type":"Added","data":${data},"metadata":${data}}]}`,
    );
    expect(appended.status).toBe(201);
    const read = await call("GET", "/streams/odd-1/events");
    const [event] = read.json.events;
    expect(event.data).toEqual(JSON.parse(data));
    expect(Object.hasOwn(event.data, "__proto__")).toBe(true);
    expect(event.metadata).toEqual(JSON.parse(data));
  });

  it("publishes with a message attribute named __proto__", async () => {
    const { QueueUrl, QueueArn } = await newQueue("fanned");
    await call("POST", "/pubsub/topics", '{"Name":"odd"}');
    await call(
      "POST",
      "/pubsub/topics/odd/subscriptions",
      JSON.stringify({
        Protocol: "sqs",
        Endpoint: QueueArn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    const published = await call(
      "POST",
      "/pubsub/topics/odd/messages",
      `{"Message":"hi","MessageAttributes":{"__proto__":{"DataType":"String","StringValue":"v"}}}`,
    );
    expect(published.status).toBe(200);
    const { Messages = [] } = await sluice.queues.receiveMessage({
      QueueUrl,
      WaitTimeSeconds: 5,
      MessageAttributeNames: ["All"],
    });
    expect(Messages[0]?.Body).toBe("hi");
    expect(Object.hasOwn(Messages[0]!.MessageAttributes!, "__proto__")).toBe(true);
  });

  it("routes a bus event whose detail holds __proto__", async () => {
    const { QueueUrl, QueueArn } = await newQueue("routed");
    await call("POST", "/buses", '{"Name":"odd"}');
    await call(
      "PUT",
      "/buses/odd/rules/all",
      JSON.stringify({ EventPattern: JSON.stringify({ source: ["s"] }) }),
    );
    await call(
      "PUT",
      "/buses/odd/rules/all/targets",
      JSON.stringify({ Targets: [{ Id: "q", Arn: QueueArn }] }),
    );
    const detail = `{"__proto__":${POISON}}`;
    const put = await call(
      "POST",
      "/buses/odd/events",
      JSON.stringify({ Entries: [{ Source: "s", DetailType: "t", Detail: detail }] }),
    );
    expect(put.json.FailedEntryCount).toBe(0);
    const { Messages = [] } = await sluice.queues.receiveMessage({ QueueUrl, WaitTimeSeconds: 5 });
    expect(JSON.parse(Messages[0]!.Body).detail).toEqual(JSON.parse(detail));
  });

  it("refuses a queue attribute or topic setting named __proto__ as unknown, changing nothing", async () => {
    const queue = await call(
      "POST",
      "/queues",
      `{"QueueName":"odd","Attributes":{"__proto__":"1"}}`,
    );
    expect(queue.status).toBe(400);
    expect(JSON.stringify(queue.json)).toContain("__proto__");
    expect((await call("GET", "/queues/odd")).status).toBe(404);
    await call("POST", "/topics", '{"name":"odd"}');
    const config = await call("PATCH", "/topics/odd/config", `{"__proto__":{"retentionMs":1}}`);
    expect(config.status).toBe(400);
    expect((await call("GET", "/topics/odd")).json.config.retentionMs).not.toBe(1);
  });

  it("still refuses text that is not JSON, saying where", async () => {
    const bad = await call("POST", "/queues", '{"QueueName":');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/JSON/);
  });
});
