/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- JSON answers are untyped */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "./test-support/test-server.js";

let sluice: TestServer;
beforeAll(async () => {
  sluice = await startTestServer();
});
afterAll(async () => {
  await sluice?.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sluice.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text.length === 0 ? undefined : JSON.parse(text) };
}

describe("topics and consumer groups over REST", () => {
  it("creates a topic, produces a batch, fetches from an offset, and reports a group's lag", async () => {
    expect((await call("POST", "/topics", { name: "orders", partitions: 2 })).status).toBe(201);
    const produced = await call("POST", "/topics/orders/records", {
      records: Array.from({ length: 6 }, (_, i) => ({
        value: `order ${i}`,
        partition: i % 2,
        headers: [{ key: "h", value: "v" }],
      })),
    });
    expect(produced.status).toBe(200);
    expect(produced.json.offsets).toHaveLength(6);
    const fetched = await call("GET", "/topics/orders/partitions/0/records?offset=1");
    expect(fetched.json.records.map((r: { value: string }) => r.value)).toEqual([
      "order 2",
      "order 4",
    ]);
    expect(fetched.json.nextOffset).toBe(3);
    const binary = await call("GET", "/topics/orders/partitions/1/records?encoding=base64");
    expect(Buffer.from(binary.json.records[0].value, "base64").toString()).toBe("order 1");
    expect((await call("GET", "/topics/orders/partitions/0")).json.highWatermark).toBe(3);

    expect(
      (
        await call("PUT", "/groups/billing/offsets", {
          offsets: [{ topic: "orders", partition: 0, offset: 1 }],
        })
      ).status,
    ).toBe(204);
    const group = await call("GET", "/groups/billing");
    const p0 = group.json.offsets.find((o: { partition: number }) => o.partition === 0);
    expect(p0).toMatchObject({ committedOffset: 1, logEndOffset: 3, lag: 2 });
  });

  it("refuses bad input with a 400 naming the field, and unknown topics with a 404", async () => {
    const bad = await call("POST", "/topics/orders/records", { records: [{ value: 5 }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toContain("records");
    const missing = await call("GET", "/topics/nope");
    expect(missing.status).toBe(404);
    expect(missing.json.error.name).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });
});

describe("event store over REST", () => {
  it("appends with an expected version, refuses a stale one with 409, reads a stream and $all, audits", async () => {
    const first = await call("POST", "/streams/cart-1/events", {
      expectedVersion: "no_stream",
      events: [{ type: "Added", data: { sku: "a" }, metadata: { user: "ann" } }],
    });
    expect(first.status).toBe(201);
    expect(first.json.nextExpectedVersion).toBe(0);
    const stale = await call("POST", "/streams/cart-1/events", {
      expectedVersion: "no_stream",
      events: [{ type: "Added", data: { sku: "b" } }],
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error.details.actual).toBe(0);
    await call("POST", "/streams/cart-1/events", {
      expectedVersion: 0,
      events: [{ type: "Removed", data: { sku: "a" } }],
    });
    const read = await call("GET", "/streams/cart-1/events");
    expect(read.json.events.map((e: { type: string }) => e.type)).toEqual(["Added", "Removed"]);
    const all = await call("GET", "/all/events?types=Removed");
    expect(all.json.events).toHaveLength(1);
    expect((await call("GET", "/streams")).json.streams[0]).toMatchObject({
      stream: "cart-1",
      version: 1,
    });
    const audit = await call("GET", "/audit?stream=cart-1");
    expect(audit.json.entries).toHaveLength(2);
    expect((await call("GET", "/projections")).json).toEqual({ head: 1, projections: [] });
    expect((await call("GET", "/streams/nope/events")).status).toBe(404);
  });
});

describe("long names over REST", () => {
  it("serves a 249-character topic and a 255-character stream as the library takes them", async () => {
    const topic = "t".repeat(249);
    expect((await call("POST", "/topics", { name: topic })).status).toBe(201);
    expect(
      (await call("POST", `/topics/${topic}/records`, { records: [{ value: "v" }] })).status,
    ).toBe(200);
    expect((await call("GET", `/topics/${topic}/partitions/0`)).json.highWatermark).toBe(1);
    const stream = `s-${"é".repeat(253)}`;
    const path = `/streams/${encodeURIComponent(stream)}/events`;
    expect((await call("POST", path, { events: [{ type: "E", data: {} }] })).status).toBe(201);
    expect((await call("GET", path)).json.events[0].stream).toBe(stream);
  });
});

describe("persistent subscription groups over REST", () => {
  it("creates, lists, parks, replays and deletes groups; refuses bad settings and unknown groups", async () => {
    const created = await call("POST", "/persistent-subscriptions", {
      group: "billing",
      stream: "invoices",
      maxRetryCount: 2,
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ group: "billing", stream: "invoices", maxRetryCount: 2 });
    expect((await call("POST", "/persistent-subscriptions", { group: "billing" })).status).toBe(
      409,
    );
    const bad = await call("POST", "/persistent-subscriptions", { group: "x", maxRetryCount: -1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe("body.maxRetryCount");
    const listed = await call("GET", "/persistent-subscriptions");
    expect(listed.json.groups).toEqual([
      expect.objectContaining({ checkpoint: -1, parked: 0, consumers: 0 }),
    ]);
    expect((await call("GET", "/persistent-subscriptions/billing/parked")).json).toEqual({
      parked: [],
    });
    expect((await call("POST", "/persistent-subscriptions/billing/replay-parked")).json).toEqual({
      replayed: 0,
    });
    const missing = await call("GET", "/persistent-subscriptions/nope/parked");
    expect(missing.status).toBe(404);
    expect(missing.json.error.field).toBe("group");
    expect((await call("DELETE", "/persistent-subscriptions/billing")).status).toBe(204);
    expect((await call("DELETE", "/persistent-subscriptions/billing")).status).toBe(404);
  });
});

describe("pub/sub and the bus over REST", () => {
  it("fans a published message out to a subscribed queue, and routes a bus event to a queue", async () => {
    const { QueueUrl } = await sluice.queues.createQueue({ QueueName: "fanout" });
    const { Attributes } = await sluice.queues.getQueueAttributes({
      QueueUrl,
      AttributeNames: ["QueueArn"],
    });
    const queueArn = Attributes.QueueArn!;
    expect((await call("POST", "/pubsub/topics", { Name: "news" })).status).toBe(201);
    const sub = await call("POST", "/pubsub/topics/news/subscriptions", {
      Protocol: "sqs",
      Endpoint: queueArn,
      Attributes: { RawMessageDelivery: "true" },
    });
    expect(sub.status).toBe(201);
    await call("POST", "/pubsub/topics/news/messages", { Message: "hello" });

    await call("POST", "/buses", { Name: "shop" });
    await call("PUT", "/buses/shop/rules/paid", {
      EventPattern: JSON.stringify({ source: ["shop"], "detail-type": ["Paid"] }),
    });
    const targets = await call("PUT", "/buses/shop/rules/paid/targets", {
      Targets: [{ Id: "q", Arn: queueArn }],
    });
    expect(targets.json.FailedEntryCount).toBe(0);
    const put = await call("POST", "/buses/shop/events", {
      Entries: [{ Source: "shop", DetailType: "Paid", Detail: JSON.stringify({ id: 7 }) }],
    });
    expect(put.json.FailedEntryCount).toBe(0);

    const bodies: string[] = [];
    const deadline = Date.now() + 10_000;
    while (bodies.length < 2 && Date.now() < deadline) {
      const { Messages = [] } = await sluice.queues.receiveMessage({
        QueueUrl,
        WaitTimeSeconds: 1,
        MaxNumberOfMessages: 10,
      });
      bodies.push(...Messages.map((m) => m.Body));
    }
    expect(bodies).toContain("hello");
    expect(bodies.some((b) => b.startsWith("{") && JSON.parse(b)?.detail?.id === 7)).toBe(true);
    expect((await call("GET", "/buses/shop/rules")).json.Rules[0].Name).toBe("paid");
    expect((await call("GET", "/pubsub/topics/missing")).status).toBe(404);
  });
});

describe("event bus tags and archive updates over REST", () => {
  it("tags a bus and a rule by path, updates an archive, and answers 400 and 404 as the service does", async () => {
    expect(
      (await call("POST", "/buses", { Name: "tagged", Tags: [{ Key: "a", Value: "1" }] })).status,
    ).toBe(201);
    await call("PUT", "/buses/tagged/rules/r", {
      EventPattern: '{"source":["x"]}',
      Tags: [{ Key: "env", Value: "test" }],
    });
    expect(
      (await call("POST", "/buses/tagged/tags", { Tags: [{ Key: "b", Value: "2" }] })).status,
    ).toBe(204);
    expect((await call("GET", "/buses/tagged/tags")).json.Tags).toEqual([
      { Key: "a", Value: "1" },
      { Key: "b", Value: "2" },
    ]);
    expect((await call("DELETE", "/buses/tagged/rules/r/tags", { TagKeys: ["env"] })).status).toBe(
      204,
    );
    expect((await call("GET", "/buses/tagged/rules/r/tags")).json.Tags).toEqual([]);
    const tooLong = await call("POST", "/buses/default/tags", {
      Tags: [{ Key: "k".repeat(129), Value: "" }],
    });
    expect(tooLong.status).toBe(400);
    expect(JSON.stringify(tooLong.json)).toContain("Tags[0].Key");
    expect((await call("GET", "/buses/missing/tags")).status).toBe(404);
    expect((await call("GET", "/buses/tagged/rules/missing/tags")).status).toBe(404);

    await call("POST", "/archives", {
      ArchiveName: "tagged-archive",
      EventSourceArn: "arn:aws:events:us-east-1:000000000000:event-bus/tagged",
    });
    const updated = await call("PATCH", "/archives/tagged-archive", {
      Description: "kept",
      RetentionDays: 5,
    });
    expect(updated.status).toBe(200);
    expect(updated.json.State).toBe("ENABLED");
    expect((await call("GET", "/archives/tagged-archive")).json).toMatchObject({
      Description: "kept",
      RetentionDays: 5,
    });
    expect((await call("PATCH", "/archives/missing", { Description: "x" })).status).toBe(404);
  });
});

describe("/openapi.json", () => {
  it("documents the routes of every primitive", async () => {
    const doc = (await call("GET", "/openapi.json")).json;
    for (const path of [
      "/topics/{topic}/records",
      "/groups/{group}",
      "/streams/{stream}/events",
      "/all/events",
      "/projections",
      "/audit",
      "/pubsub/topics/{topic}/messages",
      "/buses/{bus}/events",
      "/archives",
      "/replays",
      "/queues",
    ])
      expect(Object.keys(doc.paths)).toContain(path);
  });
});
