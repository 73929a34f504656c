import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FsyncPolicy } from "../engine/index.js";
import { EmbeddedQueueService } from "../messaging/queues/index.js";
import {
  LatencyHistogram,
  type LatencySummary,
  PeakRss,
  machineInfo,
} from "../observability/index.js";
import { SluiceServer } from "./server.js";

export interface ServerBenchOptions {
  readonly numMessages: number;
  readonly messageSize: number;
  /** Concurrent SDK producers, each sending batches of 10. */
  readonly producers: number;
  /** Concurrent SDK consumers, each receiving 10 and deleting them in one batch. */
  readonly consumers: number;
  readonly fsync: "always" | "interval" | "never";
  readonly quiet: boolean;
}

export interface ServerBenchResult {
  readonly benchmark: "server";
  readonly parameters: ServerBenchOptions;
  readonly machine: ReturnType<typeof machineInfo>;
  readonly sqsSdk: {
    readonly messages: number;
    readonly seconds: number;
    readonly messagesPerSecond: number;
    /** From handing a batch to the SDK to the consumer receiving it. */
    readonly endToEnd: LatencySummary;
  };
  readonly peakRssBytes: number;
}

/**
 * SQS through `@aws-sdk/client-sqs` against the server in this process, on loopback: producers
 * send batches of 10, consumers receive 10 and delete them in one batch, until every message
 * has been deleted. Server and SDK share the process (and this machine's cores).
 */
export async function runServerBench(options: ServerBenchOptions): Promise<ServerBenchResult> {
  // The SDK is a development dependency: loaded only when this benchmark runs.
  const sdk = await import("@aws-sdk/client-sqs");
  const dir = mkdtempSync(join(tmpdir(), "sluice-server-bench-"));
  const fsync: FsyncPolicy = options.fsync === "interval" ? { intervalMs: 50 } : options.fsync;
  const queues = await EmbeddedQueueService.open(dir, { fsync });
  const server = await SluiceServer.create({ queues }, { port: 0 });
  const url = await server.listen();
  const rss = new PeakRss();
  const sqs = new sdk.SQSClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  try {
    const { QueueUrl } = await sqs.send(new sdk.CreateQueueCommand({ QueueName: "bench" }));
    const body = "x".repeat(Math.max(0, options.messageSize - 14));
    const latency = new LatencyHistogram();
    let toSend = options.numMessages;
    let deleted = 0;
    const started = performance.now();
    const producer = async (): Promise<void> => {
      while (toSend > 0) {
        const n = Math.min(10, toSend);
        toSend -= n;
        const sentAt = performance.now().toFixed(3);
        await sqs.send(
          new sdk.SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({ length: n }, (_, i) => ({
              Id: `m${i}`,
              MessageBody: `${sentAt} ${body}`,
            })),
          }),
        );
      }
    };
    const consumer = async (): Promise<void> => {
      while (deleted < options.numMessages) {
        const { Messages = [] } = await sqs.send(
          new sdk.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        if (Messages.length === 0) continue;
        const now = performance.now();
        for (const m of Messages)
          latency.recordMs(now - Number(m.Body!.slice(0, m.Body!.indexOf(" "))));
        await sqs.send(
          new sdk.DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        deleted += Messages.length;
      }
    };
    await Promise.all([
      ...Array.from({ length: options.producers }, producer),
      ...Array.from({ length: options.consumers }, consumer),
    ]);
    const seconds = (performance.now() - started) / 1000;
    const result: ServerBenchResult = {
      benchmark: "server",
      parameters: options,
      machine: machineInfo(),
      sqsSdk: {
        messages: options.numMessages,
        seconds,
        messagesPerSecond: options.numMessages / seconds,
        endToEnd: latency.summary(),
      },
      peakRssBytes: rss.stop(),
    };
    if (!options.quiet) {
      const e = result.sqsSdk.endToEnd;
      process.stdout.write(
        `server sqs-sdk: ${options.numMessages} messages sent -> received -> deleted in batches of 10, ` +
          `${Math.round(result.sqsSdk.messagesPerSecond)} messages/s, e2e p50 ${e.p50Ms.toFixed(1)} ms, ` +
          `p99 ${e.p99Ms.toFixed(1)} ms, peak RSS ${Math.round(result.peakRssBytes / 1048576)} MB\n`,
      );
    }
    return result;
  } finally {
    sqs.destroy();
    await server.close();
    await queues.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
