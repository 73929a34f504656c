import { randomBytes } from "node:crypto";
import {
  AckPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { type NatsConnection, connect } from "@nats-io/transport-node";
import { machineInfo } from "../../observability/index.js";
import { NatsQueueService, parseServers } from "./nats-queue-service.js";

export interface NatsQueueBenchOptions {
  /** NATS servers, e.g. "nats://127.0.0.1:4222". */
  readonly servers: string;
  readonly replicas: number;
  readonly numMessages: number;
  readonly messageSize: number;
  readonly producers: number;
  readonly consumers: number;
  readonly quiet: boolean;
}

export const defaultNatsQueueBenchOptions: NatsQueueBenchOptions = {
  servers: "nats://127.0.0.1:4222",
  replicas: 1,
  numMessages: 20_000,
  messageSize: 100,
  producers: 4,
  consumers: 4,
  quiet: false,
};

export interface NatsQueueBenchResult {
  readonly benchmark: "nats-queue";
  readonly parameters: Omit<NatsQueueBenchOptions, "quiet">;
  readonly machine: ReturnType<typeof machineInfo>;
  /** send -> receive -> delete through Sluice's queue on JetStream, batches of 10. */
  readonly sluiceMessagesPerSec: number;
  /** The same work with the plain client: a work-queue stream, publish, fetch 10, ack. */
  readonly plainMessagesPerSec: number;
  /** Sluice's throughput as a share of the plain client's. */
  readonly ratio: number;
  /** This process's CPU time (user + system) per message through Sluice, in µs. */
  readonly sluiceCpuUsPerMessage: number;
  /** The same for the plain client. */
  readonly plainCpuUsPerMessage: number;
}

/** What one side of the run measured. */
interface SideResult {
  readonly messagesPerSec: number;
  readonly cpuUsPerMessage: number;
}

/** Times `work` (which moves `messages` messages) in wall-clock and this process's CPU time. */
async function measured(messages: number, work: () => Promise<void>): Promise<SideResult> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    messagesPerSec: (messages * 1000) / elapsed,
    cpuUsPerMessage: (used.user + used.system) / messages,
  };
}

const BATCH = 10;

/**
 * Sluice-on-JetStream against a plain JetStream client doing the same work in the same run:
 * `producers` send batches of 10 while `consumers` receive batches of 10 and delete (ack) them,
 * until `numMessages` have gone through.
 */
export async function runNatsQueueBench(
  options: NatsQueueBenchOptions,
): Promise<NatsQueueBenchResult> {
  const nc = await connect({ servers: parseServers(options.servers) });
  const jsm = await jetstreamManager(nc);
  const namespace = `BENCH${randomBytes(4).toString("hex")}`;
  try {
    const sluice = await sluiceRun(nc, jsm, namespace, options);
    const plain = await plainRun(nc, jsm, namespace, options);
    const result: NatsQueueBenchResult = {
      benchmark: "nats-queue",
      parameters: {
        servers: options.servers,
        replicas: options.replicas,
        numMessages: options.numMessages,
        messageSize: options.messageSize,
        producers: options.producers,
        consumers: options.consumers,
      },
      machine: machineInfo(),
      sluiceMessagesPerSec: sluice.messagesPerSec,
      plainMessagesPerSec: plain.messagesPerSec,
      ratio: sluice.messagesPerSec / plain.messagesPerSec,
      sluiceCpuUsPerMessage: sluice.cpuUsPerMessage,
      plainCpuUsPerMessage: plain.cpuUsPerMessage,
    };
    if (!options.quiet)
      process.stdout.write(
        `nats-queue (replicas ${options.replicas}): Sluice ${Math.round(sluice.messagesPerSec)} msg/s ` +
          `(${sluice.cpuUsPerMessage.toFixed(0)} µs CPU/msg), plain JetStream ` +
          `${Math.round(plain.messagesPerSec)} msg/s (${plain.cpuUsPerMessage.toFixed(0)} µs CPU/msg), ` +
          `Sluice at ${(result.ratio * 100).toFixed(0)}% ` +
          `(send -> receive -> delete, batches of ${BATCH}, ${options.messageSize} B)\n`,
      );
    return result;
  } finally {
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.includes(namespace)) names.push(name);
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
  }
}

async function sluiceRun(
  nc: NatsConnection,
  _jsm: JetStreamManager,
  namespace: string,
  o: NatsQueueBenchOptions,
): Promise<SideResult> {
  const service = await NatsQueueService.open({
    connection: nc,
    replicas: o.replicas,
    namespace,
    compactionIntervalMs: 2000,
  });
  try {
    const { QueueUrl } = await service.createQueue({ QueueName: "bench" });
    const body = "x".repeat(o.messageSize);
    let toSend = o.numMessages;
    let received = 0;
    const produce = async (): Promise<void> => {
      while (toSend > 0) {
        const n = Math.min(BATCH, toSend);
        toSend -= n;
        await service.sendMessageBatch({
          QueueUrl,
          Entries: Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, MessageBody: body })),
        });
      }
    };
    const consume = async (): Promise<void> => {
      while (received < o.numMessages) {
        const { Messages } = await service.receiveMessage({
          QueueUrl,
          MaxNumberOfMessages: BATCH,
          WaitTimeSeconds: 1,
        });
        if (Messages.length === 0) continue;
        received += Messages.length;
        await service.deleteMessageBatch({
          QueueUrl,
          Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        });
      }
    };
    return await measured(o.numMessages, async () => {
      await Promise.all([
        ...Array.from({ length: o.producers }, produce),
        ...Array.from({ length: o.consumers }, consume),
      ]);
    });
  } finally {
    await service.close();
  }
}

async function plainRun(
  nc: NatsConnection,
  jsm: JetStreamManager,
  namespace: string,
  o: NatsQueueBenchOptions,
): Promise<SideResult> {
  const js = jetstream(nc);
  const stream = `${namespace}_PLAIN`;
  const subject = `${namespace}.plain`;
  await jsm.streams.add({
    name: stream,
    subjects: [subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: o.replicas,
  });
  await jsm.consumers.add(stream, {
    durable_name: "workers",
    ack_policy: AckPolicy.Explicit,
    ack_wait: 30_000_000_000,
  });
  const consumer = await js.consumers.get(stream, "workers");
  const body = Buffer.from("x".repeat(o.messageSize));
  let toSend = o.numMessages;
  let received = 0;
  const produce = async (): Promise<void> => {
    while (toSend > 0) {
      const n = Math.min(BATCH, toSend);
      toSend -= n;
      await Promise.all(Array.from({ length: n }, () => js.publish(subject, body)));
    }
  };
  const consume = async (): Promise<void> => {
    while (received < o.numMessages) {
      const batch = await consumer.fetch({ max_messages: BATCH, expires: 1000 });
      const acks: Promise<boolean>[] = [];
      for await (const m of batch) {
        received++;
        acks.push(m.ackAck());
      }
      await Promise.all(acks);
    }
  };
  return measured(o.numMessages, async () => {
    await Promise.all([
      ...Array.from({ length: o.producers }, produce),
      ...Array.from({ length: o.consumers }, consume),
    ]);
  });
}
