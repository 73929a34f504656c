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
  /**
   * Timed rounds of each side in one run, in the order Sluice, plain, plain, Sluice, … (each
   * side goes first as often as the other), after an untimed warm-up round of each.
   */
  readonly rounds: number;
  readonly quiet: boolean;
}

export const defaultNatsQueueBenchOptions: NatsQueueBenchOptions = {
  servers: "nats://127.0.0.1:4222",
  replicas: 1,
  numMessages: 20_000,
  messageSize: 100,
  producers: 4,
  consumers: 4,
  rounds: 2,
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
  /** Each round's throughputs (msg/s), in the order they ran. */
  readonly rounds: readonly {
    readonly side: "sluice" | "plain";
    readonly messagesPerSec: number;
  }[];
}

/** What one round of one side measured. */
interface SideResult {
  readonly messages: number;
  readonly elapsedMs: number;
  readonly cpuUs: number;
}

/**
 * Times one round: from the start of `work` to the moment the last of `messages` messages is
 * deleted (acknowledged), which `work` reports by calling `done`. Consumers still waiting in a
 * long poll or a fetch when that happens end after it, untimed: otherwise their wait (up to a
 * second) would count as the side's time.
 */
async function measured(
  messages: number,
  work: (done: () => void) => Promise<void>,
): Promise<SideResult> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let ended: SideResult | undefined;
  await work(() => {
    const used = process.cpuUsage(cpu);
    ended ??= {
      messages,
      elapsedMs: performance.now() - started,
      cpuUs: used.user + used.system,
    };
  });
  if (ended === undefined) throw new Error("the round ended before every message was deleted");
  return ended;
}

/** Throughput and CPU per message over the rounds of one side. */
function total(results: readonly SideResult[]): {
  messagesPerSec: number;
  cpuUsPerMessage: number;
} {
  const messages = results.reduce((sum, r) => sum + r.messages, 0);
  const elapsedMs = results.reduce((sum, r) => sum + r.elapsedMs, 0);
  const cpuUs = results.reduce((sum, r) => sum + r.cpuUs, 0);
  return { messagesPerSec: (messages * 1000) / elapsedMs, cpuUsPerMessage: cpuUs / messages };
}

const BATCH = 10;

/**
 * Sluice-on-JetStream against a plain JetStream client doing the same work in the same run:
 * `producers` send batches of 10 while `consumers` receive batches of 10 and delete (ack) them,
 * until `numMessages` have gone through. After an untimed warm-up round of each side, `rounds`
 * timed rounds of each alternate (Sluice, plain, plain, Sluice, …), each on a new queue or
 * stream, so neither side always runs first or on a server warmed by the other.
 */
export async function runNatsQueueBench(
  options: NatsQueueBenchOptions,
): Promise<NatsQueueBenchResult> {
  const nc = await connect({ servers: parseServers(options.servers) });
  const jsm = await jetstreamManager(nc);
  const namespace = `BENCH${randomBytes(4).toString("hex")}`;
  try {
    const warmUp = { ...options, numMessages: Math.min(2000, options.numMessages) };
    await sluiceRun(nc, `${namespace}W`, warmUp);
    await plainRun(nc, jsm, `${namespace}W`, warmUp);
    await removeStreams(jsm, `${namespace}W`);
    const sluiceRounds: SideResult[] = [];
    const plainRounds: SideResult[] = [];
    const rounds: { side: "sluice" | "plain"; messagesPerSec: number }[] = [];
    for (let i = 0; i < 2 * options.rounds; i++) {
      // Sluice, plain, plain, Sluice, Sluice, plain, …
      const side = (i + 1) % 4 < 2 ? "sluice" : "plain";
      const round =
        side === "sluice"
          ? await sluiceRun(nc, `${namespace}R${i}`, options)
          : await plainRun(nc, jsm, `${namespace}R${i}`, options);
      await removeStreams(jsm, `${namespace}R${i}`);
      (side === "sluice" ? sluiceRounds : plainRounds).push(round);
      rounds.push({ side, messagesPerSec: (round.messages * 1000) / round.elapsedMs });
    }
    const sluice = total(sluiceRounds);
    const plain = total(plainRounds);
    const result: NatsQueueBenchResult = {
      benchmark: "nats-queue",
      parameters: {
        servers: options.servers,
        replicas: options.replicas,
        numMessages: options.numMessages,
        messageSize: options.messageSize,
        producers: options.producers,
        consumers: options.consumers,
        rounds: options.rounds,
      },
      machine: machineInfo(),
      sluiceMessagesPerSec: sluice.messagesPerSec,
      plainMessagesPerSec: plain.messagesPerSec,
      ratio: sluice.messagesPerSec / plain.messagesPerSec,
      sluiceCpuUsPerMessage: sluice.cpuUsPerMessage,
      plainCpuUsPerMessage: plain.cpuUsPerMessage,
      rounds,
    };
    if (!options.quiet)
      process.stdout.write(
        `nats-queue (replicas ${options.replicas}): Sluice ${Math.round(sluice.messagesPerSec)} msg/s ` +
          `(${sluice.cpuUsPerMessage.toFixed(0)} µs CPU/msg), plain JetStream ` +
          `${Math.round(plain.messagesPerSec)} msg/s (${plain.cpuUsPerMessage.toFixed(0)} µs CPU/msg), ` +
          `Sluice at ${(result.ratio * 100).toFixed(0)}% ` +
          `(send -> receive -> delete, batches of ${BATCH}, ${options.messageSize} B, ` +
          `${options.rounds} rounds a side: ${rounds.map((r) => `${r.side} ${Math.round(r.messagesPerSec)}`).join(", ")})\n`,
      );
    return result;
  } finally {
    await removeStreams(jsm, namespace);
    await nc.close();
  }
}

/** Deletes the streams (queues, catalog buckets) whose names hold `namespace`. */
async function removeStreams(jsm: JetStreamManager, namespace: string): Promise<void> {
  const names: string[] = [];
  for await (const name of jsm.streams.names()) if (name.includes(namespace)) names.push(name);
  for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
}

async function sluiceRun(
  nc: NatsConnection,
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
    let deleted = 0;
    const polls = new AbortController();
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
    const consume = async (done: () => void): Promise<void> => {
      while (received < o.numMessages) {
        const { Messages } = await service.receiveMessage({
          QueueUrl,
          MaxNumberOfMessages: BATCH,
          WaitTimeSeconds: 1,
          signal: polls.signal,
        });
        if (Messages.length === 0) continue;
        received += Messages.length;
        await service.deleteMessageBatch({
          QueueUrl,
          Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        });
        deleted += Messages.length;
        if (deleted >= o.numMessages) {
          done();
          polls.abort();
        }
      }
    };
    return await measured(o.numMessages, async (done) => {
      await Promise.all([
        ...Array.from({ length: o.producers }, produce),
        ...Array.from({ length: o.consumers }, () => consume(done)),
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
  let acked = 0;
  const produce = async (): Promise<void> => {
    while (toSend > 0) {
      const n = Math.min(BATCH, toSend);
      toSend -= n;
      await Promise.all(Array.from({ length: n }, () => js.publish(subject, body)));
    }
  };
  const consume = async (done: () => void): Promise<void> => {
    while (received < o.numMessages) {
      const batch = await consumer.fetch({ max_messages: BATCH, expires: 1000 });
      const acks: Promise<boolean>[] = [];
      for await (const m of batch) {
        received++;
        acks.push(m.ackAck());
      }
      await Promise.all(acks);
      acked += acks.length;
      if (acked >= o.numMessages) done();
    }
  };
  return measured(o.numMessages, async (done) => {
    await Promise.all([
      ...Array.from({ length: o.producers }, produce),
      ...Array.from({ length: o.consumers }, () => consume(done)),
    ]);
  });
}
