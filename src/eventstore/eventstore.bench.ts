import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresEventStore } from "../backends/postgres/postgres-event-store.js";
import { LatencyHistogram, PeakRss, machineInfo } from "../observability/index.js";
import { VirtualClock } from "../time/index.js";
import { aggregateStream } from "./aggregates/aggregate-stream.js";
import { EmbeddedEventStore } from "./embedded-event-store.js";
import type { EventStore } from "./event-store.js";
import { MemoryReadModel } from "./projections/memory-read-model.js";
import type { Projection } from "./projections/projection.js";
import { projectionStateAsOf } from "./projections/projection-snapshots.js";
import { ProjectionRunner } from "./projections/projection-runner.js";
import { EventStoreSnapshotStore } from "./snapshots/snapshot-store.js";
import { bankAccount } from "./test-support/bank-account.js";

export interface EventStoreBenchOptions {
  readonly backend: "embedded" | "postgres";
  readonly postgresUrl: string;
  /** Events of the append phase. */
  readonly appendEvents: number;
  readonly historyEvents: number;
  readonly historyStreams: number;
  readonly lagSeconds: number;
  readonly quiet: boolean;
}

const YEAR_MS = 365 * 86_400_000;

async function openStore(
  options: EventStoreBenchOptions,
  clock?: VirtualClock,
): Promise<{ store: EventStore; cleanup: () => Promise<void> }> {
  if (options.backend === "embedded") {
    const dir = mkdtempSync(join(tmpdir(), "sluice-es-bench-"));
    const store = await EmbeddedEventStore.open(dir, {
      // In virtual time the default 50 ms fsync timer would fire some 3,000 times for each
      // append of the year of history (one virtual step is about 160 s), and generating the
      // history took hours; what that phase measures is reading, not durability.
      ...(clock === undefined ? {} : { clock, fsync: "never" as const }),
    });
    return {
      store,
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  // A schema of its own, dropped afterwards: runs beside tests or other runs never collide.
  const schema = `sluice_bench_${process.pid}_${randomBytes(4).toString("hex")}`;
  const store = await PostgresEventStore.open({
    connection: options.postgresUrl,
    schema,
    poolSize: 10,
    ...(clock === undefined ? {} : { clock }),
  });
  return {
    store,
    cleanup: async () => {
      await PostgresEventStore.dropSchema(store.pool, schema);
      await store.close();
    },
  };
}

const amount = (i: number): { amount: number } => ({ amount: (i % 100) + 1 });

/**
 * CPU seconds this process used since `start`: on a shared machine, events per CPU second says
 * what the code costs even when the wall clock mostly measures the queue for a core. (It counts
 * only this process: PostgreSQL's own work is not in it.)
 */
function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** Appends: 1,000 streams, 10 events per append, 8 concurrent writers. */
async function appendPhase(store: EventStore, total: number): Promise<object> {
  const writers = 8;
  const perAppend = 10;
  const appends = Math.ceil(total / perAppend);
  let next = 0;
  const latency = new LatencyHistogram();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < appends) {
        const n = next++;
        const t = performance.now();
        await store.appendToStream(
          `account-${n % 1000}`,
          Array.from({ length: perAppend }, (_, i) => ({ type: "Deposited", data: amount(n + i) })),
        );
        latency.recordMs(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    events: appends * perAppend,
    eventsPerSec: (appends * perAppend) / seconds,
    eventsPerCpuSec: (appends * perAppend) / cpuSecondsSince(cpu),
    appendLatency: latency.summary(),
  };
}

/** Reads one stream of 10,000 events, whole, several times. */
async function readPhase(store: EventStore): Promise<object> {
  for (let i = 0; i < 1000; i++)
    await store.appendToStream(
      "long",
      Array.from({ length: 10 }, (_, j) => ({ type: "Deposited", data: amount(i + j) })),
    );
  let events = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  while (performance.now() - started < 2000) {
    events += (await store.readStream("long", { maxCount: 10_000 })).events.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    streamLength: 10_000,
    eventsPerSec: events / seconds,
    eventsPerCpuSec: events / cpuSecondsSince(cpu),
  };
}

const totals: Projection = {
  name: "totals",
  async apply(event, tx) {
    const key = event.stream;
    tx.put(
      key,
      (((await tx.get(key)) as number | undefined) ?? 0) +
        (event.data as { amount: number }).amount,
    );
  },
};

/** Async projection lag at a fixed offered rate of 5,000 events/s (appends of 10). */
async function lagPhase(store: EventStore, seconds: number): Promise<object> {
  const runner = new ProjectionRunner(store, totals, new MemoryReadModel(), { batchSize: 1000 });
  await runner.rebuild();
  runner.start();
  const rate = 5000;
  const perAppend = 10;
  const intervalMs = (1000 * perAppend) / rate;
  const started = performance.now();
  let sent = 0;
  const inFlight: Promise<unknown>[] = [];
  while (performance.now() - started < seconds * 1000) {
    const due = started + (sent / perAppend) * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      store.appendToStream(
        `lag-${sent % 500}`,
        Array.from({ length: perAppend }, (_, i) => ({ type: "Deposited", data: amount(i) })),
      ),
    );
    sent += perAppend;
    if (inFlight.length > 64) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await runner.waitFor(await store.headPosition());
  await runner.stop();
  return { offeredEventsPerSec: rate, events: sent, lag: runner.lag.summary() };
}

/** Rebuild speed of an in-memory projection over everything written so far. */
async function rebuildPhase(store: EventStore): Promise<object> {
  const runner = new ProjectionRunner(store, totals, new MemoryReadModel(), { batchSize: 5000 });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await runner.rebuild();
  const seconds = (performance.now() - started) / 1000;
  return {
    events: result.target + 1,
    eventsPerSec: (result.target + 1) / seconds,
    eventsPerCpuSec: (result.target + 1) / cpuSecondsSince(cpu),
  };
}

/** A year of history in virtual time, then state as of random past times. */
async function historyPhase(options: EventStoreBenchOptions): Promise<object> {
  const clock = new VirtualClock(Date.UTC(2025, 0, 1));
  const { store, cleanup } = await openStore(options, clock);
  try {
    const snapshots = new EventStoreSnapshotStore(store);
    const perAppend = 5;
    const appends = Math.ceil(options.historyEvents / perAppend);
    const stepMs = YEAR_MS / appends;
    const versions = new Map<number, number>();
    const snapshotEvery = 10;
    const runner = new ProjectionRunner(store, totals, new MemoryReadModel(), {
      clock,
      batchSize: 5000,
      snapshotEvery: Math.max(10_000, Math.floor(options.historyEvents / 20)),
    });
    const generated = performance.now();
    for (let n = 0; n < appends; n++) {
      const s = (n * 7919) % options.historyStreams;
      const result = await store.appendToStream(
        `acc-${s}`,
        Array.from({ length: perAppend }, (_, i) => ({ type: "Deposited", data: amount(n + i) })),
      );
      const before = versions.get(s) ?? -1;
      versions.set(s, result.nextExpectedVersion);
      if (
        Math.floor(result.nextExpectedVersion / snapshotEvery) > Math.floor(before / snapshotEvery)
      ) {
        const state = await aggregateStream(store, `acc-${s}`, bankAccount, { snapshots });
        await snapshots.save({
          stream: `acc-${s}`,
          version: state.version,
          position: state.position,
          timestamp: clock.now(),
          stateVersion: 1,
          state: state.state as never,
        });
      }
      await clock.advance(stepMs);
      if (n % 20_000 === 0 && !options.quiet)
        process.stdout.write(`history: ${n * perAppend} events\n`);
    }
    const generateSeconds = (performance.now() - generated) / 1000;
    await runner.rebuild();
    const start = Date.UTC(2025, 0, 1);
    const asOf = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) {
      const t = start + ((i * 2654435761) % YEAR_MS);
      const s = (i * 104729) % options.historyStreams;
      const began = performance.now();
      await aggregateStream(store, `acc-${s}`, bankAccount, { snapshots, asOf: { time: t } });
      asOf.recordMs(performance.now() - began);
    }
    const projectionAsOf = new LatencyHistogram();
    for (let i = 0; i < 5; i++) {
      const t = start + ((i * 7 + 3) * YEAR_MS) / 40;
      const began = performance.now();
      await projectionStateAsOf(store, totals, { time: t });
      projectionAsOf.recordMs(performance.now() - began);
    }
    return {
      events: appends * perAppend,
      streams: options.historyStreams,
      generateSeconds,
      aggregateAsOf: asOf.summary(),
      projectionAsOf: projectionAsOf.summary(),
    };
  } finally {
    await cleanup();
  }
}

/** `sluice bench eventstore`: append, read, projection lag, rebuild and time-travel figures. */
export async function runEventStoreBench(options: EventStoreBenchOptions): Promise<object> {
  const rss = new PeakRss();
  const say = (text: string): void => {
    if (!options.quiet) process.stdout.write(`${text}\n`);
  };
  const { store, cleanup } = await openStore(options);
  let result: Record<string, unknown>;
  try {
    type Rate = { eventsPerSec: number; eventsPerCpuSec: number };
    const perCpu = (r: Rate): string => `${Math.round(r.eventsPerCpuSec)} per CPU second`;
    const append = (await appendPhase(store, options.appendEvents)) as Rate;
    say(
      `append: ${Math.round(append.eventsPerSec)} events/s, ${perCpu(append)} (1,000 streams, 10 per append, 8 writers)`,
    );
    const read = (await readPhase(store)) as Rate;
    say(`read: ${Math.round(read.eventsPerSec)} events/s, ${perCpu(read)} (one stream of 10,000)`);
    const lag = (await lagPhase(store, options.lagSeconds)) as { lag: { p99Ms: number } };
    say(`projection lag at 5,000 events/s: p99 ${lag.lag.p99Ms.toFixed(1)} ms`);
    const rebuild = (await rebuildPhase(store)) as Rate;
    say(`rebuild: ${Math.round(rebuild.eventsPerSec)} events/s, ${perCpu(rebuild)}`);
    result = { append, read, lag, rebuild };
  } finally {
    await cleanup();
  }
  if (options.historyEvents > 0) {
    const history = (await historyPhase(options)) as {
      aggregateAsOf: { p95Ms: number };
      projectionAsOf: { maxMs: number };
    };
    say(
      `a year of history (${options.historyEvents} events, ${options.historyStreams} streams): aggregate as of a past time p95 ${history.aggregateAsOf.p95Ms.toFixed(2)} ms, projection as of a past time max ${history.projectionAsOf.maxMs.toFixed(0)} ms`,
    );
    result.history = history;
  }
  return {
    benchmark: "eventstore",
    backend: options.backend,
    machine: machineInfo(),
    ...result,
    peakRssBytes: rss.stop(),
  };
}
