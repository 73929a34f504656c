/**
 * The conformance suite every `EventBusService` backend must pass: EventBridge's observable
 * semantics (buses, rules, pattern errors, putEvents limits and per-entry results, targets and
 * their input settings, retries and dead letters, archives, replays and their states, scheduled
 * rules) and, where the backend has storage, delivery across a close and reopen. Time runs on a
 * `VirtualClock`.
 */
import { afterEach, describe, expect } from "vitest";
import { conformanceIt } from "../conformance-skips.js";
import type { SluiceError } from "../../errors/index.js";
import { VirtualClock } from "../../time/virtual-clock.js";
import type { PubSubService } from "../pubsub/pubsub-service.js";
import type { Message, QueueService } from "../queues/index.js";
import type {
  EventBusService,
  PutEventsRequestEntry,
  ReplayState,
  Tag,
} from "./event-bus-service.js";

/** An event bus and the queue and pub/sub services its targets deliver to. */
export interface BusUnderTest {
  readonly bus: EventBusService;
  readonly queues: QueueService;
  readonly topics: PubSubService;
}

export interface BusConformanceHarness {
  readonly name: string;
  open(clock: VirtualClock): Promise<BusUnderTest>;
  reopen?(services: BusUnderTest, clock: VirtualClock): Promise<BusUnderTest>;
  close(services: BusUnderTest): Promise<void>;
  /** Tests this backend cannot pass, by name, with the reason (reported as skipped). */
  readonly skips?: Readonly<Record<string, string>>;
}

const ACCOUNT = "000000000000";
const queueArn = (name: string): string => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
const busArn = (name: string): string => `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${name}`;
const lambdaArn = (name: string): string => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

/** A dead-lettered message's attributes, by name, as their string values. */
const attributesOf = (message: Message): Record<string, string | undefined> =>
  Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      value.StringValue,
    ]),
  );

async function rejection(promise: Promise<unknown>): Promise<SluiceError & { ebError?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as SluiceError & { ebError?: string };
  }
  throw new Error("expected a rejection");
}

const order = (
  detail: Record<string, unknown>,
  extra: Partial<PutEventsRequestEntry> = {},
): PutEventsRequestEntry => ({
  Source: "shop.orders",
  DetailType: "OrderPlaced",
  Detail: JSON.stringify(detail),
  ...extra,
});

/** Runs the suite against one backend. */
export function describeBusConformance(harness: BusConformanceHarness): void {
  const { it, checkSkips } = conformanceIt(harness.skips);
  describe(`EventBusService conformance: ${harness.name}`, () => {
    let clock: VirtualClock;
    let services: BusUnderTest | undefined;

    const open = async (): Promise<BusUnderTest> => {
      clock = new VirtualClock(Date.UTC(2026, 0, 1));
      services = await harness.open(clock);
      return services;
    };

    afterEach(async () => {
      if (services !== undefined) await harness.close(services);
      services = undefined;
    });

    async function until(
      done: () => boolean | Promise<boolean>,
      maxMs = 600_000,
      stepMs = 100,
    ): Promise<void> {
      for (let waited = 0; waited <= maxMs; waited += stepMs) {
        if (await done()) return;
        await clock.advance(stepMs);
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
          MessageSystemAttributeNames: ["MessageGroupId"],
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

    describe("buses and rules", () => {
      it("a rule or archive made while its bus is deleted does not outlive it", async () => {
        const { bus } = await open();
        await bus.createEventBus({ Name: "b" });
        // A rule to drop makes the delete take a few turns.
        await bus.putRule({ Name: "r1", EventBusName: "b", EventPattern: '{"source":["a"]}' });
        const deleted = bus.deleteEventBus({ Name: "b" });
        const outcome = (made: Promise<unknown>) =>
          made.then(
            () => "made",
            (error: unknown) => (error as { ebError?: string }).ebError,
          );
        const rule = outcome(
          bus.putRule({ Name: "r2", EventBusName: "b", EventPattern: '{"source":["b"]}' }),
        );
        const archive = outcome(
          bus.createArchive({ ArchiveName: "arc", EventSourceArn: busArn("b") }),
        );
        await deleted;
        // Each came before the delete (and went with the bus) or found the bus gone.
        expect(["made", "ResourceNotFoundException"]).toContain(await rule);
        expect(["made", "ResourceNotFoundException"]).toContain(await archive);
        await bus.createEventBus({ Name: "b" });
        expect((await bus.listRules({ EventBusName: "b" })).Rules).toEqual([]);
        expect((await bus.listArchives({})).Archives).toEqual([]);
      });

      it("a bus created twice at once is created once; a tag given meanwhile is kept", async () => {
        const { bus } = await open();
        const tagged = bus
          .tagResource({ ResourceARN: busArn("twice"), Tags: [{ Key: "late", Value: "1" }] })
          .then(
            () => true,
            (error: unknown) => {
              // Before the bus exists a tag is refused as for any missing resource.
              expect((error as { ebError?: string }).ebError).toBe("ResourceNotFoundException");
              return false;
            },
          );
        const outcomes = await Promise.allSettled([
          bus.createEventBus({ Name: "twice", Tags: [{ Key: "team", Value: "shop" }] }),
          bus.createEventBus({ Name: "twice" }),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
        expect(
          ((outcomes[1] as PromiseRejectedResult).reason as { ebError?: string }).ebError,
        ).toBe("ResourceAlreadyExistsException");
        await bus.tagResource({
          ResourceARN: busArn("twice"),
          Tags: [{ Key: "after", Value: "2" }],
        });
        const keys = (await bus.listTagsForResource({ ResourceARN: busArn("twice") })).Tags.map(
          (t) => t.Key,
        );
        expect(keys.sort()).toEqual((await tagged) ? ["after", "late", "team"] : ["after", "team"]);
        expect((await bus.listEventBuses()).EventBuses.map((b) => b.Name)).toEqual([
          "default",
          "twice",
        ]);
      });

      it("a default bus plus named ones; rules are created, described, listed, disabled and deleted", async () => {
        const { bus } = await open();
        expect((await bus.listEventBuses()).EventBuses.map((b) => b.Name)).toEqual(["default"]);
        expect((await bus.createEventBus({ Name: "orders" })).EventBusArn).toBe(busArn("orders"));
        expect((await rejection(bus.createEventBus({ Name: "orders" }))).ebError).toBe(
          "ResourceAlreadyExistsException",
        );
        const { RuleArn } = await bus.putRule({
          Name: "big",
          EventBusName: "orders",
          EventPattern: '{"detail":{"total":[{"numeric":[">",100]}]}}',
        });
        expect(RuleArn).toBe(`arn:aws:events:us-east-1:${ACCOUNT}:rule/orders/big`);
        expect(await bus.describeRule({ Name: "big", EventBusName: "orders" })).toMatchObject({
          Name: "big",
          State: "ENABLED",
          EventBusName: "orders",
        });
        await bus.disableRule({ Name: "big", EventBusName: "orders" });
        expect((await bus.listRules({ EventBusName: "orders" })).Rules.map((r) => r.State)).toEqual(
          ["DISABLED"],
        );
        await bus.deleteRule({ Name: "big", EventBusName: "orders" });
        expect(
          (await rejection(bus.describeRule({ Name: "big", EventBusName: "orders" }))).ebError,
        ).toBe("ResourceNotFoundException");
        expect(
          (
            await rejection(
              bus.putRule({ Name: "r", EventBusName: "nope", EventPattern: '{"a":["b"]}' }),
            )
          ).ebError,
        ).toBe("ResourceNotFoundException");
      });

      it("invalid patterns are refused, naming the path and the operator", async () => {
        const { bus } = await open();
        const error = await rejection(
          bus.putRule({ Name: "r", EventPattern: '{"detail":{"state":[{"prefixx":"a"}]}}' }),
        );
        expect(error.ebError).toBe("InvalidEventPatternException");
        expect(error.field).toBe("EventPattern.detail.state[0]");
        expect(error.message).toContain("Event pattern is not valid. Reason:");
        expect(error.message).toContain("prefixx");
        expect(
          (await rejection(bus.putRule({ Name: "bad name!", EventPattern: '{"a":["b"]}' }))).field,
        ).toBe("Name");
        expect((await rejection(bus.putRule({ Name: "r" }))).ebError).toBe("ValidationException");
      });

      it("testEventPattern", async () => {
        const { bus } = await open();
        const event = JSON.stringify({
          id: "1",
          account: ACCOUNT,
          source: "shop",
          time: "2026-01-01T00:00:00Z",
          region: "us-east-1",
          "detail-type": "x",
          resources: [],
          detail: { n: 5 },
        });
        expect(
          (
            await bus.testEventPattern({
              EventPattern: '{"detail":{"n":[{"numeric":[">",1]}]}}',
              Event: event,
            })
          ).Result,
        ).toBe(true);
        expect(
          (await bus.testEventPattern({ EventPattern: '{"detail":{"n":[6]}}', Event: event }))
            .Result,
        ).toBe(false);
        expect(
          (await rejection(bus.testEventPattern({ EventPattern: '{"detail":[]}', Event: event })))
            .ebError,
        ).toBe("InvalidEventPatternException");
      });
    });

    describe("putEvents and targets", () => {
      it("routes matching events to a queue target, in EventBridge's envelope", async () => {
        const { bus, queues } = await open();
        await queues.createQueue({ QueueName: "big" });
        await bus.putRule({
          Name: "big",
          EventPattern: JSON.stringify({
            source: ["shop.orders"],
            detail: { total: [{ numeric: [">=", 100] }] },
          }),
        });
        await bus.putTargets({ Rule: "big", Targets: [{ Id: "q", Arn: queueArn("big") }] });
        const result = await bus.putEvents({
          Entries: [
            order({ total: 150 }, { Resources: ["r1"] }),
            order({ total: 5 }),
            order({ total: 300 }, { Source: "other" }),
          ],
        });
        expect(result.FailedEntryCount).toBe(0);
        const [m] = await drain(queues, "big", 1);
        const event = JSON.parse(m!.Body) as Record<string, unknown>;
        expect(event).toMatchObject({
          version: "0",
          id: result.Entries[0]!.EventId,
          source: "shop.orders",
          "detail-type": "OrderPlaced",
          account: ACCOUNT,
          region: "us-east-1",
          resources: ["r1"],
          detail: { total: 150 },
          time: "2026-01-01T00:00:00Z",
        });
        await expectEmpty(queues, "big");
      });

      it("per-entry errors and request limits", async () => {
        const { bus } = await open();
        const result = await bus.putEvents({
          Entries: [
            order({}),
            { Source: "", DetailType: "x", Detail: "{}" },
            { Source: "s", DetailType: "x", Detail: "{not json" },
            order({}, { EventBusName: "missing" }),
          ],
        });
        expect(result.FailedEntryCount).toBe(3);
        expect(result.Entries.map((e) => e.ErrorCode ?? "ok")).toEqual([
          "ok",
          "InvalidArgument",
          "MalformedDetail",
          "ResourceNotFoundException",
        ]);
        expect(
          (await rejection(bus.putEvents({ Entries: Array.from({ length: 11 }, () => order({})) })))
            .field,
        ).toBe("Entries");
        expect(
          (await rejection(bus.putEvents({ Entries: [order({ big: "x".repeat(256 * 1024) })] })))
            .message,
        ).toContain("over the limit");
      });

      it("Input, InputPath and InputTransformer shape what a target gets", async () => {
        const { bus, queues } = await open();
        for (const q of ["constant", "part", "shaped"]) await queues.createQueue({ QueueName: q });
        await bus.putRule({ Name: "all", EventPattern: '{"source":["shop.orders"]}' });
        await bus.putTargets({
          Rule: "all",
          Targets: [
            { Id: "c", Arn: queueArn("constant"), Input: '{"fixed":1}' },
            { Id: "p", Arn: queueArn("part"), InputPath: "$.detail" },
            {
              Id: "s",
              Arn: queueArn("shaped"),
              InputTransformer: {
                InputPathsMap: { id: "$.detail.id" },
                InputTemplate: '{"order":<id>,"text":"order <id> by <aws.events.rule-name>"}',
              },
            },
          ],
        });
        await bus.putEvents({ Entries: [order({ id: "o-1", total: 3 })] });
        expect(JSON.parse((await drain(queues, "constant", 1))[0]!.Body)).toEqual({ fixed: 1 });
        expect(JSON.parse((await drain(queues, "part", 1))[0]!.Body)).toEqual({
          id: "o-1",
          total: 3,
        });
        expect(JSON.parse((await drain(queues, "shaped", 1))[0]!.Body)).toEqual({
          order: "o-1",
          text: "order o-1 by all",
        });
        const bad = await bus.putTargets({
          Rule: "all",
          Targets: [{ Id: "x", Arn: queueArn("q"), InputPath: "detail" }],
        });
        expect(bad.FailedEntries[0]?.ErrorMessage).toContain("Targets[0].InputPath");
      });

      it("handlers, other buses and topics as targets", async () => {
        const { bus, queues, topics } = await open();
        const got: unknown[] = [];
        bus.registerHandler("audit", (input) => {
          got.push(input);
        });
        await bus.createEventBus({ Name: "downstream" });
        await queues.createQueue({ QueueName: "down" });
        await queues.createQueue({ QueueName: "via-topic" });
        const { TopicArn } = await topics.createTopic({ Name: "fanout" });
        await topics.subscribe({
          TopicArn,
          Protocol: "sqs",
          Endpoint: queueArn("via-topic"),
          Attributes: { RawMessageDelivery: "true" },
        });
        await bus.putRule({ Name: "all", EventPattern: '{"source":["shop.orders"]}' });
        await bus.putTargets({
          Rule: "all",
          Targets: [
            { Id: "h", Arn: lambdaArn("audit"), InputPath: "$.detail.id" },
            { Id: "b", Arn: busArn("downstream") },
            { Id: "t", Arn: TopicArn, InputPath: "$.detail" },
          ],
        });
        await bus.putRule({
          Name: "down",
          EventBusName: "downstream",
          EventPattern: '{"detail-type":["OrderPlaced"]}',
        });
        await bus.putTargets({
          Rule: "down",
          EventBusName: "downstream",
          Targets: [{ Id: "q", Arn: queueArn("down") }],
        });
        await bus.putEvents({ Entries: [order({ id: "o-9" })] });
        await until(() => got.length === 1);
        expect(got).toEqual(["o-9"]);
        expect(JSON.parse((await drain(queues, "down", 1))[0]!.Body)).toMatchObject({
          detail: { id: "o-9" },
        });
        expect(JSON.parse((await drain(queues, "via-topic", 1))[0]!.Body)).toEqual({ id: "o-9" });
      });

      it("a bus deleted and created again under its name starts empty, even while the delete runs", async () => {
        const { bus } = await open();
        const seen: string[] = [];
        bus.registerHandler("seen", (input) => {
          seen.push((input as { detail: { id: string } }).detail.id);
        });
        const rule = { Name: "all", EventBusName: "b", EventPattern: '{"source":["shop.orders"]}' };
        const target = {
          Rule: "all",
          EventBusName: "b",
          Targets: [{ Id: "h", Arn: lambdaArn("seen") }],
        };
        await bus.createEventBus({ Name: "b" });
        await bus.putRule(rule);
        await bus.putTargets(target);
        await bus.putEvents({ Entries: [{ ...order({ id: "old" }), EventBusName: "b" }] });
        await until(() => seen.length === 1);
        const deleting = bus.deleteEventBus({ Name: "b" });
        await bus.createEventBus({ Name: "b" });
        await deleting;
        await bus.putRule(rule);
        await bus.putTargets(target);
        await bus.putEvents({ Entries: [{ ...order({ id: "new" }), EventBusName: "b" }] });
        await until(() => seen.length >= 2);
        await clock.advance(2_000);
        expect(seen).toEqual(["old", "new"]);
      });

      it("a failing target is retried per its retry policy, then dead-lettered with the reason", async () => {
        const { bus, queues } = await open();
        await queues.createQueue({ QueueName: "dlq" });
        let calls = 0;
        bus.registerHandler("broken", () => {
          calls++;
          throw new Error("downstream is down");
        });
        await bus.putRule({ Name: "r", EventPattern: '{"source":["shop.orders"]}' });
        await bus.putTargets({
          Rule: "r",
          Targets: [
            {
              Id: "h",
              Arn: lambdaArn("broken"),
              RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
              DeadLetterConfig: { Arn: queueArn("dlq") },
            },
          ],
        });
        const { Entries } = await bus.putEvents({ Entries: [order({ id: "o-1" })] });
        const [dead] = await drain(queues, "dlq", 1);
        expect(calls).toBe(4);
        expect(JSON.parse(dead!.Body)).toMatchObject({ id: Entries[0]!.EventId });
        expect(attributesOf(dead!)).toEqual({
          RULE_ARN: `arn:aws:events:us-east-1:${ACCOUNT}:rule/r`,
          TARGET_ARN: lambdaArn("broken"),
          ERROR_CODE: "HANDLER_FAILED",
          ERROR_MESSAGE: expect.stringContaining("downstream is down") as unknown,
          EXHAUSTED_RETRY_CONDITION: "MaximumRetryAttempts",
          RETRY_ATTEMPTS: "3",
        });
      });

      it("a target that keeps failing is given up once the event would be older than MaximumEventAgeInSeconds, before its attempts run out", async () => {
        const { bus, queues } = await open();
        await queues.createQueue({ QueueName: "dlq" });
        const calls: number[] = [];
        bus.registerHandler("down", () => {
          calls.push(clock.now());
          throw new Error("still down");
        });
        const { RuleArn } = await bus.putRule({
          Name: "r",
          EventPattern: '{"source":["shop.orders"]}',
        });
        await bus.putTargets({
          Rule: "r",
          Targets: [
            {
              Id: "h",
              Arn: lambdaArn("down"),
              RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 60 },
              DeadLetterConfig: { Arn: queueArn("dlq") },
            },
          ],
        });
        const t0 = clock.now();
        const { Entries } = await bus.putEvents({ Entries: [order({ id: "o-1" })] });
        const [dead] = await drain(queues, "dlq", 1);
        // Dead-lettered within the minute (drain looks every 100 ms), after a few retries, not 185.
        expect(clock.now() - t0).toBeLessThanOrEqual(60_000 + 100);
        expect(calls.length).toBeGreaterThan(1);
        expect(calls.length).toBeLessThan(1 + 185);
        expect(calls.filter((at) => at - t0 > 60_000)).toEqual([]);
        expect(JSON.parse(dead!.Body)).toMatchObject({
          id: Entries[0]!.EventId,
          detail: { id: "o-1" },
        });
        expect(attributesOf(dead!)).toEqual({
          RULE_ARN: RuleArn,
          TARGET_ARN: lambdaArn("down"),
          ERROR_CODE: "HANDLER_FAILED",
          ERROR_MESSAGE: expect.stringContaining("still down") as unknown,
          EXHAUSTED_RETRY_CONDITION: "MaximumEventAgeInSeconds",
          RETRY_ATTEMPTS: String(calls.length - 1),
        });
        // Given up means no further attempt, however long the target stays down.
        const attempts = calls.length;
        await clock.advance(10 * 60_000);
        expect(calls.length).toBe(attempts);
        await expectEmpty(queues, "dlq");
      });

      it("with no dead-letter queue, an event past MaximumEventAgeInSeconds is dropped: never delivered, even once the target recovers", async () => {
        const { bus } = await open();
        let up = false;
        const calls: number[] = [];
        const delivered: string[] = [];
        bus.registerHandler("flaky", (input) => {
          calls.push(clock.now());
          if (!up) throw new Error("down");
          delivered.push((input as { detail: { id: string } }).detail.id);
        });
        await bus.putRule({ Name: "r", EventPattern: '{"source":["shop.orders"]}' });
        await bus.putTargets({
          Rule: "r",
          Targets: [
            {
              Id: "h",
              Arn: lambdaArn("flaky"),
              RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 60 },
            },
          ],
        });
        const t0 = clock.now();
        await bus.putEvents({ Entries: [order({ id: "old" })] });
        await until(() => calls.length > 1);
        await clock.advance(2 * 60_000);
        const attempts = calls.length;
        expect(attempts).toBeLessThan(1 + 185);
        expect(calls.filter((at) => at - t0 > 60_000)).toEqual([]);
        up = true;
        await clock.advance(10 * 60_000);
        expect(calls.length).toBe(attempts);
        await bus.putEvents({ Entries: [order({ id: "new" })] });
        await until(() => delivered.length > 0);
        await clock.advance(2_000);
        expect(delivered).toEqual(["new"]);
      });

      it("a queue target that does not exist is retried, then dead-lettered; its siblings still get the batch", async () => {
        const { bus, queues } = await open();
        await queues.createQueue({ QueueName: "dlq" });
        await queues.createQueue({ QueueName: "fine" });
        await bus.putRule({ Name: "r", EventPattern: '{"source":["shop.orders"]}' });
        await bus.putTargets({
          Rule: "r",
          Targets: [
            {
              Id: "gone",
              Arn: queueArn("gone"),
              RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
              DeadLetterConfig: { Arn: queueArn("dlq") },
            },
            { Id: "fine", Arn: queueArn("fine"), InputPath: "$.detail.id" },
          ],
        });
        const { Entries } = await bus.putEvents({
          Entries: [order({ id: "o-1" }), order({ id: "o-2" }), order({ id: "o-3" })],
        });
        const dead = await drain(queues, "dlq", 3);
        expect(dead.map((m) => (JSON.parse(m.Body) as { id: string }).id).sort()).toEqual(
          Entries.map((e) => e.EventId).sort(),
        );
        expect(dead[0]!.MessageAttributes?.ERROR_CODE?.StringValue).toBe("SQS_SEND_FAILED");
        const fine = await drain(queues, "fine", 3);
        expect(fine.map((m) => m.Body).sort()).toEqual(["o-1", "o-2", "o-3"]);
      });

      it("a FIFO queue target gets the rule's message group, in the order events were put", async () => {
        const { bus, queues } = await open();
        await queues.createQueue({ QueueName: "ordered.fifo", Attributes: { FifoQueue: "true" } });
        await bus.putRule({ Name: "r", EventPattern: '{"source":["shop.orders"]}' });
        await bus.putTargets({
          Rule: "r",
          Targets: [
            {
              Id: "q",
              Arn: queueArn("ordered.fifo"),
              InputPath: "$.detail.id",
              SqsParameters: { MessageGroupId: "orders" },
            },
          ],
        });
        const ids = Array.from({ length: 10 }, (_, i) => `o-${i}`);
        await bus.putEvents({ Entries: ids.map((id) => order({ id })) });
        const got: string[] = [];
        for (const m of await drain(queues, "ordered.fifo", 10)) {
          expect(m.Attributes?.MessageGroupId).toBe("orders");
          got.push(m.Body);
        }
        expect(got).toEqual(ids);
      });

      it("a disabled rule delivers nothing", async () => {
        const { bus, queues } = await open();
        await queues.createQueue({ QueueName: "q" });
        await bus.putRule({
          Name: "r",
          EventPattern: '{"source":["shop.orders"]}',
          State: "DISABLED",
        });
        await bus.putTargets({ Rule: "r", Targets: [{ Id: "q", Arn: queueArn("q") }] });
        await bus.putEvents({ Entries: [order({})] });
        await expectEmpty(queues, "q");
      });
    });

    describe("archives and replays", () => {
      it("archive matching events; replay a time range to chosen rules, marked with the replay's name", async () => {
        const { bus, queues } = await open();
        for (const q of ["live", "replayed", "other"]) await queues.createQueue({ QueueName: q });
        await bus.createArchive({
          ArchiveName: "orders",
          EventSourceArn: busArn("default"),
          EventPattern: '{"source":["shop.orders"]}',
          RetentionDays: 7,
        });
        await bus.putRule({
          Name: "live-only",
          EventPattern: '{"source":["shop.orders"],"replay-name":[{"exists":false}]}',
        });
        await bus.putTargets({
          Rule: "live-only",
          Targets: [{ Id: "q", Arn: queueArn("live"), InputPath: "$.detail.n" }],
        });
        await bus.putRule({ Name: "replays", EventPattern: '{"source":["shop.orders"]}' });
        await bus.putTargets({
          Rule: "replays",
          Targets: [{ Id: "q", Arn: queueArn("replayed") }],
        });
        await bus.putRule({ Name: "other", EventPattern: '{"source":["shop.orders"]}' });
        await bus.putTargets({
          Rule: "other",
          Targets: [{ Id: "q", Arn: queueArn("other"), InputPath: "$.detail.n" }],
        });
        const t0 = clock.now();
        for (let n = 0; n < 6; n++) {
          await bus.putEvents({
            Entries: [order({ n }), { Source: "noise", DetailType: "x", Detail: "{}" }],
          });
          await clock.advance(60_000);
        }
        expect((await drain(queues, "live", 6)).map((m) => m.Body)).toEqual([
          "0",
          "1",
          "2",
          "3",
          "4",
          "5",
        ]);
        await drain(queues, "replayed", 6);
        await drain(queues, "other", 6);
        await until(
          async () => (await bus.describeArchive({ ArchiveName: "orders" })).EventCount === 6,
        );
        const { State } = await bus.startReplay({
          ReplayName: "fix-1",
          EventSourceArn: `arn:aws:events:us-east-1:${ACCOUNT}:archive/orders`,
          EventStartTime: new Date(t0 + 60_000),
          EventEndTime: new Date(t0 + 4 * 60_000),
          Destination: {
            Arn: busArn("default"),
            FilterArns: [`arn:aws:events:us-east-1:${ACCOUNT}:rule/replays`],
          },
        });
        expect(State).toBe("STARTING");
        await until(
          async () => (await bus.describeReplay({ ReplayName: "fix-1" })).State === "COMPLETED",
        );
        const replayed = (await drain(queues, "replayed", 3)).map(
          (m) => JSON.parse(m.Body) as { detail: { n: number }; "replay-name": string },
        );
        expect(replayed.map((e) => e.detail.n)).toEqual([1, 2, 3]);
        expect(replayed.every((e) => e["replay-name"] === "fix-1")).toBe(true);
        await expectEmpty(queues, "live");
        await expectEmpty(queues, "other");
        expect((await bus.describeArchive({ ArchiveName: "orders" })).EventCount).toBe(6);
        const described = await bus.describeReplay({ ReplayName: "fix-1" });
        expect(described.EventLastReplayedTime?.getTime()).toBe(t0 + 3 * 60_000);
      });

      it("updateArchive changes the pattern, description and retention it is given and keeps the rest", async () => {
        const { bus } = await open();
        const { ArchiveArn } = await bus.createArchive({
          ArchiveName: "a",
          EventSourceArn: busArn("default"),
          EventPattern: '{"source":["first"]}',
          RetentionDays: 7,
          Description: "first events",
        });
        const count = async (): Promise<number> =>
          (await bus.describeArchive({ ArchiveName: "a" })).EventCount;
        const event = (source: string): PutEventsRequestEntry => ({
          Source: source,
          DetailType: "T",
          Detail: "{}",
        });
        await bus.putEvents({ Entries: [event("first"), event("second")] });
        await until(async () => (await count()) === 1);

        const updated = await bus.updateArchive({
          ArchiveName: "a",
          EventPattern: '{"source":["second"]}',
          RetentionDays: 30,
        });
        expect(updated).toMatchObject({ ArchiveArn, State: "ENABLED" });
        expect(updated.CreationTime.getTime()).toBe(clock.now());
        expect(await bus.describeArchive({ ArchiveName: "a" })).toMatchObject({
          EventPattern: '{"source":["second"]}',
          RetentionDays: 30,
          Description: "first events",
        });
        await bus.putEvents({ Entries: [event("first"), event("second")] });
        await until(async () => (await count()) === 2);
        await clock.advance(2_000);
        expect(await count()).toBe(2);
        await bus.updateArchive({
          ArchiveName: "a",
          Description: "second events",
          RetentionDays: 0,
        });
        expect(await bus.describeArchive({ ArchiveName: "a" })).toMatchObject({
          EventPattern: '{"source":["second"]}',
          RetentionDays: 0,
          Description: "second events",
        });
        // Updates made at once each keep the others' fields.
        await Promise.all([
          bus.updateArchive({ ArchiveName: "a", Description: "third events" }),
          bus.updateArchive({ ArchiveName: "a", RetentionDays: 9 }),
          bus.updateArchive({ ArchiveName: "a", EventPattern: '{"source":["third"]}' }),
        ]);
        expect(await bus.describeArchive({ ArchiveName: "a" })).toMatchObject({
          EventPattern: '{"source":["third"]}',
          RetentionDays: 9,
          Description: "third events",
        });

        const refused = async (input: Record<string, unknown>): Promise<unknown[]> => {
          const error = await rejection(bus.updateArchive({ ArchiveName: "a", ...input }));
          return [error.ebError, error.field];
        };
        expect(await refused({ RetentionDays: -1 })).toEqual([
          "ValidationException",
          "RetentionDays",
        ]);
        expect(await refused({ RetentionDays: 1.5 })).toEqual([
          "ValidationException",
          "RetentionDays",
        ]);
        expect(await refused({ Description: "d".repeat(513) })).toEqual([
          "ValidationException",
          "Description",
        ]);
        expect(await refused({ EventPattern: '{"source":"not a list"}' })).toEqual([
          "InvalidEventPatternException",
          "EventPattern.source",
        ]);
        expect(await refused({ ArchiveName: "missing" })).toEqual([
          "ResourceNotFoundException",
          "ArchiveName",
        ]);
        // Refused updates changed nothing; CreateArchive checks the same way.
        expect((await bus.describeArchive({ ArchiveName: "a" })).Description).toBe("third events");
        const created = await rejection(
          bus.createArchive({
            ArchiveName: "b",
            EventSourceArn: busArn("default"),
            Description: "d".repeat(513),
          }),
        );
        expect([created.ebError, created.field]).toEqual(["ValidationException", "Description"]);
      });

      it("replay states, cancel, and bad requests", async () => {
        const { bus } = await open();
        await bus.createArchive({ ArchiveName: "a", EventSourceArn: busArn("default") });
        await bus.putEvents({ Entries: [order({})] });
        await clock.advance(1000);
        const arn = `arn:aws:events:us-east-1:${ACCOUNT}:archive/a`;
        const now = clock.now();
        await bus.startReplay({
          ReplayName: "r1",
          EventSourceArn: arn,
          EventStartTime: new Date(now - 10_000),
          EventEndTime: new Date(now),
          Destination: { Arn: busArn("default") },
        });
        // Whether the cancel comes before the replay ends depends on the backend's speed; the
        // embedded bus's replay is held at each state on the virtual clock in replay-states.test.ts.
        const cancelled = await bus
          .cancelReplay({ ReplayName: "r1" })
          .catch((e: { ebError?: string }) => e.ebError);
        await until(async () =>
          ["COMPLETED", "CANCELLED"].includes(
            (await bus.describeReplay({ ReplayName: "r1" })).State,
          ),
        );
        const final: ReplayState = (await bus.describeReplay({ ReplayName: "r1" })).State;
        expect(
          cancelled === "IllegalStatusException" ? final === "COMPLETED" : final === "CANCELLED",
        ).toBe(true);
        expect((await rejection(bus.cancelReplay({ ReplayName: "r1" }))).ebError).toBe(
          "IllegalStatusException",
        );
        expect(
          (
            await rejection(
              bus.startReplay({
                ReplayName: "r1",
                EventSourceArn: arn,
                EventStartTime: new Date(now - 1000),
                EventEndTime: new Date(now),
                Destination: { Arn: busArn("default") },
              }),
            )
          ).ebError,
        ).toBe("ResourceAlreadyExistsException");
        expect(
          (
            await rejection(
              bus.startReplay({
                ReplayName: "r2",
                EventSourceArn: arn,
                EventStartTime: new Date(now),
                EventEndTime: new Date(now - 1),
                Destination: { Arn: busArn("default") },
              }),
            )
          ).field,
        ).toBe("EventStartTime");
        expect(
          (
            await rejection(
              bus.startReplay({
                ReplayName: "r3",
                EventSourceArn: arn + "x",
                EventStartTime: new Date(now - 1000),
                EventEndTime: new Date(now),
                Destination: { Arn: busArn("default") },
              }),
            )
          ).ebError,
        ).toBe("ResourceNotFoundException");
        expect((await bus.listReplays()).Replays.map((r) => r.ReplayName)).toEqual(["r1"]);
      });
    });

    describe("tags", () => {
      const tag = (Key: string, Value = ""): Tag => ({ Key, Value });

      it("buses and rules take tags at creation; tagResource adds and replaces, untagResource removes, by ARN", async () => {
        const { bus } = await open();
        const tagsOf = async (ResourceARN: string): Promise<Tag[]> =>
          (await bus.listTagsForResource({ ResourceARN })).Tags;
        const { EventBusArn } = await bus.createEventBus({
          Name: "orders",
          Tags: [tag("team", "shop")],
        });
        expect(await tagsOf(EventBusArn)).toEqual([tag("team", "shop")]);
        const { RuleArn } = await bus.putRule({
          Name: "big",
          EventBusName: "orders",
          EventPattern: '{"source":["a"]}',
          Tags: [tag("env", "test")],
        });
        await bus.tagResource({
          ResourceARN: RuleArn,
          Tags: [tag("env", "prod"), tag("owner")],
        });
        expect(await tagsOf(RuleArn)).toEqual([tag("env", "prod"), tag("owner")]);
        // PutRule on an existing rule keeps its tags and ignores the ones it is given.
        await bus.putRule({
          Name: "big",
          EventBusName: "orders",
          EventPattern: '{"source":["b"]}',
          Tags: [tag("ignored")],
        });
        await bus.disableRule({ Name: "big", EventBusName: "orders" });
        await bus.putTargets({
          Rule: "big",
          EventBusName: "orders",
          Targets: [{ Id: "q", Arn: queueArn("nowhere") }],
        });
        expect(await tagsOf(RuleArn)).toEqual([tag("env", "prod"), tag("owner")]);
        await bus.untagResource({ ResourceARN: RuleArn, TagKeys: ["env", "absent"] });
        expect(await tagsOf(RuleArn)).toEqual([tag("owner")]);
        expect(await tagsOf(EventBusArn)).toEqual([tag("team", "shop")]);

        expect(await tagsOf(busArn("default"))).toEqual([]);
        await bus.tagResource({ ResourceARN: busArn("default"), Tags: [tag("k", "v")] });
        expect(await tagsOf(busArn("default"))).toEqual([tag("k", "v")]);

        // A rule deleted and created again under its name starts without tags.
        await bus.deleteRule({ Name: "big", EventBusName: "orders", Force: true });
        expect((await rejection(tagsOf(RuleArn))).ebError).toBe("ResourceNotFoundException");
        await bus.putRule({ Name: "big", EventBusName: "orders", EventPattern: '{"a":["b"]}' });
        expect(await tagsOf(RuleArn)).toEqual([]);
        await bus.deleteRule({ Name: "big", EventBusName: "orders" });
        await bus.deleteEventBus({ Name: "orders" });
        await bus.createEventBus({ Name: "orders" });
        expect(await tagsOf(EventBusArn)).toEqual([]);
      });

      it("at most 50 tags, keys of 1-128 and values of 0-256 characters; unknown ARNs are not found", async () => {
        const { bus } = await open();
        const { RuleArn } = await bus.putRule({ Name: "r", EventPattern: '{"a":["b"]}' });
        const fifty = Array.from({ length: 50 }, (_, i) => tag(`k${i}`, "v"));
        await bus.tagResource({ ResourceARN: RuleArn, Tags: fifty });
        // Replacing values at the limit is not adding tags.
        await bus.tagResource({ ResourceARN: RuleArn, Tags: [tag("k0", "w")] });
        const over = await rejection(
          bus.tagResource({ ResourceARN: RuleArn, Tags: [tag("k50", "v")] }),
        );
        expect([over.ebError, over.field]).toEqual(["ValidationException", "Tags"]);
        expect((await bus.listTagsForResource({ ResourceARN: RuleArn })).Tags).toHaveLength(50);
        await bus.untagResource({ ResourceARN: RuleArn, TagKeys: fifty.map((t) => t.Key) });

        await bus.tagResource({
          ResourceARN: RuleArn,
          Tags: [tag("k".repeat(128), "v".repeat(256))],
        });
        const refused = async (Tags: Tag[]): Promise<unknown[]> => {
          const error = await rejection(bus.tagResource({ ResourceARN: RuleArn, Tags }));
          return [error.ebError, error.field];
        };
        expect(await refused([tag("")])).toEqual(["ValidationException", "Tags[0].Key"]);
        expect(await refused([tag("ok"), tag("k".repeat(129))])).toEqual([
          "ValidationException",
          "Tags[1].Key",
        ]);
        expect(await refused([tag("ok", "v".repeat(257))])).toEqual([
          "ValidationException",
          "Tags[0].Value",
        ]);
        expect(await refused([{ Key: "ok" } as Tag])).toEqual([
          "ValidationException",
          "Tags[0].Value",
        ]);
        const badKeys = await rejection(
          bus.untagResource({ ResourceARN: RuleArn, TagKeys: "k" as unknown as string[] }),
        );
        expect([badKeys.ebError, badKeys.field]).toEqual(["ValidationException", "TagKeys"]);
        const created = await rejection(
          bus.createEventBus({ Name: "tagged", Tags: [tag("k".repeat(129))] }),
        );
        expect(created.field).toBe("Tags[0].Key");
        expect((await bus.listEventBuses()).EventBuses.map((b) => b.Name)).toEqual(["default"]);
        const over51 = Array.from({ length: 51 }, (_, i) => tag(`k${i}`));
        expect(
          (await rejection(bus.putRule({ Name: "r2", EventPattern: '{"a":["b"]}', Tags: over51 })))
            .field,
        ).toBe("Tags");

        for (const ResourceARN of [
          busArn("missing"),
          `arn:aws:events:us-east-1:${ACCOUNT}:rule/missing`,
          `arn:aws:events:us-east-1:${ACCOUNT}:rule/missing-bus/r`,
          `arn:aws:events:us-east-1:${ACCOUNT}:archive/a`,
          queueArn("q"),
        ]) {
          const error = await rejection(bus.listTagsForResource({ ResourceARN }));
          expect([ResourceARN, error.ebError, error.field]).toEqual([
            ResourceARN,
            "ResourceNotFoundException",
            "ResourceARN",
          ]);
        }
        const empty = await rejection(bus.tagResource({ ResourceARN: "", Tags: [tag("k")] }));
        expect([empty.ebError, empty.field]).toEqual(["ValidationException", "ResourceARN"]);
      });
    });

    describe("scheduled rules", () => {
      it("rate(5 minutes) sends a Scheduled Event to the rule's targets every 5 minutes from its creation", async () => {
        const { bus } = await open();
        const fired: { time: string; "detail-type": string; resources: string[] }[] = [];
        bus.registerHandler("tick", (input) => {
          fired.push(input as (typeof fired)[number]);
        });
        await clock.advance(3 * 60_000 + 10_000); // created at 00:03:10
        await bus.putRule({ Name: "every5", ScheduleExpression: "rate(5 minutes)" });
        await bus.putTargets({ Rule: "every5", Targets: [{ Id: "h", Arn: lambdaArn("tick") }] });
        await until(() => fired.length >= 3, 20 * 60_000, 10_000);
        expect(fired.slice(0, 3).map((e) => e.time)).toEqual([
          "2026-01-01T00:08:10Z",
          "2026-01-01T00:13:10Z",
          "2026-01-01T00:18:10Z",
        ]);
        // Put again with the same schedule (a new description), it keeps its beat.
        const before = fired.length;
        await bus.putRule({
          Name: "every5",
          ScheduleExpression: "rate(5 minutes)",
          Description: "d",
        });
        await until(() => fired.length > before, 10 * 60_000, 10_000);
        expect(fired[before]!.time.slice(-4)).toBe(":10Z");
        expect(fired[0]).toMatchObject({
          "detail-type": "Scheduled Event",
          resources: [`arn:aws:events:us-east-1:${ACCOUNT}:rule/every5`],
        });
        await bus.disableRule({ Name: "every5" });
        const count = fired.length;
        await clock.advance(30 * 60_000);
        expect(fired.length).toBe(count);
        expect(
          (await rejection(bus.putRule({ Name: "x", ScheduleExpression: "rate(0 minutes)" })))
            .field,
        ).toBe("ScheduleExpression");
      });

      it("cron(...) fires at the minutes it names, on the clock", async () => {
        const { bus } = await open();
        const fired: string[] = [];
        bus.registerHandler("cron", (input) => {
          fired.push((input as { time: string }).time);
        });
        await clock.advance(3 * 60_000 + 10_000);
        await bus.putRule({ Name: "quarter", ScheduleExpression: "cron(0/15 * * * ? *)" });
        await bus.putTargets({ Rule: "quarter", Targets: [{ Id: "h", Arn: lambdaArn("cron") }] });
        await until(() => fired.length >= 3, 60 * 60_000, 60_000);
        expect(fired.slice(0, 3)).toEqual([
          "2026-01-01T00:15:00Z",
          "2026-01-01T00:30:00Z",
          "2026-01-01T00:45:00Z",
        ]);
      });
    });

    if (harness.reopen !== undefined) {
      const reopen = (s: BusUnderTest, c: VirtualClock): Promise<BusUnderTest> =>
        harness.reopen!(s, c);
      describe("durability", () => {
        it("rules, targets and events still pending delivery survive a reopen (at least once)", async () => {
          const first = await open();
          await first.bus.putRule({ Name: "r", EventPattern: '{"source":["shop.orders"]}' });
          await first.bus.putTargets({ Rule: "r", Targets: [{ Id: "h", Arn: lambdaArn("late") }] });
          await first.bus.putEvents({ Entries: [order({ id: "kept" })] });
          await clock.advance(500);
          services = await reopen(first, clock);
          const got: unknown[] = [];
          services.bus.registerHandler("late", (input) => {
            got.push((input as { detail: { id: string } }).detail.id);
          });
          await until(() => got.length > 0);
          expect(got[0]).toBe("kept");
          expect(
            (await services.bus.listTargetsByRule({ Rule: "r" })).Targets.map((t) => t.Id),
          ).toEqual(["h"]);
        });

        it("concurrent changes of one rule (targets, state, tags) all hold, before and after a reopen", async () => {
          const first = await open();
          const { RuleArn } = await first.bus.putRule({ Name: "r", EventPattern: '{"a":["b"]}' });
          await Promise.all([
            first.bus.putTargets({ Rule: "r", Targets: [{ Id: "h", Arn: lambdaArn("x") }] }),
            first.bus.tagResource({ ResourceARN: RuleArn, Tags: [{ Key: "k", Value: "v" }] }),
            first.bus.disableRule({ Name: "r" }),
            first.bus.tagResource({ ResourceARN: RuleArn, Tags: [{ Key: "k2", Value: "v2" }] }),
          ]);
          const expectAll = async (bus: EventBusService): Promise<void> => {
            expect((await bus.listTargetsByRule({ Rule: "r" })).Targets.map((t) => t.Id)).toEqual([
              "h",
            ]);
            expect((await bus.describeRule({ Name: "r" })).State).toBe("DISABLED");
            expect((await bus.listTagsForResource({ ResourceARN: RuleArn })).Tags).toEqual([
              { Key: "k", Value: "v" },
              { Key: "k2", Value: "v2" },
            ]);
          };
          await expectAll(first.bus);
          services = await reopen(first, clock);
          await expectAll(services.bus);
        });

        it("tags of buses (the default one too) and rules, and archive updates, survive a reopen", async () => {
          const first = await open();
          const { EventBusArn } = await first.bus.createEventBus({
            Name: "b",
            Tags: [{ Key: "team", Value: "shop" }],
          });
          const { RuleArn } = await first.bus.putRule({
            Name: "r",
            EventBusName: "b",
            EventPattern: '{"source":["a"]}',
            Tags: [{ Key: "env", Value: "test" }],
          });
          await first.bus.tagResource({
            ResourceARN: RuleArn,
            Tags: [{ Key: "owner", Value: "" }],
          });
          await first.bus.untagResource({ ResourceARN: RuleArn, TagKeys: ["env"] });
          await first.bus.tagResource({
            ResourceARN: busArn("default"),
            Tags: [{ Key: "k", Value: "v" }],
          });
          await first.bus.createArchive({ ArchiveName: "a", EventSourceArn: EventBusArn });
          await first.bus.updateArchive({
            ArchiveName: "a",
            EventPattern: '{"source":["a"]}',
            RetentionDays: 3,
            Description: "d",
          });
          services = await reopen(first, clock);
          const { bus } = services;
          const tagsOf = async (ResourceARN: string): Promise<Tag[]> =>
            (await bus.listTagsForResource({ ResourceARN })).Tags;
          expect(await tagsOf(EventBusArn)).toEqual([{ Key: "team", Value: "shop" }]);
          expect(await tagsOf(RuleArn)).toEqual([{ Key: "owner", Value: "" }]);
          expect(await tagsOf(busArn("default"))).toEqual([{ Key: "k", Value: "v" }]);
          expect(await bus.describeArchive({ ArchiveName: "a" })).toMatchObject({
            EventPattern: '{"source":["a"]}',
            RetentionDays: 3,
            Description: "d",
          });
          expect((await bus.describeRule({ Name: "r", EventBusName: "b" })).EventPattern).toBe(
            '{"source":["a"]}',
          );
        });
      });
    }
    checkSkips();
  });
}
