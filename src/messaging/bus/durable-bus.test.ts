import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../time/index.js";
import { EmbeddedQueueService } from "../queues/index.js";
import { prepareEvent } from "./bus-event.js";
import { type CompiledRule, DurableBus, type EventToAppend } from "./durable-bus.js";
import type { BusEvent, BusHandler, Target } from "./event-bus-service.js";
import { compileTargetInput } from "./input-transformer.js";
import { parseEventPattern } from "./patterns/index.js";
import type { TargetWiring } from "./target-sender.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-durable-bus-"));
  dirs.push(dir);
  return dir;
}

function wiring(handlers: Map<string, BusHandler>, queues?: EmbeddedQueueService): TargetWiring {
  return {
    clock: systemClock,
    queues,
    topics: undefined,
    handlers,
    http: { post: () => Promise.resolve(200) },
    forward: () => Promise.resolve(),
    busName: () => undefined,
  };
}

async function openBus(dir: string, cursor: number, wired: TargetWiring): Promise<DurableBus> {
  return DurableBus.open(dir, "b", { clock: systemClock, fsync: "never", wiring: wired, cursor });
}

function addRule(bus: DurableBus, name: string, pattern: object, targets: Target[]): void {
  const rule: CompiledRule = {
    name,
    arn: `arn:aws:events:us-east-1:000000000000:rule/${name}`,
    enabled: true,
    targets: targets.map((target, i) => ({
      target,
      input: compileTargetInput(target, `Targets[${i}]`),
      maxRetries: 0,
      maxAgeMs: 60_000,
    })),
  };
  bus.rules.set(name, rule);
  bus.setRulePattern(name, parseEventPattern(pattern));
}

const handlerArn = (name: string): string =>
  `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** Event `n` as putEvents appends it (text built from the Detail), or as an object. */
function eventNumber(n: number, asText = n % 3 !== 0): EventToAppend {
  const prepared = prepareEvent(
    { Source: "shop", DetailType: "T", Detail: JSON.stringify({ n, pad: "x".repeat(n % 7) }) },
    Date.now(),
    "us-east-1",
    "000000000000",
  );
  if ("ErrorCode" in prepared) throw new Error(prepared.ErrorMessage);
  return asText ? prepared : { event: JSON.parse(prepared.text) as BusEvent };
}

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * A bus whose rules "all" and "other" (both matching every event) each record the events they are given, in the order given;
 * while `gate` is unresolved, the first delivery to "all" waits on it (the dispatcher stalls).
 */
async function recordingBus(dir: string, cursor: number, gate?: Promise<void>) {
  const all: number[] = [];
  const other: number[] = [];
  const handlers = new Map<string, BusHandler>([
    [
      "all",
      async (input) => {
        all.push(numberOf(input));
        if (gate !== undefined) await gate;
      },
    ],
    ["other", (input) => void other.push(numberOf(input))],
  ]);
  const bus = await openBus(dir, cursor, wiring(handlers));
  addRule(bus, "all", { source: ["shop"] }, [{ Id: "h", Arn: handlerArn("all") }]);
  addRule(bus, "other", { detail: { pad: [{ prefix: "" }] }, source: ["shop"] }, [
    { Id: "h", Arn: handlerArn("other") },
  ]);
  return { bus, all, other };
}

const numberOf = (input: unknown): number => (input as { detail: { n: number } }).detail.n;

/** Counts the dispatcher's reads of the log. */
function countReads(bus: DurableBus): { count: number } {
  const reads = { count: 0 };
  const log = bus.log;
  const read = log.read.bind(log);
  Object.assign(log, {
    read: (...args: Parameters<typeof read>) => {
      reads.count++;
      return read(...args);
    },
  });
  return reads;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);

/** Puts events `from` to `to` in calls of 10, several calls at a time, as producers do. */
async function put(bus: DurableBus, from: number, to: number): Promise<void> {
  const calls: Promise<void>[] = [];
  for (let start = from; start < to; start += 10) {
    calls.push(bus.append(range(start, Math.min(start + 10, to)).map((n) => eventNumber(n))));
    if (calls.length === 8) await Promise.all(calls.splice(0));
  }
  await Promise.all(calls);
}

describe("DurableBus dispatch: events handed over in memory and read from the log", () => {
  it("a dispatcher that falls behind reads the log, then takes appends in memory again: each event once per rule, in order", async () => {
    const dir = tempDir();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { bus, all, other } = await recordingBus(dir, 0, gate);
    const reads = countReads(bus);
    bus.start();
    // Caught up: the first events are handed over, and the first delivery stalls the dispatcher.
    await put(bus, 0, 30);
    await until(() => all.length > 0, "the first delivery");
    expect(reads.count).toBe(0);
    // Far more than the hand-over buffer holds arrive while the dispatcher waits.
    await put(bus, 30, 12_500);
    release();
    // Appends go on while it catches up from the log, and after.
    const more = put(bus, 12_500, 14_000);
    await until(() => all.length >= 14_000 && other.length >= 14_000, "every delivery");
    await more;
    expect(reads.count).toBeGreaterThan(0);
    const readsWhenCaughtUp = reads.count;
    await put(bus, 14_000, 14_100);
    await until(() => all.length >= 14_100 && other.length >= 14_100, "the last deliveries");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(all).toEqual(range(0, 14_100));
    expect(other).toEqual(range(0, 14_100));
    expect(bus.safeCursor).toBe(14_100);
    expect(reads.count).toBe(readsWhenCaughtUp);
    await bus.close();
  }, 60_000);

  it("after a crash, events from the saved cursor on are dispatched again in order, then new ones once", async () => {
    const dir = tempDir();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = await recordingBus(join(dir, "bus"), 0, gate);
    first.bus.start();
    await put(first.bus, 0, 40);
    await until(() => first.all.length > 0, "the first delivery");
    await put(first.bus, 40, 600);
    // What a crash leaves: the log as written, the cursor last saved (nothing passed yet).
    const cursor = first.bus.safeCursor;
    expect(cursor).toBe(0);
    cpSync(join(dir, "bus"), join(dir, "crashed"), { recursive: true });
    release();
    await first.bus.close();

    // Reopened behind the log's end; new events arrive while it reads the log back.
    let releaseSecond!: () => void;
    const secondGate = new Promise<void>((resolve) => (releaseSecond = resolve));
    const second = await recordingBus(join(dir, "crashed"), cursor, secondGate);
    const reads = countReads(second.bus);
    second.bus.start();
    await until(() => second.all.length > 0, "the first delivery after the crash");
    await put(second.bus, 600, 900);
    releaseSecond();
    await until(() => second.all.length >= 900 && second.other.length >= 900, "every delivery");
    expect(reads.count).toBeGreaterThan(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(second.all).toEqual(range(0, 900));
    expect(second.other).toEqual(range(0, 900));
    await second.bus.close();
  }, 60_000);

  it("queue targets get the same bodies from events handed over and from events read back", async () => {
    const dir = tempDir();
    const queues = await EmbeddedQueueService.open(join(dir, "queues"), { fsync: "never" });
    const names = ["whole", "detail", "nested", "source"] as const;
    const urls = new Map<string, string>();
    for (const name of names)
      urls.set(name, (await queues.createQueue({ QueueName: name })).QueueUrl);
    const targets: Target[] = [
      { Id: "whole", Arn: "arn:aws:sqs:us-east-1:000000000000:whole" },
      { Id: "detail", Arn: "arn:aws:sqs:us-east-1:000000000000:detail", InputPath: "$.detail" },
      {
        Id: "nested",
        Arn: "arn:aws:sqs:us-east-1:000000000000:nested",
        InputPath: "$.detail.items[1]",
      },
      { Id: "source", Arn: "arn:aws:sqs:us-east-1:000000000000:source", InputPath: "$.source" },
    ];
    const details = [
      '{"items":[1,{"a":"b\\"c"}],"n":0}',
      '{ "items" : [ 1, { "a" : 2.50 } ], "n": 1 }',
      '{"items":[{"x":1}],"z":"\\u00e9"}',
      '{"n":3}',
    ];
    const events = details.map((Detail) => {
      const prepared = prepareEvent(
        { Source: "shop", DetailType: "T", Detail },
        Date.now(),
        "us-east-1",
        "000000000000",
      );
      if ("ErrorCode" in prepared) throw new Error(prepared.ErrorMessage);
      return prepared;
    });
    // A canonical Detail goes in as it is, with its place known; others are serialised.
    expect(events.map((e) => e.detailStart >= 0)).toEqual([true, false, false, true]);
    const expected = new Map<string, string[]>(names.map((name) => [name, []]));
    for (const { text } of events) {
      const event = JSON.parse(text) as BusEvent;
      expect(text).toBe(JSON.stringify(event));
      expected.get("whole")!.push(text);
      expected.get("detail")!.push(JSON.stringify(event.detail));
      const item = (event.detail as { items?: unknown[] }).items?.[1];
      if (item !== undefined) expected.get("nested")!.push(JSON.stringify(item));
      expected.get("source")!.push(event.source);
    }
    const bodies = async (): Promise<Map<string, string[]>> => {
      const got = new Map<string, string[]>();
      for (const name of names) {
        const messages = await queues.receiveMessage({
          QueueUrl: urls.get(name)!,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
        });
        got.set(
          name,
          messages.Messages.map((m) => m.Body),
        );
        for (const m of messages.Messages)
          await queues.deleteMessage({ QueueUrl: urls.get(name)!, ReceiptHandle: m.ReceiptHandle });
      }
      return got;
    };
    const depth = async (name: string): Promise<number> =>
      Number(
        (
          await queues.getQueueAttributes({
            QueueUrl: urls.get(name)!,
            AttributeNames: ["ApproximateNumberOfMessages"],
          })
        ).Attributes.ApproximateNumberOfMessages,
      );

    // Handed over: the dispatcher is caught up when they are appended.
    let bus = await openBus(join(dir, "bus"), 0, wiring(new Map(), queues));
    addRule(bus, "r", { source: ["shop"] }, targets);
    const reads = countReads(bus);
    bus.start();
    await bus.append(events);
    for (let i = 0; i < 2000 && (await depth("whole")) < events.length; i++)
      await new Promise((resolve) => setTimeout(resolve, 2));
    expect(await bodies()).toEqual(expected);
    expect(reads.count).toBe(0);
    await bus.close();

    // Read back: a dispatcher opened at the start of the same log.
    bus = await openBus(join(dir, "bus"), 0, wiring(new Map(), queues));
    addRule(bus, "r", { source: ["shop"] }, targets);
    bus.start();
    for (let i = 0; i < 2000 && (await depth("whole")) < events.length; i++)
      await new Promise((resolve) => setTimeout(resolve, 2));
    expect(await bodies()).toEqual(expected);
    await bus.close();
    await queues.close();
  });
});
