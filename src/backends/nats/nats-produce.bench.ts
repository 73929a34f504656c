import { randomBytes } from "node:crypto";
import { StorageType, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type NatsConnection, createInbox, headers } from "@nats-io/transport-node";
import type { CompressionType } from "../../messaging/topics/topic-producer.js";
import { machineInfo } from "../../observability/index.js";
import { natsConnection } from "./nats-connection.js";
import { PRODUCER_DUPLICATE_WINDOW_MS } from "./partition-stream.js";
import { NatsTopicService } from "./nats-topic-service.js";

export interface NatsProduceBenchOptions {
  /** NATS servers, e.g. "nats://127.0.0.1:4222". */
  readonly servers: string;
  readonly replicas: number;
  readonly numRecords: number;
  readonly recordSize: number;
  readonly partitions: number;
  /** Records sent and not yet acknowledged, at most (both sides). */
  readonly inFlight: number;
  readonly batchSize: number;
  readonly lingerMs: number;
  readonly compression: CompressionType;
  /** Run the timed sides in the reverse order (plain sides first, Sluice last). */
  readonly reverse?: boolean;
  readonly quiet: boolean;
}

export const defaultNatsProduceBenchOptions: NatsProduceBenchOptions = {
  servers: "nats://127.0.0.1:4222",
  replicas: 1,
  numRecords: 50_000,
  recordSize: 100,
  partitions: 1,
  inFlight: 1000,
  batchSize: 16384,
  lingerMs: 5,
  compression: "none",
  quiet: false,
};

export interface NatsProduceBenchResult {
  readonly benchmark: "nats-produce";
  readonly parameters: Omit<NatsProduceBenchOptions, "quiet">;
  readonly machine: ReturnType<typeof machineInfo>;
  /** Records/s through Sluice's producer into a topic on JetStream (one stream per partition). */
  readonly sluiceRecordsPerSec: number;
  /**
   * Records/s through Sluice's producer with `idempotent: false`: no `Nats-Msg-Id`, nothing for
   * the servers to deduplicate, the same work as the bare pipelined client but for the record's
   * timestamp header.
   */
  readonly sluiceNonIdempotentRecordsPerSec: number;
  /** Records/s of the plain client publishing the same records into one stream per partition. */
  readonly plainRecordsPerSec: number;
  /**
   * Records/s of the plain client publishing with its acks pipelined (`nc.publish` with a reply
   * subject per record under one inbox, as Sluice's producer does): the most a client gets.
   */
  readonly pipelinedRecordsPerSec: number;
  /**
   * The pipelined plain client again, each record with what Sluice's idempotent producer sends
   * beside the value: a `Nats-Msg-Id` (which the servers deduplicate by, in a stream with the
   * same duplicate window) and a timestamp header.
   */
  readonly pipelinedIdsRecordsPerSec: number;
  /** Sluice's throughput as a share of the plain client's (`js.publish`). */
  readonly ratio: number;
  /** Sluice's throughput as a share of the pipelined plain client's. */
  readonly pipelinedRatio: number;
  /** Sluice's throughput as a share of the pipelined plain client's sending ids and timestamps. */
  readonly pipelinedIdsRatio: number;
  /** The non-idempotent producer's throughput as a share of the bare pipelined client's. */
  readonly nonIdempotentPipelinedRatio: number;
  /** CPU time of this process per record (user + system), each side. */
  readonly sluiceCpuMicrosPerRecord: number;
  readonly sluiceNonIdempotentCpuMicrosPerRecord: number;
  readonly plainCpuMicrosPerRecord: number;
  readonly pipelinedCpuMicrosPerRecord: number;
  readonly pipelinedIdsCpuMicrosPerRecord: number;
}

/** Records each side sends untimed before a run's timed rounds. */
const WARM_UP_RECORDS = 20_000;

/** How the plain client publishes: a request per record, or pipelined, bare or with ids. */
type PlainMode = "request" | "pipelined" | "pipelined-ids";

/** Runs `send` for every record with at most `inFlight` unacknowledged; returns records/s and CPU µs/record. */
async function drive(
  o: NatsProduceBenchOptions,
  send: (i: number) => Promise<unknown>,
): Promise<{ perSec: number; cpuMicros: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < o.numRecords; i++) {
    const p = send(i).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= o.inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    perSec: (o.numRecords * 1000) / elapsed,
    cpuMicros: (used.user + used.system) / o.numRecords,
  };
}

/**
 * kafka-producer-perf-test's workload on JetStream, through Sluice and through the plain client
 * in the same run: `numRecords` records of `recordSize` bytes, round-robin over `partitions`,
 * at most `inFlight` unacknowledged at a time.
 */
export async function runNatsProduceBench(
  options: NatsProduceBenchOptions,
): Promise<NatsProduceBenchResult> {
  const { nc } = await natsConnection({ servers: options.servers });
  const namespace = `BENCH${randomBytes(4).toString("hex")}`;
  try {
    // Untimed first rounds of every side, so none pays for compiling and warming its code
    // paths (and the heap growing), whichever runs first. 2,000 records were too few: a side's
    // first 20,000 timed records after them cost 1.3-2.3 times the CPU of the next 20,000.
    const warmUp = { ...options, numRecords: Math.min(WARM_UP_RECORDS, options.numRecords) };
    await sluiceRun(nc, `${namespace}W`, warmUp, true);
    await sluiceRun(nc, `${namespace}WN`, warmUp, false);
    await plainRun(nc, `${namespace}W`, warmUp, "request");
    await plainRun(nc, `${namespace}WP`, warmUp, "pipelined");
    await plainRun(nc, `${namespace}WI`, warmUp, "pipelined-ids");
    // In order, or (reverse) the other way round, so a run of each order can be compared.
    const sides: (() => Promise<{ perSec: number; cpuMicros: number }>)[] = [
      () => sluiceRun(nc, namespace, options, true),
      () => plainRun(nc, namespace, options, "request"),
      () => plainRun(nc, `${namespace}P`, options, "pipelined"),
      () => plainRun(nc, `${namespace}I`, options, "pipelined-ids"),
      () => sluiceRun(nc, `${namespace}N`, options, false),
    ];
    const order = sides.map((_, i) => i);
    if (options.reverse === true) order.reverse();
    const measuredSides: { perSec: number; cpuMicros: number }[] = [];
    for (const i of order) measuredSides[i] = await sides[i]!();
    type Side = { perSec: number; cpuMicros: number };
    const [sluice, plain, pipelined, pipelinedIds, nonIdempotent] = measuredSides as [
      Side,
      Side,
      Side,
      Side,
      Side,
    ];
    const { quiet: _quiet, ...parameters } = options;
    const result: NatsProduceBenchResult = {
      benchmark: "nats-produce",
      parameters,
      machine: machineInfo(),
      sluiceRecordsPerSec: sluice.perSec,
      sluiceNonIdempotentRecordsPerSec: nonIdempotent.perSec,
      plainRecordsPerSec: plain.perSec,
      pipelinedRecordsPerSec: pipelined.perSec,
      pipelinedIdsRecordsPerSec: pipelinedIds.perSec,
      ratio: sluice.perSec / plain.perSec,
      pipelinedRatio: sluice.perSec / pipelined.perSec,
      pipelinedIdsRatio: sluice.perSec / pipelinedIds.perSec,
      nonIdempotentPipelinedRatio: nonIdempotent.perSec / pipelined.perSec,
      sluiceCpuMicrosPerRecord: sluice.cpuMicros,
      sluiceNonIdempotentCpuMicrosPerRecord: nonIdempotent.cpuMicros,
      plainCpuMicrosPerRecord: plain.cpuMicros,
      pipelinedCpuMicrosPerRecord: pipelined.cpuMicros,
      pipelinedIdsCpuMicrosPerRecord: pipelinedIds.cpuMicros,
    };
    if (!options.quiet)
      process.stdout.write(
        `nats-produce (replicas ${options.replicas}, ${options.partitions} partitions): ` +
          `Sluice ${Math.round(sluice.perSec)} records/s (${sluice.cpuMicros.toFixed(0)} µs CPU each), ` +
          `plain JetStream ${Math.round(plain.perSec)} records/s (${plain.cpuMicros.toFixed(0)} µs CPU each), ` +
          `plain pipelined ${Math.round(pipelined.perSec)} records/s (${pipelined.cpuMicros.toFixed(0)} µs CPU each), ` +
          `pipelined with ids ${Math.round(pipelinedIds.perSec)} records/s (${pipelinedIds.cpuMicros.toFixed(0)} µs CPU each), ` +
          `Sluice at ${(result.ratio * 100).toFixed(0)}% of plain, ${(result.pipelinedRatio * 100).toFixed(0)}% of pipelined, ` +
          `${(result.pipelinedIdsRatio * 100).toFixed(0)}% of pipelined with ids; ` +
          `Sluice non-idempotent ${Math.round(nonIdempotent.perSec)} records/s (${nonIdempotent.cpuMicros.toFixed(0)} µs CPU each), ` +
          `${(result.nonIdempotentPipelinedRatio * 100).toFixed(0)}% of pipelined (${options.recordSize} B)\n`,
      );
    return result;
  } finally {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.includes(namespace)) names.push(name);
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
  }
}

async function sluiceRun(
  nc: NatsConnection,
  namespace: string,
  o: NatsProduceBenchOptions,
  idempotent: boolean,
) {
  const service = await NatsTopicService.open({ connection: nc, replicas: o.replicas, namespace });
  try {
    await service.admin.createTopic({ name: "perf", partitions: o.partitions });
    const producer = service.producer({
      partitioner: "round-robin",
      batchSize: o.batchSize,
      lingerMs: o.lingerMs,
      compression: o.compression,
      idempotent,
    });
    const value = Buffer.alloc(o.recordSize, 120);
    const run = await drive(o, () => producer.send({ topic: "perf", value }));
    await producer.close();
    return run;
  } finally {
    await service.close();
  }
}

/**
 * The plain client into one stream per partition: `js.publish` per record ("request"), or an
 * `nc.publish` per record with a reply subject under one inbox, its ack matched by it
 * ("pipelined": the bare value; "pipelined-ids": with a `Nats-Msg-Id` and a timestamp header).
 */
async function plainRun(
  nc: NatsConnection,
  namespace: string,
  o: NatsProduceBenchOptions,
  mode: PlainMode,
) {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const subjects: string[] = [];
  for (let p = 0; p < o.partitions; p++) {
    const subject = `${namespace}.plain.${p}`;
    await jsm.streams.add({
      name: `${namespace}_PLAIN_${p}`,
      subjects: [subject],
      storage: StorageType.File,
      num_replicas: o.replicas,
      duplicate_window: PRODUCER_DUPLICATE_WINDOW_MS * 1_000_000,
    });
    subjects.push(subject);
  }
  const value = Buffer.alloc(o.recordSize, 120);
  if (mode === "request") return drive(o, (i) => js.publish(subjects[i % subjects.length]!, value));
  const inbox = createInbox();
  const producerId = randomBytes(8).toString("hex");
  const waiting = new Map<string, () => void>();
  const sub = nc.subscribe(`${inbox}.*`, {
    callback: (_error, m) => {
      const token = m.subject.slice(inbox.length + 1);
      JSON.parse(m.string()); // as a client checking its acks would
      waiting.get(token)?.();
      waiting.delete(token);
    },
  });
  try {
    return await drive(
      o,
      (i) =>
        new Promise<void>((resolve) => {
          waiting.set(String(i), resolve);
          const p = i % subjects.length;
          if (mode === "pipelined")
            return nc.publish(subjects[p]!, value, { reply: `${inbox}.${i}` });
          const h = headers();
          h.set("Nats-Msg-Id", `${producerId}-${p}-${i}`);
          h.set("t", String(Date.now()));
          nc.publish(subjects[p]!, value, { reply: `${inbox}.${i}`, headers: h });
        }),
    );
  } finally {
    sub.unsubscribe();
  }
}
