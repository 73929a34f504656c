import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FsyncPolicy } from "../../engine/index.js";
import { machineInfo } from "../../observability/index.js";
import { EmbeddedQueueService } from "../queues/index.js";
import { EmbeddedEventBus } from "./embedded-event-bus.js";
import { PatternIndex, parseEventPattern } from "./patterns/index.js";

export interface BusBenchOptions {
  readonly rules: number;
  /** Rules on the bus in the end-to-end phase (a bus holds at most 300), one of them routing to the queue. */
  readonly e2eRules: number;
  readonly matchMs: number;
  /** Untimed matching before each timed loop, so that the loops time compiled code, not warm-up. */
  readonly warmupMs: number;
  readonly numEvents: number;
  readonly producers: number;
  readonly fsync: "always" | "interval" | "never";
}

export const defaultBusBenchOptions: BusBenchOptions = {
  rules: 1000,
  e2eRules: 300,
  matchMs: 3000,
  warmupMs: 2000,
  numEvents: 100_000,
  producers: 8,
  fsync: "interval",
};

/** A seeded generator, so every run matches the same events against the same rules. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ["placed", "paid", "shipped", "cancelled", "returned", "held"];
const REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1"];

/** An order event of about 1 KiB. */
export function makeEvent(rnd: () => number, i: number): Record<string, unknown> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  return {
    version: "0",
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    "detail-type": pick(["OrderPlaced", "OrderPaid", "OrderShipped"]),
    source: pick(["shop.orders", "shop.payments", "shop.shipping"]),
    account: "000000000000",
    time: "2026-01-01T00:00:00Z",
    region: pick(REGIONS),
    resources: [`arn:aws:shop:::order/${i}`],
    detail: {
      orderId: `o-${i}`,
      status: pick(STATUSES),
      total: Math.round(rnd() * 100_000) / 100,
      currency: pick(["EUR", "USD", "GBP"]),
      customer: {
        id: `c-${Math.floor(rnd() * 5000)}`,
        tier: pick(["gold", "silver", "basic"]),
        email: `user${i}@${pick(["example.com", "shop.test", "mail.org"])}`,
      },
      ip: `10.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)}`,
      sku: `SKU-${pick(["A", "B", "C"])}-${Math.floor(rnd() * 1000)}`,
      items: Array.from({ length: 4 }, (_, k) => ({
        sku: `SKU-${k}-${Math.floor(rnd() * 100)}`,
        qty: 1 + Math.floor(rnd() * 3),
        price: Math.round(rnd() * 5000) / 100,
      })),
      ...(rnd() < 0.3 ? { coupon: `C${Math.floor(rnd() * 100)}` } : {}),
      notes: "x".repeat(420),
    },
  };
}

/** A rule of one of ten kinds, so the index holds every operator. */
export function makePattern(rnd: () => number, i: number): Record<string, unknown> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  switch (i % 10) {
    case 0:
      return {
        source: ["shop.orders"],
        detail: { status: [pick(STATUSES)], customer: { id: [`c-${Math.floor(rnd() * 5000)}`] } },
      };
    case 1:
      return { detail: { customer: { id: [{ prefix: `c-${Math.floor(rnd() * 500)}` }] } } };
    case 2:
      return {
        detail: { total: [{ numeric: [">", Math.floor(rnd() * 900), "<=", 1000] }] },
        region: [pick(REGIONS)],
      };
    case 3:
      return {
        detail: {
          status: [{ "anything-but": [pick(STATUSES), pick(STATUSES)] }],
          customer: { tier: [pick(["gold", "silver"])] },
        },
      };
    case 4:
      return {
        "detail-type": [{ "equals-ignore-case": pick(["orderplaced", "ORDERPAID"]) }],
        detail: { coupon: [{ exists: true }] },
      };
    case 5:
      return {
        detail: { customer: { email: [{ suffix: `${Math.floor(rnd() * 1000)}@mail.org` }] } },
      };
    case 6:
      return {
        detail: { ip: [{ cidr: `10.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 255)}.0/24` }] },
      };
    case 7:
      return {
        detail: { sku: [{ wildcard: `SKU-${pick(["A", "B", "C"])}-${Math.floor(rnd() * 10)}*` }] },
      };
    case 8:
      return {
        $or: [
          { detail: { currency: [pick(["EUR", "GBP"])], status: ["held"] } },
          { detail: { orderId: [`o-${Math.floor(rnd() * 10000)}`] } },
        ],
      };
    default:
      return { detail: { items: { sku: [`SKU-1-${Math.floor(rnd() * 100)}`] } } };
  }
}

/**
 * Matching throughput of the shared index: parsed events, and events as JSON text (walked along
 * the index's paths, not parsed). Per wall-clock second and per second of this process's CPU
 * time (the figure that holds up on a loaded machine).
 */
interface MatchFigures {
  rules: number;
  eventBytes: number;
  eventsPerSecParsed: number;
  eventsPerSecFromJson: number;
  eventsPerCpuSecParsed: number;
  eventsPerCpuSecFromJson: number;
  matchesPerEvent: number;
}

interface EndToEndFigures {
  events: number;
  rules: number;
  putEventsPerSec: number;
  endToEndEventsPerSec: number;
  /** This process's CPU time (user + system) per event, put to delivered. */
  cpuMicrosPerEvent: number;
}

function matchPhase(o: BusBenchOptions): MatchFigures {
  const rnd = random(17);
  const index = new PatternIndex<number>();
  for (let i = 0; i < o.rules; i++) index.set(i, parseEventPattern(makePattern(rnd, i)));
  const texts = Array.from({ length: 2000 }, (_, i) => JSON.stringify(makeEvent(rnd, i)));
  // Parsed as events reach the matcher (JSON.parse gives flat strings; the generator's template
  // strings are concatenations V8 would otherwise flatten or step through in every lookup).
  const events = texts.map((text) => JSON.parse(text) as unknown);
  const eventBytes = texts.reduce((s, t) => s + t.length, 0) / texts.length;
  index.match(events[0]);
  const timed = (
    step: (i: number) => number,
  ): { perSec: number; perCpuSec: number; matchesPerEvent: number } => {
    const warmupStart = performance.now();
    for (let n = 0; performance.now() - warmupStart < o.warmupMs;)
      for (let k = 0; k < 1000; k++, n++) step(n % events.length);
    let n = 0;
    let matches = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    while (performance.now() - start < o.matchMs)
      for (let k = 0; k < 1000; k++, n++) matches += step(n % events.length);
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      perSec: n / seconds,
      perCpuSec: n / ((used.user + used.system) / 1e6),
      matchesPerEvent: matches / n,
    };
  };
  const parsed = timed((i) => index.match(events[i]).length);
  const fromJson = timed((i) => index.matchJson(texts[i]!).length);
  return {
    rules: o.rules,
    eventBytes: Math.round(eventBytes),
    eventsPerSecParsed: Math.round(parsed.perSec),
    eventsPerSecFromJson: Math.round(fromJson.perSec),
    eventsPerCpuSecParsed: Math.round(parsed.perCpuSec),
    eventsPerCpuSecFromJson: Math.round(fromJson.perCpuSec),
    matchesPerEvent: Math.round(parsed.matchesPerEvent * 100) / 100,
  };
}

/** putEvents -> rule -> queue target, end to end, until every event is in the queue. */
async function endToEnd(dir: string, o: BusBenchOptions): Promise<EndToEndFigures> {
  const fsync: FsyncPolicy = o.fsync === "interval" ? { intervalMs: 50 } : o.fsync;
  const queues = await EmbeddedQueueService.open(join(dir, "queues"), { fsync });
  const bus = await EmbeddedEventBus.open(join(dir, "bus"), { queues, fsync });
  try {
    const { QueueUrl } = await queues.createQueue({ QueueName: "sink" });
    await bus.putRule({
      Name: "orders",
      EventPattern: '{"source":["shop.orders"],"detail":{"total":[{"numeric":[">=",0]}]}}',
    });
    await bus.putTargets({
      Rule: "orders",
      Targets: [{ Id: "q", Arn: "arn:aws:sqs:us-east-1:000000000000:sink", InputPath: "$.detail" }],
    });
    // Nine rules on other sources, then rules of the matching phase's mix (no targets: they
    // cost matching, not deliveries), up to `e2eRules` in all.
    for (let i = 0; i < Math.min(9, o.e2eRules - 1); i++)
      await bus.putRule({ Name: `other-${i}`, EventPattern: `{"source":["shop.other-${i}"]}` });
    const rnd = random(23);
    for (let i = 0; i < o.e2eRules - 10; i++)
      await bus.putRule({ Name: `mixed-${i}`, EventPattern: JSON.stringify(makePattern(rnd, i)) });
    const detail = JSON.stringify({ orderId: "o-1", total: 12.5, notes: "x".repeat(100) });
    let next = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    const producer = async (): Promise<void> => {
      while (next < o.numEvents) {
        const count = Math.min(10, o.numEvents - next);
        next += count;
        await bus.putEvents({
          Entries: Array.from({ length: count }, () => ({
            Source: "shop.orders",
            DetailType: "OrderPlaced",
            Detail: detail,
          })),
        });
      }
    };
    await Promise.all(Array.from({ length: o.producers }, producer));
    const acknowledgedMs = performance.now() - start;
    for (;;) {
      const { Attributes } = await queues.getQueueAttributes({
        QueueUrl,
        AttributeNames: ["ApproximateNumberOfMessages"],
      });
      if (Number(Attributes.ApproximateNumberOfMessages) >= o.numEvents) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      events: o.numEvents,
      rules: Math.max(o.e2eRules, 1),
      putEventsPerSec: Math.round(o.numEvents / (acknowledgedMs / 1000)),
      endToEndEventsPerSec: Math.round(o.numEvents / seconds),
      cpuMicrosPerEvent: Math.round(((used.user + used.system) / o.numEvents) * 100) / 100,
    };
  } finally {
    await bus.close();
    await queues.close();
  }
}

/** `sluice bench bus`: pattern matching and putEvents -> rule -> queue. */
export async function runBusBench(
  partial: Partial<BusBenchOptions> = {},
  json = false,
): Promise<object> {
  const o = { ...defaultBusBenchOptions, ...partial };
  const matching = matchPhase(o);
  if (!json)
    process.stdout.write(
      `bus matching: ${matching.rules} rules, ${matching.eventBytes}-byte events: ${matching.eventsPerSecParsed.toLocaleString("en-US")} events/s parsed, ${matching.eventsPerSecFromJson.toLocaleString("en-US")} events/s from JSON text (${matching.matchesPerEvent} matches/event); per CPU second: ${matching.eventsPerCpuSecParsed.toLocaleString("en-US")} parsed, ${matching.eventsPerCpuSecFromJson.toLocaleString("en-US")} from JSON text\n`,
    );
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-bus-"));
  try {
    const e2e = await endToEnd(dir, o);
    if (!json)
      process.stdout.write(
        `bus putEvents -> rule -> queue: ${e2e.events.toLocaleString("en-US")} events, ${e2e.rules} rules, ${e2e.endToEndEventsPerSec.toLocaleString("en-US")} events/s end to end (${e2e.putEventsPerSec.toLocaleString("en-US")} events/s acknowledged; ${e2e.cpuMicrosPerEvent} µs of CPU per event), fsync ${o.fsync}\n`,
      );
    return {
      benchmark: "bus",
      parameters: o,
      machine: machineInfo(),
      note: "one Node.js process on one core",
      matching,
      endToEnd: e2e,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
