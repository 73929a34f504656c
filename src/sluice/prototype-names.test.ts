import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { attributesForFiltering } from "../messaging/pubsub/filter-policy.js";
import { open } from "./open.js";

/**
 * "__proto__" and "constructor" are valid SQS and SNS attribute names and tag keys. Entries
 * under them are kept, answered and digested like any other: an assignment `record[name] = v`
 * would have set a record's prototype instead, accepting the entry and then losing it.
 */
describe("names JavaScript gives a meaning to are kept like any other", () => {
  const names = ["__proto__", "constructor", "toString", "plain"];
  const attributes = (
    protoValue = "value of __proto__",
  ): Record<string, { DataType: string; StringValue: string }> => {
    const out: Record<string, { DataType: string; StringValue: string }> = {};
    for (const name of names)
      Object.defineProperty(out, name, {
        value: {
          DataType: "String",
          StringValue: name === "__proto__" ? protoValue : `value of ${name}`,
        },
        enumerable: true,
      });
    return out;
  };

  it("queue message attributes and tags, across a restart", async () => {
    const fs = new SimulatedFileSystem(5);
    const first = await open("/data", { fs, fsync: "always" });
    const { QueueUrl } = await first.queues.createQueue({ QueueName: "q" });
    const sent = await first.queues.sendMessage({
      QueueUrl,
      MessageBody: "b",
      MessageAttributes: attributes(),
    });
    await first.queues.tagQueue({
      QueueUrl,
      Tags: JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>,
    });
    await first.close();
    const sluice = await open("/data", { fs, fsync: "always" });
    const { Messages = [] } = await sluice.queues.receiveMessage({
      QueueUrl,
      MessageAttributeNames: ["All"],
    });
    const received = Messages[0]!;
    expect(Object.keys(received.MessageAttributes ?? {}).sort()).toEqual([...names].sort());
    expect(Object.getPrototypeOf(received.MessageAttributes)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(received.MessageAttributes, "__proto__")?.value).toEqual(
      { DataType: "String", StringValue: "value of __proto__" },
    );
    expect(received.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    const { Tags } = await sluice.queues.listQueueTags({ QueueUrl });
    expect(JSON.stringify(Tags)).toBe('{"__proto__":"p","constructor":"c"}');
    await sluice.close();
  });

  it("pub/sub: filtered on, and delivered to a queue raw and in SNS's envelope", async () => {
    const sluice = await open("/data", { fs: new SimulatedFileSystem(6), fsync: "never" });
    const { TopicArn } = await sluice.pubsub.createTopic({ Name: "t" });
    for (const [name, raw] of [
      ["raw", "true"],
      ["wrapped", "false"],
    ] as const) {
      await sluice.queues.createQueue({ QueueName: name });
      await sluice.pubsub.subscribe({
        TopicArn,
        Protocol: "sqs",
        Endpoint: `arn:aws:sqs:us-east-1:000000000000:${name}`,
        Attributes: {
          RawMessageDelivery: raw,
          // Written as text: in an object literal, `__proto__:` sets the prototype.
          FilterPolicy: '{"__proto__":["value of __proto__"]}',
        },
      });
    }
    await sluice.pubsub.publish({
      TopicArn,
      Message: "filtered out",
      MessageAttributes: attributes("another value"),
    });
    await sluice.pubsub.publish({ TopicArn, Message: "m", MessageAttributes: attributes() });
    const receive = async (name: string) => {
      const QueueUrl = (await sluice.queues.getQueueUrl({ QueueName: name })).QueueUrl;
      for (;;) {
        const { Messages = [] } = await sluice.queues.receiveMessage({
          QueueUrl,
          MessageAttributeNames: ["All"],
          WaitTimeSeconds: 1,
        });
        if (Messages.length > 0) return Messages[0]!;
      }
    };
    const raw = await receive("raw");
    expect(raw.Body).toBe("m");
    expect(Object.keys(raw.MessageAttributes ?? {}).sort()).toEqual([...names].sort());
    const envelope = JSON.parse((await receive("wrapped")).Body) as {
      Message: string;
      MessageAttributes: Record<string, unknown>;
    };
    expect(envelope.Message).toBe("m");
    expect(Object.keys(envelope.MessageAttributes).sort()).toEqual([...names].sort());
    expect(Object.keys(attributesForFiltering(attributes())).sort()).toEqual([...names].sort());
    await sluice.close();
  });
});
