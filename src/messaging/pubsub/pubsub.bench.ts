import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FsyncPolicy } from "../../engine/index.js";
import { machineInfo } from "../../observability/index.js";
import { EmbeddedQueueService } from "../queues/index.js";
import { EmbeddedPubSubService } from "./embedded-pubsub-service.js";

export interface PubSubBenchOptions {
  readonly numMessages: number;
  readonly subscriptions: number;
  readonly producers: number;
  readonly fsync: "always" | "interval" | "never";
  /** Deliver SNS's JSON envelope instead of the raw body (RawMessageDelivery "false"). */
  readonly envelope: boolean;
  /**
   * Messages fanned out first, untimed, on services of their own: a process's first messages
   * run in V8's interpreter and baseline tiers at several times their compiled cost, and the
   * target is the throughput of a process in service (0 for none).
   */
  readonly warmupMessages: number;
}

export const defaultPubSubBenchOptions: PubSubBenchOptions = {
  numMessages: 50_000,
  subscriptions: 10,
  producers: 4,
  fsync: "interval",
  envelope: false,
  warmupMessages: 10_000,
};

/** `sluice bench pubsub`: publishBatch to a topic fanning out to queue subscriptions with filter policies. */
export async function runPubSubBench(
  partial: Partial<PubSubBenchOptions> = {},
  json = false,
): Promise<object> {
  const o = { ...defaultPubSubBenchOptions, ...partial };
  if (o.warmupMessages > 0)
    await fanOut({ ...o, numMessages: o.warmupMessages, warmupMessages: 0 }, true);
  return fanOut(o, json);
}

/** One timed fan-out on services of its own, in a temporary directory removed afterwards. */
async function fanOut(o: PubSubBenchOptions, json: boolean): Promise<object> {
  const fsync: FsyncPolicy = o.fsync === "interval" ? { intervalMs: 50 } : o.fsync;
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-pubsub-"));
  const queues = await EmbeddedQueueService.open(join(dir, "queues"), { fsync });
  const pubsub = await EmbeddedPubSubService.open(join(dir, "pubsub"), { queues, fsync });
  try {
    const { TopicArn } = await pubsub.createTopic({ Name: "orders" });
    const urls: string[] = [];
    for (let i = 0; i < o.subscriptions; i++) {
      urls.push((await queues.createQueue({ QueueName: `sub-${i}` })).QueueUrl);
      await pubsub.subscribe({
        TopicArn,
        Protocol: "sqs",
        Endpoint: `arn:aws:sqs:us-east-1:000000000000:sub-${i}`,
        Attributes: {
          RawMessageDelivery: o.envelope ? "false" : "true",
          // Every subscription matches every message, so deliveries = messages x subscriptions.
          FilterPolicy: JSON.stringify({
            kind: ["order", `other-${i}`],
            total: [{ numeric: [">=", 0] }],
            region: [{ prefix: "eu-" }],
          }),
        },
      });
    }
    const attributes = {
      kind: { DataType: "String", StringValue: "order" },
      total: { DataType: "Number", StringValue: "42.5" },
      region: { DataType: "String", StringValue: "eu-west-1" },
    };
    const body = "x".repeat(100);
    let next = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    const producer = async (): Promise<void> => {
      while (next < o.numMessages) {
        const count = Math.min(10, o.numMessages - next);
        next += count;
        await pubsub.publishBatch({
          TopicArn,
          PublishBatchRequestEntries: Array.from({ length: count }, (_, k) => ({
            Id: `m${k}`,
            Message: body,
            MessageAttributes: attributes,
          })),
        });
      }
    };
    await Promise.all(Array.from({ length: o.producers }, producer));
    const publishedMs = performance.now() - start;
    for (const QueueUrl of urls)
      for (;;) {
        const { Attributes } = await queues.getQueueAttributes({
          QueueUrl,
          AttributeNames: ["ApproximateNumberOfMessages"],
        });
        if (Number(Attributes.ApproximateNumberOfMessages) >= o.numMessages) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    const figures = {
      messages: o.numMessages,
      deliveries: o.numMessages * o.subscriptions,
      publishedPerSec: Math.round(o.numMessages / (publishedMs / 1000)),
      fanOutMessagesPerSec: Math.round(o.numMessages / seconds),
      deliveriesPerSec: Math.round((o.numMessages * o.subscriptions) / seconds),
      /** This process's CPU time (user + system) per published message, publish to last delivery. */
      cpuMicrosPerMessage: Math.round(((used.user + used.system) / o.numMessages) * 100) / 100,
    };
    if (!json)
      process.stdout.write(
        `pubsub fan-out: ${figures.messages.toLocaleString("en-US")} messages to ${o.subscriptions} filtered queue subscriptions: ${figures.fanOutMessagesPerSec.toLocaleString("en-US")} messages/s fanned out (${figures.deliveriesPerSec.toLocaleString("en-US")} deliveries/s; ${figures.publishedPerSec.toLocaleString("en-US")} published/s acknowledged; ${figures.cpuMicrosPerMessage} µs of CPU per message), fsync ${o.fsync}${o.envelope ? ", SNS envelope" : ", raw"}${o.warmupMessages > 0 ? `, after ${o.warmupMessages.toLocaleString("en-US")} untimed` : ""}\n`,
      );
    return {
      benchmark: "pubsub",
      parameters: o,
      machine: machineInfo(),
      note: "one Node.js process on one core",
      ...figures,
    };
  } finally {
    await pubsub.close();
    await queues.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
