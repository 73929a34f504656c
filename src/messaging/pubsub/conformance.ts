/**
 * The conformance suite every `PubSubService` backend must pass: SNS's observable semantics
 * (names, attributes, errors, fan-out, filter policies, raw and enveloped delivery, retries and
 * dead letters, FIFO order and deduplication, batch publishing) and, where the backend has
 * storage, delivery across a close and reopen. Time runs on a `VirtualClock`.
 *
 * Usage, in a backend's test file:
 *
 *     describePubSubConformance({ name: "embedded", open: (clock) => ..., reopen: ... });
 */
import { afterEach, describe, expect } from "vitest";
import { conformanceIt } from "../conformance-skips.js";
import type { SluiceError } from "../../errors/index.js";
import { VirtualClock } from "../../time/virtual-clock.js";
import type { Message, QueueService } from "../queues/index.js";
import type { Notification, PubSubService } from "./pubsub-service.js";

/** A pub/sub service and the queue service its `sqs` subscriptions deliver to. */
export interface PubSubUnderTest {
  readonly pubsub: PubSubService;
  readonly queues: QueueService;
}

export interface PubSubConformanceHarness {
  readonly name: string;
  /** A fresh, empty pair of services whose time is `clock`. */
  open(clock: VirtualClock): Promise<PubSubUnderTest>;
  /** Closes both and opens the same storage again; omit when the backend has no storage. */
  reopen?(services: PubSubUnderTest, clock: VirtualClock): Promise<PubSubUnderTest>;
  /** Closes both. */
  close(services: PubSubUnderTest): Promise<void>;
  /** Tests this backend cannot pass, by name, with the reason (reported as skipped). */
  readonly skips?: Readonly<Record<string, string>>;
}

const ACCOUNT = "000000000000";
const topicArn = (name: string): string => `arn:aws:sns:us-east-1:${ACCOUNT}:${name}`;
const queueArn = (name: string): string => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;

async function rejection(promise: Promise<unknown>): Promise<SluiceError & { snsError?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as SluiceError & { snsError?: string };
  }
  throw new Error("expected a rejection");
}

/** Runs the suite against one backend. */
export function describePubSubConformance(harness: PubSubConformanceHarness): void {
  const { it, checkSkips } = conformanceIt(harness.skips);
  describe(`PubSubService conformance: ${harness.name}`, () => {
    let clock: VirtualClock;
    let services: PubSubUnderTest | undefined;

    const open = async (): Promise<PubSubUnderTest> => {
      clock = new VirtualClock();
      services = await harness.open(clock);
      return services;
    };

    afterEach(async () => {
      if (services !== undefined) await harness.close(services);
      services = undefined;
    });

    /** Lets deliveries run: advances the clock in small steps until `done` holds. */
    async function until(done: () => boolean | Promise<boolean>, maxMs = 120_000): Promise<void> {
      for (let waited = 0; waited <= maxMs; waited += 50) {
        if (await done()) return;
        await clock.advance(50);
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error("condition not reached in time");
    }

    async function drain(queues: QueueService, name: string, expected: number): Promise<Message[]> {
      const { QueueUrl } = await queues.getQueueUrl({ QueueName: name });
      const got: Message[] = [];
      await until(async () => {
        const { Messages } = await queues.receiveMessage({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ["All"],
        });
        for (const m of Messages) {
          got.push(m);
          await queues.deleteMessage({ QueueUrl, ReceiptHandle: m.ReceiptHandle });
        }
        return got.length >= expected;
      });
      return got;
    }

    async function expectEmpty(queues: QueueService, name: string): Promise<void> {
      await clock.advance(2_000);
      const { QueueUrl } = await queues.getQueueUrl({ QueueName: name });
      const { Messages } = await queues.receiveMessage({
        QueueUrl,
        WaitTimeSeconds: 0,
        MaxNumberOfMessages: 10,
      });
      expect(Messages.map((m) => m.Body)).toEqual([]);
    }

    describe("topics", () => {
      it("are created idempotently, listed, described and deleted", async () => {
        const { pubsub } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "orders" });
        expect(TopicArn).toBe(topicArn("orders"));
        expect((await pubsub.createTopic({ Name: "orders" })).TopicArn).toBe(TopicArn);
        await pubsub.createTopic({ Name: "audit.fifo", Attributes: { FifoTopic: "true" } });
        expect((await pubsub.listTopics()).Topics.map((t) => t.TopicArn).sort()).toEqual([
          topicArn("audit.fifo"),
          topicArn("orders"),
        ]);
        const { Attributes } = await pubsub.getTopicAttributes({ TopicArn });
        expect(Attributes).toMatchObject({ TopicArn, SubscriptionsConfirmed: "0", Owner: ACCOUNT });
        // SNS's defaults when none was set: the owner's access policy, the HTTP delivery policy.
        expect(JSON.parse(Attributes.Policy!)).toMatchObject({
          Id: "__default_policy_ID",
          Statement: [
            {
              Sid: "__default_statement_ID",
              Resource: TopicArn,
              Condition: { StringEquals: { "AWS:SourceOwner": ACCOUNT } },
            },
          ],
        });
        expect(JSON.parse(Attributes.EffectiveDeliveryPolicy!)).toMatchObject({
          http: { defaultHealthyRetryPolicy: { numRetries: 3, minDelayTarget: 20 } },
        });
        await pubsub.deleteTopic({ TopicArn });
        expect((await rejection(pubsub.getTopicAttributes({ TopicArn }))).snsError).toBe(
          "NotFound",
        );
      });

      it("refuse bad names and FIFO mismatches", async () => {
        const { pubsub } = await open();
        expect((await rejection(pubsub.createTopic({ Name: "bad name" }))).snsError).toBe(
          "InvalidParameter",
        );
        expect((await rejection(pubsub.createTopic({ Name: "x".repeat(257) }))).field).toBe("Name");
        expect((await rejection(pubsub.createTopic({ Name: "a.fifo" }))).snsError).toBe(
          "InvalidParameter",
        );
        expect(
          (await rejection(pubsub.createTopic({ Name: "a", Attributes: { FifoTopic: "true" } })))
            .snsError,
        ).toBe("InvalidParameter");
      });
    });

    describe("fan-out to queues", () => {
      it("delivers every message to every queue subscription, in SNS's JSON envelope", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "orders" });
        for (const q of ["billing", "shipping"]) {
          await queues.createQueue({ QueueName: q });
          await pubsub.subscribe({ TopicArn, Protocol: "sqs", Endpoint: queueArn(q) });
        }
        const publishedAt = clock.now();
        const { MessageId } = await pubsub.publish({
          TopicArn,
          Message: "order 1 placed",
          Subject: "placed",
          MessageAttributes: { kind: { DataType: "String", StringValue: "placed" } },
        });
        for (const q of ["billing", "shipping"]) {
          const [m] = await drain(queues, q, 1);
          const envelope = JSON.parse(m!.Body) as Record<string, unknown>;
          expect(envelope).toMatchObject({
            Type: "Notification",
            MessageId,
            TopicArn,
            Subject: "placed",
            Message: "order 1 placed",
            MessageAttributes: { kind: { Type: "String", Value: "placed" } },
          });
          expect(new Date(envelope.Timestamp as string).getTime()).toBe(publishedAt);
          expect(typeof envelope.UnsubscribeURL).toBe("string");
        }
      });

      it("raw delivery sends the body and attributes as they were published", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "raw" });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("raw"),
          Attributes: { RawMessageDelivery: "true" },
        });
        await pubsub.publish({
          TopicArn,
          Message: '{"total":42}',
          MessageAttributes: {
            n: { DataType: "Number", StringValue: "42" },
            b: { DataType: "Binary", BinaryValue: Buffer.from([1, 2]) },
          },
        });
        const [m] = await drain(queues, "raw", 1);
        expect(m!.Body).toBe('{"total":42}');
        expect(m!.MessageAttributes?.n).toEqual({ DataType: "Number", StringValue: "42" });
        expect(Buffer.from(m!.MessageAttributes!.b!.BinaryValue!)).toEqual(Buffer.from([1, 2]));
      });

      it("a message a queue refuses (characters SQS forbids, over its size) is not stored there; the rest are", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "roomy" });
        await queues.createQueue({
          QueueName: "small",
          Attributes: { MaximumMessageSize: "1024" },
        });
        for (const q of ["roomy", "small"])
          await pubsub.subscribe({
            TopicArn,
            Protocol: "sqs",
            Endpoint: queueArn(q),
            Attributes: { RawMessageDelivery: "true" },
          });
        const large = "l".repeat(2000);
        // SNS takes these bodies; SQS refuses the first two everywhere and the third in "small".
        await pubsub.publishBatch({
          TopicArn,
          PublishBatchRequestEntries: [
            { Id: "nul", Message: "bad\u0000" },
            { Id: "surrogate", Message: "bad\uD800" },
            { Id: "large", Message: large },
            { Id: "good", Message: "good" },
          ],
        });
        const roomy = await drain(queues, "roomy", 2);
        expect(roomy.map((m) => m.Body).sort()).toEqual(["good", large]);
        expect((await drain(queues, "small", 1)).map((m) => m.Body)).toEqual(["good"]);
        await expectEmpty(queues, "roomy");
        await expectEmpty(queues, "small");
      });

      it("delivers attributes as published, even if the publisher changes them afterwards", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        for (const [q, raw] of [
          ["raw", "true"],
          ["wrapped", "false"],
        ] as const)
          // The queues are created only after the change: delivery waits for them.
          await pubsub.subscribe({
            TopicArn,
            Protocol: "sqs",
            Endpoint: queueArn(q),
            Attributes: { RawMessageDelivery: raw },
          });
        const binary = Buffer.from([1, 2]);
        const attributes = {
          k: { DataType: "String", StringValue: "before" },
          b: { DataType: "Binary", BinaryValue: binary },
        };
        await pubsub.publish({ TopicArn, Message: "m", MessageAttributes: attributes });
        attributes.k.StringValue = "after";
        binary[0] = 9;
        await clock.advance(1_000);
        for (const q of ["raw", "wrapped"]) await queues.createQueue({ QueueName: q });
        const [raw] = await drain(queues, "raw", 1);
        expect(raw!.MessageAttributes?.k?.StringValue).toBe("before");
        expect([...Buffer.from(raw!.MessageAttributes!.b!.BinaryValue!)]).toEqual([1, 2]);
        const [wrapped] = await drain(queues, "wrapped", 1);
        expect(JSON.parse(wrapped!.Body)).toMatchObject({
          MessageAttributes: {
            k: { Type: "String", Value: "before" },
            b: { Type: "Binary", Value: Buffer.from([1, 2]).toString("base64") },
          },
        });
      });

      it("only messages published after subscribing are delivered; unsubscribing stops delivery", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "q" });
        await pubsub.publish({ TopicArn, Message: "before" });
        const { SubscriptionArn } = await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("q"),
          Attributes: { RawMessageDelivery: "true" },
        });
        await pubsub.publish({ TopicArn, Message: "after" });
        expect((await drain(queues, "q", 1)).map((m) => m.Body)).toEqual(["after"]);
        await pubsub.unsubscribe({ SubscriptionArn });
        await pubsub.publish({ TopicArn, Message: "gone" });
        await expectEmpty(queues, "q");
        expect((await pubsub.listSubscriptionsByTopic({ TopicArn })).Subscriptions).toEqual([]);
      });

      it("a topic created twice at once is one topic: what is published to it is delivered", async () => {
        const { pubsub, queues } = await open();
        await queues.createQueue({ QueueName: "q" });
        const first = pubsub.createTopic({ Name: "t" });
        const second = pubsub.createTopic({ Name: "t" });
        const { TopicArn } = await first;
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("q"),
          Attributes: { RawMessageDelivery: "true" },
        });
        await pubsub.publish({ TopicArn, Message: "m1" });
        expect((await second).TopicArn).toBe(TopicArn);
        await pubsub.publish({ TopicArn, Message: "m2" });
        expect((await drain(queues, "q", 2)).map((m) => m.Body)).toEqual(["m1", "m2"]);
        expect((await pubsub.listTopics()).Topics).toEqual([{ TopicArn }]);
      });

      it("the same subscription made twice at once is one subscription", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "q" });
        const subscribe = () =>
          pubsub.subscribe({
            TopicArn,
            Protocol: "sqs",
            Endpoint: queueArn("q"),
            Attributes: { RawMessageDelivery: "true" },
          });
        const arns = await Promise.all([subscribe(), subscribe(), subscribe()]);
        expect(new Set(arns.map((a) => a.SubscriptionArn)).size).toBe(1);
        expect((await pubsub.listSubscriptionsByTopic({ TopicArn })).Subscriptions).toHaveLength(1);
        await pubsub.publish({ TopicArn, Message: "once" });
        expect((await drain(queues, "q", 1)).map((m) => m.Body)).toEqual(["once"]);
        await expectEmpty(queues, "q");
      });

      it("changes made to a subscription at once are all kept, and it delivers once", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "q" });
        const { SubscriptionArn } = await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("q"),
        });
        await Promise.all([
          pubsub.setSubscriptionAttributes({
            SubscriptionArn,
            AttributeName: "RawMessageDelivery",
            AttributeValue: "true",
          }),
          pubsub.setSubscriptionAttributes({
            SubscriptionArn,
            AttributeName: "FilterPolicy",
            AttributeValue: JSON.stringify({ kind: ["wanted"] }),
          }),
        ]);
        expect(
          (await pubsub.getSubscriptionAttributes({ SubscriptionArn })).Attributes,
        ).toMatchObject({
          RawMessageDelivery: "true",
          FilterPolicy: JSON.stringify({ kind: ["wanted"] }),
        });
        for (const kind of ["other", "wanted"])
          await pubsub.publish({
            TopicArn,
            Message: kind,
            MessageAttributes: { kind: { DataType: "String", StringValue: kind } },
          });
        expect((await drain(queues, "q", 1)).map((m) => m.Body)).toEqual(["wanted"]);
        await expectEmpty(queues, "q");
        // An unsubscribe made while a change is under way is not undone by it (a remote client's
        // requests may arrive in either order: the change then finds no subscription).
        await Promise.all([
          pubsub
            .setSubscriptionAttributes({
              SubscriptionArn,
              AttributeName: "FilterPolicy",
              AttributeValue: "",
            })
            .catch((error: unknown) => {
              expect((error as { snsError?: string }).snsError).toBe("NotFound");
            }),
          pubsub.unsubscribe({ SubscriptionArn }),
        ]);
        expect((await pubsub.listSubscriptionsByTopic({ TopicArn })).Subscriptions).toEqual([]);
        await pubsub.publish({ TopicArn, Message: "after" });
        await expectEmpty(queues, "q");
      });

      it("the topic counts its confirmed and deleted subscriptions", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        const arns: string[] = [];
        for (const name of ["a", "b", "c"]) {
          await queues.createQueue({ QueueName: name });
          arns.push(
            (await pubsub.subscribe({ TopicArn, Protocol: "sqs", Endpoint: queueArn(name) }))
              .SubscriptionArn,
          );
        }
        await Promise.all([
          pubsub.unsubscribe({ SubscriptionArn: arns[0]! }),
          pubsub.unsubscribe({ SubscriptionArn: arns[0]! }),
          pubsub.unsubscribe({ SubscriptionArn: arns[1]! }),
        ]);
        const { Attributes } = await pubsub.getTopicAttributes({ TopicArn });
        expect(Attributes).toMatchObject({
          SubscriptionsConfirmed: "1",
          SubscriptionsPending: "0",
          SubscriptionsDeleted: "2",
        });
      });
    });

    describe("filter policies", () => {
      it("on message attributes: only matching messages are delivered", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "big-eu" });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("big-eu"),
          Attributes: {
            RawMessageDelivery: "true",
            FilterPolicy: JSON.stringify({
              region: [{ prefix: "eu-" }],
              total: [{ numeric: [">=", 100] }],
              tags: ["priority"],
            }),
          },
        });
        const send = (
          body: string,
          region: string,
          total: string,
          tags: string[],
        ): Promise<unknown> =>
          pubsub.publish({
            TopicArn,
            Message: body,
            MessageAttributes: {
              region: { DataType: "String", StringValue: region },
              total: { DataType: "Number", StringValue: total },
              tags: { DataType: "String.Array", StringValue: JSON.stringify(tags) },
            },
          });
        await send("yes", "eu-west-1", "150", ["gift", "priority"]);
        await send("small", "eu-west-1", "99.5", ["priority"]);
        await send("us", "us-east-1", "500", ["priority"]);
        await send("untagged", "eu-central-1", "100", ["gift"]);
        await pubsub.publish({ TopicArn, Message: "no attributes" });
        expect((await drain(queues, "big-eu", 1)).map((m) => m.Body)).toEqual(["yes"]);
        await expectEmpty(queues, "big-eu");
      });

      it("on the message body, with anything-but, exists and $or", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "q" });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("q"),
          Attributes: {
            RawMessageDelivery: "true",
            FilterPolicyScope: "MessageBody",
            FilterPolicy: JSON.stringify({
              order: { status: [{ "anything-but": ["cancelled"] }] },
              $or: [{ customer: { vip: [true] } }, { coupon: [{ exists: true }] }],
            }),
          },
        });
        const bodies = [
          { order: { status: "placed" }, customer: { vip: true } },
          { order: { status: "cancelled" }, customer: { vip: true } },
          { order: { status: "placed" }, coupon: "X1" },
          { order: { status: "placed" }, customer: { vip: false } },
        ].map((b) => JSON.stringify(b));
        for (const Message of [...bodies, "not json"]) await pubsub.publish({ TopicArn, Message });
        const got = await drain(queues, "q", 2);
        expect(got.map((m) => m.Body)).toEqual([bodies[0], bodies[2]]);
        await expectEmpty(queues, "q");
      });

      it("cidr: only messages whose address is in the block, on attributes and on the body", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        for (const QueueName of ["by-attribute", "by-body"])
          await queues.createQueue({ QueueName });
        for (const [queue, scope, policy] of [
          ["by-attribute", "MessageAttributes", { source_ip: [{ cidr: "10.0.0.0/24" }] }],
          ["by-body", "MessageBody", { client: { source_ip: [{ cidr: "10.0.0.0/24" }] } }],
        ] as const)
          await pubsub.subscribe({
            TopicArn,
            Protocol: "sqs",
            Endpoint: queueArn(queue),
            Attributes: {
              RawMessageDelivery: "true",
              FilterPolicyScope: scope,
              FilterPolicy: JSON.stringify(policy),
            },
          });
        const addresses = ["10.0.0.0", "10.0.0.255", "10.0.1.0", "10.1.1.0", "not an address"];
        for (const address of addresses)
          await pubsub.publish({
            TopicArn,
            Message: JSON.stringify({ client: { source_ip: address } }),
            MessageAttributes: { source_ip: { DataType: "String", StringValue: address } },
          });
        await pubsub.publish({
          TopicArn,
          Message: "{}",
          MessageAttributes: { source_ip: { DataType: "Number", StringValue: "10" } },
        });
        const ipOf = (m: Message): string =>
          (JSON.parse(m.Body) as { client: { source_ip: string } }).client.source_ip;
        expect((await drain(queues, "by-attribute", 2)).map(ipOf)).toEqual([
          "10.0.0.0",
          "10.0.0.255",
        ]);
        expect((await drain(queues, "by-body", 2)).map(ipOf)).toEqual(["10.0.0.0", "10.0.0.255"]);
        await expectEmpty(queues, "by-attribute");
        await expectEmpty(queues, "by-body");
      });

      it("a filter policy may be 256 KB of UTF-8; one byte more is refused with SNS's message", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "q" });
        const LIMIT = 256 * 1024;
        /** `{"k":["x...x"]}` of exactly `bytes` UTF-8 bytes, its padding made of `unit`. */
        const policyOf = (bytes: number, unit = "x"): string => {
          const room = bytes - '{"k":[""]}'.length;
          const unitBytes = Buffer.byteLength(unit, "utf8");
          const pad = unit.repeat(Math.floor(room / unitBytes)) + "x".repeat(room % unitBytes);
          return `{"k":["${pad}"]}`;
        };
        const subscribe = (FilterPolicy: string) =>
          pubsub.subscribe({
            TopicArn,
            Protocol: "sqs",
            Endpoint: queueArn("q"),
            Attributes: { FilterPolicy },
          });
        const largest = policyOf(LIMIT);
        expect(Buffer.byteLength(largest, "utf8")).toBe(LIMIT);
        const { SubscriptionArn } = await subscribe(largest);
        expect(
          (await pubsub.getSubscriptionAttributes({ SubscriptionArn })).Attributes.FilterPolicy,
        ).toBe(largest);
        await pubsub.unsubscribe({ SubscriptionArn });

        expect((await rejection(subscribe(policyOf(LIMIT + 1)))).message).toBe(
          `Invalid parameter: FilterPolicy: Filter policy is too large: ${LIMIT + 1} bytes, the limit is ${LIMIT} (256 KB)`,
        );
        // Counted in bytes: 2-byte characters reach the limit at half as many characters.
        const accented = policyOf(LIMIT + 2, "\u00e9");
        expect(accented.length).toBeLessThan(LIMIT);
        expect((await rejection(subscribe(accented))).message).toContain(
          `Filter policy is too large: ${LIMIT + 2} bytes`,
        );
        // So is a change of policy on a live subscription, which keeps the old one.
        const live = await subscribe('{"k":["a"]}');
        const update = await rejection(
          pubsub.setSubscriptionAttributes({
            SubscriptionArn: live.SubscriptionArn,
            AttributeName: "FilterPolicy",
            AttributeValue: policyOf(LIMIT + 1),
          }),
        );
        expect(update.message).toContain("Filter policy is too large");
        expect(
          (await pubsub.getSubscriptionAttributes({ SubscriptionArn: live.SubscriptionArn }))
            .Attributes.FilterPolicy,
        ).toBe('{"k":["a"]}');
      });

      it("can be changed on a live subscription", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "q" });
        const { SubscriptionArn } = await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("q"),
          Attributes: { RawMessageDelivery: "true", FilterPolicy: '{"k":["a"]}' },
        });
        await pubsub.setSubscriptionAttributes({
          SubscriptionArn,
          AttributeName: "FilterPolicy",
          AttributeValue: '{"k":["b"]}',
        });
        const attrs = (k: string) => ({ k: { DataType: "String", StringValue: k } });
        await pubsub.publish({ TopicArn, Message: "a", MessageAttributes: attrs("a") });
        await pubsub.publish({ TopicArn, Message: "b", MessageAttributes: attrs("b") });
        expect((await drain(queues, "q", 1)).map((m) => m.Body)).toEqual(["b"]);
        expect(
          (await pubsub.getSubscriptionAttributes({ SubscriptionArn })).Attributes.FilterPolicy,
        ).toBe('{"k":["b"]}');
      });

      it("bad policies are refused with SNS's messages and limits", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "q" });
        const subscribe = (FilterPolicy: string, scope = "MessageAttributes") =>
          rejection(
            pubsub.subscribe({
              TopicArn,
              Protocol: "sqs",
              Endpoint: queueArn("q"),
              Attributes: { FilterPolicy, FilterPolicyScope: scope },
            }),
          );
        expect((await subscribe('{"a":[]}')).message).toBe(
          "Invalid parameter: FilterPolicy: a: empty arrays are not allowed",
        );
        expect((await subscribe('{"a":[{"prefixx":"x"}]}')).field).toBe("a[0]");
        expect((await subscribe('{"a":{"b":["x"]}}')).message).toContain("nested");
        expect(
          (await subscribe('{"a":["x"],"b":["x"],"c":["x"],"d":["x"],"e":["x"],"f":["x"]}'))
            .message,
        ).toContain("more than 5 keys");
        const many = Array.from({ length: 13 }, (_, i) => `v${i}`);
        expect((await subscribe(JSON.stringify({ a: many, b: many }))).message).toContain(
          "too complex",
        );
        expect((await subscribe('{"a":[{"numeric":[">",2000000000]}]}')).message).toContain(
          "out of range",
        );
        expect((await subscribe('{"a":["x"]}', "Everything")).message).toContain(
          "Please use either MessageBody or MessageAttributes",
        );
      });
    });

    describe("per-protocol messages (MessageStructure json)", () => {
      const structured = (entries: Record<string, string>): string => JSON.stringify(entries);

      it("each subscription gets its protocol's entry, else default, raw or in the envelope", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        const next = (await pubsub.createTopic({ Name: "next" })).TopicArn;
        for (const q of ["raw", "wrapped", "hop"]) await queues.createQueue({ QueueName: q });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("raw"),
          Attributes: { RawMessageDelivery: "true" },
        });
        await pubsub.subscribe({ TopicArn, Protocol: "sqs", Endpoint: queueArn("wrapped") });
        // A topic subscription has no "sns" entry here: it gets the default.
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sns",
          Endpoint: next,
          Attributes: { RawMessageDelivery: "true" },
        });
        await pubsub.subscribe({
          TopicArn: next,
          Protocol: "sqs",
          Endpoint: queueArn("hop"),
          Attributes: { RawMessageDelivery: "true" },
        });
        const seen: Notification[] = [];
        pubsub.registerHandler("h", (n) => void seen.push(n));
        await pubsub.subscribe({ TopicArn, Protocol: "handler", Endpoint: "h" });
        const Message = structured({
          default: "for anyone",
          sqs: "for queues",
          handler: "for handlers",
          email: "unused",
        });
        const { MessageId } = await pubsub.publish({
          TopicArn,
          Message,
          MessageStructure: "json",
          Subject: "s",
        });
        expect((await drain(queues, "raw", 1)).map((m) => m.Body)).toEqual(["for queues"]);
        const [wrapped] = await drain(queues, "wrapped", 1);
        expect(JSON.parse(wrapped!.Body)).toMatchObject({
          Type: "Notification",
          MessageId,
          Subject: "s",
          Message: "for queues",
        });
        expect((await drain(queues, "hop", 1)).map((m) => m.Body)).toEqual(["for anyone"]);
        await until(() => seen.length === 1);
        expect(seen[0]).toMatchObject({ MessageId, Message: "for handlers" });

        const batch = await pubsub.publishBatch({
          TopicArn,
          PublishBatchRequestEntries: [
            { Id: "a", Message: structured({ default: "d", sqs: "q" }), MessageStructure: "json" },
            { Id: "b", Message: "not json", MessageStructure: "json" },
            { Id: "c", Message: "plain" },
          ],
        });
        expect(batch.Successful.map((e) => e.Id)).toEqual(["a", "c"]);
        expect(batch.Failed).toMatchObject([{ Id: "b", Code: "InvalidParameter" }]);
        expect((await drain(queues, "raw", 2)).map((m) => m.Body)).toEqual(["q", "plain"]);
      });

      it("a body-scoped filter policy looks at the entry its subscription gets", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "orders" });
        const FilterPolicy = JSON.stringify({ kind: ["order"] });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("orders"),
          Attributes: {
            RawMessageDelivery: "true",
            FilterPolicy,
            FilterPolicyScope: "MessageBody",
          },
        });
        const seen: string[] = [];
        pubsub.registerHandler("h", (n) => void seen.push(n.Message));
        await pubsub.subscribe({
          TopicArn,
          Protocol: "handler",
          Endpoint: "h",
          Attributes: { FilterPolicy, FilterPolicyScope: "MessageBody" },
        });
        const publish = (entries: Record<string, string>): Promise<unknown> =>
          pubsub.publish({ TopicArn, Message: structured(entries), MessageStructure: "json" });
        await publish({ default: '{"kind":"refund"}', sqs: '{"kind":"order","n":1}' });
        await publish({ default: '{"kind":"order","n":2}', sqs: '{"kind":"refund"}' });
        expect((await drain(queues, "orders", 1)).map((m) => m.Body)).toEqual([
          '{"kind":"order","n":1}',
        ]);
        await until(() => seen.length === 1);
        expect(seen).toEqual(['{"kind":"order","n":2}']);
        await expectEmpty(queues, "orders");
      });

      it("refuses a message that is not a JSON object of strings with a default entry", async () => {
        const { pubsub } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        const refusal = (
          Message: string,
          MessageStructure = "json",
        ): Promise<SluiceError & { snsError?: string }> =>
          rejection(
            pubsub.publish({ TopicArn, Message, MessageStructure: MessageStructure as "json" }),
          );
        for (const body of ["not json", "[1]", '"text"', "null"]) {
          const error = await refusal(body);
          expect(error.snsError).toBe("InvalidParameter");
          expect(error.message).toBe(
            "Invalid parameter: Message Structure - JSON message body failed to parse",
          );
        }
        expect((await refusal('{"sqs":"x"}')).message).toBe(
          "Invalid parameter: Message Structure - No default entry in JSON message body",
        );
        expect((await refusal('{"default":"x","sqs":{"nested":true}}')).message).toContain('"sqs"');
        const xml = await refusal('{"default":"x"}', "xml");
        expect(xml.snsError).toBe("InvalidParameter");
        expect(xml.field).toBe("MessageStructure");
      });
    });

    describe("tags and policies", () => {
      it("concurrent tag calls on one topic keep every tag", async () => {
        const { pubsub } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "tagged-together" });
        await Promise.all(
          ["a", "b", "c", "d"].map((Key) =>
            pubsub.tagResource({ ResourceArn: TopicArn, Tags: [{ Key, Value: Key }] }),
          ),
        );
        const { Tags } = await pubsub.listTagsForResource({ ResourceArn: TopicArn });
        expect(Tags.map((t) => t.Key).sort()).toEqual(["a", "b", "c", "d"]);
      });

      it("topics are tagged, untagged and listed; CreateTopic takes tags", async () => {
        const { pubsub } = await open();
        const { TopicArn } = await pubsub.createTopic({
          Name: "t",
          Tags: [{ Key: "team", Value: "billing" }],
        });
        const list = async (): Promise<Record<string, string>> =>
          Object.fromEntries(
            (await pubsub.listTagsForResource({ ResourceArn: TopicArn })).Tags.map((t) => [
              t.Key,
              t.Value,
            ]),
          );
        expect(await list()).toEqual({ team: "billing" });
        await pubsub.tagResource({
          ResourceArn: TopicArn,
          Tags: [
            { Key: "team", Value: "payments" },
            { Key: "env", Value: "" },
          ],
        });
        expect(await list()).toEqual({ team: "payments", env: "" });
        await pubsub.untagResource({ ResourceArn: TopicArn, TagKeys: ["env", "never-set"] });
        expect(await list()).toEqual({ team: "payments" });
        // The same name with the tags it has is the same topic; other tags are refused.
        await pubsub.createTopic({ Name: "t", Tags: [{ Key: "team", Value: "payments" }] });
        expect(
          (await rejection(pubsub.createTopic({ Name: "t", Tags: [{ Key: "team", Value: "x" }] })))
            .snsError,
        ).toBe("InvalidParameter");
      });

      it("tag limits and a missing topic are refused with SNS's errors", async () => {
        const { pubsub } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        const many = (n: number): { Key: string; Value: string }[] =>
          Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
        await pubsub.tagResource({ ResourceArn: TopicArn, Tags: many(50) });
        const over = await rejection(
          pubsub.tagResource({ ResourceArn: TopicArn, Tags: [{ Key: "one-more", Value: "v" }] }),
        );
        expect(over.snsError).toBe("TagLimitExceeded");
        expect((await rejection(pubsub.createTopic({ Name: "u", Tags: many(51) }))).snsError).toBe(
          "TagLimitExceeded",
        );
        const long = await rejection(
          pubsub.tagResource({
            ResourceArn: TopicArn,
            Tags: [{ Key: "k".repeat(129), Value: "" }],
          }),
        );
        expect(long.snsError).toBe("InvalidParameter");
        expect(long.field).toBe("Tags.member.1.Key");
        const value = await rejection(
          pubsub.tagResource({
            ResourceArn: TopicArn,
            Tags: [{ Key: "k0", Value: "v".repeat(257) }],
          }),
        );
        expect(value.field).toBe("Tags.member.1.Value");
        for (const call of [
          pubsub.listTagsForResource({ ResourceArn: topicArn("missing") }),
          pubsub.tagResource({ ResourceArn: topicArn("missing"), Tags: [{ Key: "a", Value: "" }] }),
          pubsub.untagResource({ ResourceArn: topicArn("missing"), TagKeys: ["a"] }),
        ])
          expect((await rejection(call)).snsError).toBe("ResourceNotFound");
        expect((await pubsub.listTagsForResource({ ResourceArn: TopicArn })).Tags).toHaveLength(50);
      });

      it("Policy is stored and returned as given (a JSON object), not enforced", async () => {
        const { pubsub, queues } = await open();
        const deny = JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Principal: "*", Action: "SNS:Publish", Resource: "*" }],
        });
        const { TopicArn } = await pubsub.createTopic({ Name: "t", Attributes: { Policy: deny } });
        expect((await pubsub.getTopicAttributes({ TopicArn })).Attributes.Policy).toBe(deny);
        const allow = JSON.stringify({ Version: "2012-10-17", Statement: [] });
        await pubsub.setTopicAttributes({
          TopicArn,
          AttributeName: "Policy",
          AttributeValue: allow,
        });
        expect((await pubsub.getTopicAttributes({ TopicArn })).Attributes.Policy).toBe(allow);
        const bad = await rejection(
          pubsub.setTopicAttributes({ TopicArn, AttributeName: "Policy", AttributeValue: "{" }),
        );
        expect(bad.snsError).toBe("InvalidParameter");
        expect(bad.field).toBe("Attributes.Policy");
        // Not enforced: a Deny policy does not stop publishing.
        await queues.createQueue({ QueueName: "q" });
        await pubsub.setTopicAttributes({
          TopicArn,
          AttributeName: "Policy",
          AttributeValue: deny,
        });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("q"),
          Attributes: { RawMessageDelivery: "true" },
        });
        await pubsub.publish({ TopicArn, Message: "still delivered" });
        expect((await drain(queues, "q", 1)).map((m) => m.Body)).toEqual(["still delivered"]);
      });
    });

    describe("handlers, retries and dead letters", () => {
      it("a handler gets each notification; one that fails is retried, then dead-lettered", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "dlq" });
        const seen: Notification[] = [];
        let failuresLeft = 2;
        pubsub.registerHandler("flaky", (n) => {
          if (n.Message === "poison" || failuresLeft-- > 0) throw new Error("handler failed");
          seen.push(n);
        });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "handler",
          Endpoint: "flaky",
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn("dlq") }),
            DeliveryPolicy: JSON.stringify({
              healthyRetryPolicy: { numRetries: 3, minDelayTarget: 1, maxDelayTarget: 5 },
            }),
          },
        });
        await pubsub.publish({ TopicArn, Message: "ok", Subject: "s" });
        await until(() => seen.length === 1);
        expect(seen[0]).toMatchObject({ Message: "ok", Subject: "s", TopicArn });
        await pubsub.publish({ TopicArn, Message: "poison" });
        const [dead] = await drain(queues, "dlq", 1);
        expect(JSON.parse(dead!.Body)).toMatchObject({ Message: "poison", Type: "Notification" });
        expect(dead!.MessageAttributes?.ErrorMessage?.StringValue).toContain("handler failed");
      });

      it("a subscription whose queue was deleted dead-letters instead of losing messages", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        const { QueueUrl } = await queues.createQueue({ QueueName: "gone" });
        await queues.createQueue({ QueueName: "dlq" });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("gone"),
          Attributes: {
            RawMessageDelivery: "true",
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn("dlq") }),
          },
        });
        await queues.deleteQueue({ QueueUrl });
        await pubsub.publish({ TopicArn, Message: "m1" });
        await pubsub.publish({ TopicArn, Message: "m2" });
        const dead = await drain(queues, "dlq", 2);
        expect(dead.map((m) => m.Body).sort()).toEqual(["m1", "m2"]);
      });

      it("without a dead-letter queue, a missing queue is retried until it exists again", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("later"),
          Attributes: { RawMessageDelivery: "true" },
        });
        await pubsub.publish({ TopicArn, Message: "kept" });
        await clock.advance(600_000);
        await queues.createQueue({ QueueName: "later" });
        expect((await drain(queues, "later", 1)).map((m) => m.Body)).toEqual(["kept"]);
      });
    });

    describe("FIFO topics", () => {
      it("deliver to FIFO queues in order per group, with deduplication", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({
          Name: "t.fifo",
          Attributes: { FifoTopic: "true", ContentBasedDeduplication: "true" },
        });
        await queues.createQueue({ QueueName: "q.fifo", Attributes: { FifoQueue: "true" } });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("q.fifo"),
          Attributes: { RawMessageDelivery: "true" },
        });
        const first = await pubsub.publish({ TopicArn, Message: "m0", MessageGroupId: "g" });
        expect(first.SequenceNumber).toMatch(/^\d{20}$/);
        const again = await pubsub.publish({ TopicArn, Message: "m0", MessageGroupId: "g" });
        expect(again.MessageId).toBe(first.MessageId);
        for (let i = 1; i < 25; i++)
          await pubsub.publish({
            TopicArn,
            Message: `m${i}`,
            MessageGroupId: "g",
            MessageDeduplicationId: `d${i}`,
          });
        await pubsub.publish({
          TopicArn,
          Message: "dup",
          MessageGroupId: "g",
          MessageDeduplicationId: "d3",
        });
        const got = await drain(queues, "q.fifo", 25);
        expect(got.map((m) => m.Body)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
        await expectEmpty(queues, "q.fifo");
      });

      it("need a group id, and a deduplication id unless content-based", async () => {
        const { pubsub } = await open();
        const { TopicArn } = await pubsub.createTopic({
          Name: "t.fifo",
          Attributes: { FifoTopic: "true" },
        });
        expect((await rejection(pubsub.publish({ TopicArn, Message: "x" }))).field).toBe(
          "MessageGroupId",
        );
        expect(
          (await rejection(pubsub.publish({ TopicArn, Message: "x", MessageGroupId: "g" }))).field,
        ).toBe("MessageDeduplicationId");
        const standard = (await pubsub.createTopic({ Name: "s" })).TopicArn;
        expect(
          (
            await rejection(
              pubsub.subscribe({
                TopicArn: standard,
                Protocol: "sqs",
                Endpoint: queueArn("q.fifo"),
              }),
            )
          ).message,
        ).toContain("FIFO SQS Queues");
      });
    });

    describe("publishing", () => {
      it("publishBatch: up to 10 entries, each with its own result", async () => {
        const { pubsub, queues } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        await queues.createQueue({ QueueName: "q" });
        await pubsub.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("q"),
          Attributes: { RawMessageDelivery: "true" },
        });
        const result = await pubsub.publishBatch({
          TopicArn,
          PublishBatchRequestEntries: [
            { Id: "a", Message: "one" },
            { Id: "b", Message: "" },
            {
              Id: "c",
              Message: "three",
              MessageAttributes: { "AWS.x": { DataType: "String", StringValue: "v" } },
            },
            { Id: "d", Message: "four" },
          ],
        });
        expect(result.Successful.map((s) => s.Id)).toEqual(["a", "d"]);
        expect(result.Failed.map((f) => [f.Id, f.SenderFault])).toEqual([
          ["b", true],
          ["c", true],
        ]);
        expect((await drain(queues, "q", 2)).map((m) => m.Body)).toEqual(["one", "four"]);
        const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, Message: "m" }));
        expect(
          (await rejection(pubsub.publishBatch({ TopicArn, PublishBatchRequestEntries: eleven })))
            .snsError,
        ).toBe("TooManyEntriesInBatchRequest");
        expect(
          (await rejection(pubsub.publishBatch({ TopicArn, PublishBatchRequestEntries: [] })))
            .snsError,
        ).toBe("EmptyBatchRequest");
        expect(
          (
            await rejection(
              pubsub.publishBatch({
                TopicArn,
                PublishBatchRequestEntries: [
                  { Id: "x", Message: "1" },
                  { Id: "x", Message: "2" },
                ],
              }),
            )
          ).snsError,
        ).toBe("BatchEntryIdsNotDistinct");
      });

      it("checks sizes and attributes", async () => {
        const { pubsub } = await open();
        const { TopicArn } = await pubsub.createTopic({ Name: "t" });
        expect(
          (await rejection(pubsub.publish({ TopicArn, Message: "x".repeat(256 * 1024 + 1) })))
            .message,
        ).toContain("Message too long");
        expect(
          (
            await rejection(
              pubsub.publish({
                TopicArn,
                Message: "x",
                MessageAttributes: { n: { DataType: "Number", StringValue: "abc" } },
              }),
            )
          ).field,
        ).toBe("MessageAttributes.n.StringValue");
        const eleven = Object.fromEntries(
          Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "v" }]),
        );
        expect(
          (await rejection(pubsub.publish({ TopicArn, Message: "x", MessageAttributes: eleven })))
            .snsError,
        ).toBe("InvalidParameterValue");
        expect(
          (await rejection(pubsub.publish({ TopicArn: topicArn("missing"), Message: "x" })))
            .snsError,
        ).toBe("NotFound");
      });

      it("topics can subscribe to topics", async () => {
        const { pubsub, queues } = await open();
        const a = (await pubsub.createTopic({ Name: "a" })).TopicArn;
        const b = (await pubsub.createTopic({ Name: "b" })).TopicArn;
        await queues.createQueue({ QueueName: "q" });
        await pubsub.subscribe({
          TopicArn: a,
          Protocol: "sns",
          Endpoint: b,
          Attributes: { RawMessageDelivery: "true" },
        });
        await pubsub.subscribe({
          TopicArn: b,
          Protocol: "sqs",
          Endpoint: queueArn("q"),
          Attributes: { RawMessageDelivery: "true" },
        });
        await pubsub.publish({ TopicArn: a, Message: "hop" });
        expect((await drain(queues, "q", 1)).map((m) => m.Body)).toEqual(["hop"]);
      });
    });

    if (harness.reopen !== undefined) {
      const reopen = (s: PubSubUnderTest, c: VirtualClock): Promise<PubSubUnderTest> =>
        harness.reopen!(s, c);
      describe("durability", () => {
        it("topics, subscriptions and undelivered messages survive a reopen", async () => {
          const first = await open();
          const { TopicArn } = await first.pubsub.createTopic({ Name: "t" });
          await first.pubsub.subscribe({
            TopicArn,
            Protocol: "sqs",
            Endpoint: queueArn("later"),
            Attributes: { RawMessageDelivery: "true" },
          });
          const { SubscriptionArn } = await first.pubsub.subscribe({
            TopicArn,
            Protocol: "sqs",
            Endpoint: queueArn("dropped"),
          });
          await first.pubsub.unsubscribe({ SubscriptionArn });
          await first.pubsub.publish({ TopicArn, Message: "survives" });
          services = await reopen(first, clock);
          await services.queues.createQueue({ QueueName: "later" });
          expect((await drain(services.queues, "later", 1)).map((m) => m.Body)).toEqual([
            "survives",
          ]);
          expect(
            (await services.pubsub.listSubscriptionsByTopic({ TopicArn })).Subscriptions,
          ).toHaveLength(1);
          expect((await services.pubsub.getTopicAttributes({ TopicArn })).Attributes).toMatchObject(
            { SubscriptionsConfirmed: "1", SubscriptionsDeleted: "1" },
          );
        });

        it("a subscribe racing its topic's delete leaves no subscription behind, and the data opens", async () => {
          const first = await open();
          await first.queues.createQueue({ QueueName: "q" });
          const { TopicArn } = await first.pubsub.createTopic({ Name: "t" });
          // A subscription to remove makes the delete take a few turns.
          await first.pubsub.subscribe({ TopicArn, Protocol: "sqs", Endpoint: queueArn("q") });
          const deleted = first.pubsub.deleteTopic({ TopicArn });
          const late = first.pubsub
            .subscribe({ TopicArn, Protocol: "sqs", Endpoint: queueArn("q2") })
            .then(
              () => "subscribed",
              (error: unknown) => (error as { snsError?: string }).snsError,
            );
          await deleted;
          // Either it came first and went with the topic, or it found the topic gone.
          expect(["subscribed", "NotFound"]).toContain(await late);
          services = await reopen(first, clock);
          expect((await services.pubsub.listTopics()).Topics).toEqual([]);
          // A topic of the same name made again starts without subscriptions.
          await services.pubsub.createTopic({ Name: "t" });
          expect(
            (await services.pubsub.listSubscriptionsByTopic({ TopicArn })).Subscriptions,
          ).toEqual([]);
        });

        it("tags, policies and an undelivered structured message survive a reopen", async () => {
          const first = await open();
          const policy = JSON.stringify({ Version: "2012-10-17", Statement: [] });
          const { TopicArn } = await first.pubsub.createTopic({
            Name: "t",
            Attributes: { Policy: policy },
            Tags: [{ Key: "team", Value: "billing" }],
          });
          await first.pubsub.tagResource({
            ResourceArn: TopicArn,
            Tags: [{ Key: "env", Value: "prod" }],
          });
          await first.pubsub.untagResource({ ResourceArn: TopicArn, TagKeys: ["team"] });
          await first.pubsub.subscribe({
            TopicArn,
            Protocol: "sqs",
            Endpoint: queueArn("later"),
            Attributes: { RawMessageDelivery: "true" },
          });
          await first.pubsub.publish({
            TopicArn,
            Message: JSON.stringify({ default: "d", sqs: "for queues" }),
            MessageStructure: "json",
          });
          services = await reopen(first, clock);
          expect(
            (await services.pubsub.listTagsForResource({ ResourceArn: TopicArn })).Tags,
          ).toEqual([{ Key: "env", Value: "prod" }]);
          expect((await services.pubsub.getTopicAttributes({ TopicArn })).Attributes.Policy).toBe(
            policy,
          );
          await services.queues.createQueue({ QueueName: "later" });
          expect((await drain(services.queues, "later", 1)).map((m) => m.Body)).toEqual([
            "for queues",
          ]);
        });
      });
    }
    checkSkips();
  });
}
