import { mkdtempSync, rmSync } from "node:fs";
import { type IncomingHttpHeaders, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedEventBus } from "../bus/embedded-event-bus.js";
import { EmbeddedQueueService } from "../queues/index.js";
import { EmbeddedPubSubService } from "./embedded-pubsub-service.js";

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A real HTTP endpoint on 127.0.0.1 that records requests and answers with scripted statuses. */
class Endpoint {
  readonly received: Received[] = [];
  statuses: number[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.statusCode = this.statuses.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  ofType(type: string): Received[] {
    return this.received.filter((r) => r.headers["x-amz-sns-message-type"] === type);
  }
}

async function waitFor(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const FAST_RETRIES = JSON.stringify({
  healthyRetryPolicy: { numRetries: 3, minDelayTarget: 0.02, maxDelayTarget: 0.1 },
});

describe("HTTP delivery against a real local endpoint", () => {
  let dir: string;
  let endpoint: Endpoint;
  let url: string;
  let queues: EmbeddedQueueService;
  let pubsub: EmbeddedPubSubService;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-http-"));
    endpoint = new Endpoint();
    url = await endpoint.start();
    queues = await EmbeddedQueueService.open(join(dir, "queues"), { fsync: "never" });
    pubsub = await EmbeddedPubSubService.open(join(dir, "pubsub"), { queues, fsync: "never" });
  });

  afterEach(async () => {
    await pubsub.close();
    await queues.close();
    await endpoint.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("confirms the subscription with SNS's handshake, then delivers the JSON envelope", async () => {
    const { TopicArn } = await pubsub.createTopic({ Name: "orders" });
    const { SubscriptionArn } = await pubsub.subscribe({
      TopicArn,
      Protocol: "http",
      Endpoint: url,
    });
    expect(SubscriptionArn).toBe("pending confirmation");
    await waitFor(() => endpoint.ofType("SubscriptionConfirmation").length === 1);
    const confirmation = JSON.parse(endpoint.ofType("SubscriptionConfirmation")[0]!.body) as Record<
      string,
      string
    >;
    expect(confirmation).toMatchObject({ Type: "SubscriptionConfirmation", TopicArn });
    expect(confirmation.SubscribeURL).toContain(`Token=${confirmation.Token}`);
    expect(
      (await pubsub.listSubscriptionsByTopic({ TopicArn })).Subscriptions[0]!.SubscriptionArn,
    ).toBe("PendingConfirmation");

    await pubsub.publish({ TopicArn, Message: "before confirmation" });
    const confirmed = await pubsub.confirmSubscription({ TopicArn, Token: confirmation.Token! });
    expect(confirmed.SubscriptionArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:orders:/);
    await expect(pubsub.confirmSubscription({ TopicArn, Token: "wrong" })).rejects.toThrow(
      /Invalid token/,
    );

    const { MessageId } = await pubsub.publish({ TopicArn, Message: "hello", Subject: "greeting" });
    await waitFor(() => endpoint.ofType("Notification").length === 1);
    const [notification] = endpoint.ofType("Notification");
    expect(notification!.headers["x-amz-sns-message-id"]).toBe(MessageId);
    expect(notification!.headers["x-amz-sns-subscription-arn"]).toBe(confirmed.SubscriptionArn);
    expect(JSON.parse(notification!.body)).toMatchObject({
      Type: "Notification",
      MessageId,
      Message: "hello",
      Subject: "greeting",
      TopicArn,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(endpoint.ofType("Notification")).toHaveLength(1); // the one published while pending never arrives
  });

  async function confirmedSubscription(attributes: Record<string, string>): Promise<string> {
    const { TopicArn } = await pubsub.createTopic({ Name: "t" });
    await pubsub.subscribe({ TopicArn, Protocol: "http", Endpoint: url, Attributes: attributes });
    await waitFor(() => endpoint.ofType("SubscriptionConfirmation").length === 1);
    const { Token } = JSON.parse(endpoint.ofType("SubscriptionConfirmation")[0]!.body) as {
      Token: string;
    };
    await pubsub.confirmSubscription({ TopicArn, Token });
    return TopicArn;
  }

  it("retries a failing endpoint with backoff until it answers 2xx", async () => {
    const TopicArn = await confirmedSubscription({
      DeliveryPolicy: FAST_RETRIES,
      RawMessageDelivery: "true",
    });
    endpoint.statuses = [500, 503];
    await pubsub.publish({ TopicArn, Message: "eventually" });
    await waitFor(() => endpoint.ofType("Notification").length === 3);
    expect(endpoint.ofType("Notification").map((r) => r.body)).toEqual([
      "eventually",
      "eventually",
      "eventually",
    ]);
  });

  it("of a per-protocol message, an http endpoint gets the http entry, raw or enveloped", async () => {
    const TopicArn = await confirmedSubscription({ RawMessageDelivery: "true" });
    const Message = JSON.stringify({
      default: "d",
      http: "for http",
      https: "for https",
      sqs: "q",
    });
    await pubsub.publish({ TopicArn, Message, MessageStructure: "json" });
    await waitFor(() => endpoint.ofType("Notification").length === 1);
    expect(endpoint.ofType("Notification")[0]!.body).toBe("for http");
    const [subscription] = (await pubsub.listSubscriptionsByTopic({ TopicArn })).Subscriptions;
    await pubsub.setSubscriptionAttributes({
      SubscriptionArn: subscription!.SubscriptionArn,
      AttributeName: "RawMessageDelivery",
      AttributeValue: "false",
    });
    await pubsub.publish({ TopicArn, Message, MessageStructure: "json" });
    await waitFor(() => endpoint.ofType("Notification").length === 2);
    expect(JSON.parse(endpoint.ofType("Notification")[1]!.body)).toMatchObject({
      Type: "Notification",
      Message: "for http",
    });
  });

  it("sends to the dead-letter queue once retries run out", async () => {
    await queues.createQueue({ QueueName: "dlq" });
    const TopicArn = await confirmedSubscription({
      DeliveryPolicy: FAST_RETRIES,
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:dlq",
      }),
    });
    endpoint.statuses = [500, 500, 500, 500, 500];
    await pubsub.publish({ TopicArn, Message: "doomed" });
    const { QueueUrl } = await queues.getQueueUrl({ QueueName: "dlq" });
    const { Messages } = await queues.receiveMessage({
      QueueUrl,
      WaitTimeSeconds: 10,
      MessageAttributeNames: ["All"],
    });
    expect(endpoint.ofType("Notification")).toHaveLength(4);
    expect(JSON.parse(Messages[0]!.Body)).toMatchObject({ Message: "doomed" });
    expect(Messages[0]!.MessageAttributes?.ErrorMessage?.StringValue).toContain("HTTP 500");
  });

  it("event bus targets POST the (transformed) event to an http endpoint", async () => {
    const bus = await EmbeddedEventBus.open(join(dir, "bus"), { queues, fsync: "never" });
    try {
      await bus.putRule({ Name: "r", EventPattern: '{"source":["shop"]}' });
      await bus.putTargets({
        Rule: "r",
        Targets: [{ Id: "web", Arn: url, InputPath: "$.detail" }],
      });
      await bus.putEvents({ Entries: [{ Source: "shop", DetailType: "x", Detail: '{"id":7}' }] });
      await waitFor(() => endpoint.received.length === 1);
      expect(endpoint.received[0]!.headers["content-type"]).toContain("application/json");
      expect(JSON.parse(endpoint.received[0]!.body)).toEqual({ id: 7 });
    } finally {
      await bus.close();
    }
  });
});
