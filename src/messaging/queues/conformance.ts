/**
 * The conformance suite every `QueueService` backend must pass: SQS's observable semantics
 * (names, ranges, defaults, errors, visibility, long polling, delays, retention, dead letters,
 * move tasks, FIFO ordering and deduplication) and, where the backend has storage, durability
 * across a close and reopen. All time runs on a `VirtualClock`, so minutes and days of
 * timeouts take milliseconds.
 *
 * Usage, in a backend's test file:
 *
 *     describeQueueConformance({ name: "embedded", open: (clock) => ..., reopen: (s, clock) => ... });
 */
import { createHash } from "node:crypto";
import { inspect } from "node:util";
import { afterEach, beforeAll, beforeEach, describe, expect, it as vitestIt } from "vitest";
import { VirtualClock } from "../../time/virtual-clock.js";
import { isQueueError, type QueueError, type QueueErrorName } from "./queue-error.js";
import type {
  Message,
  MessageAttributeValue,
  MessageAttributes,
  MessageMoveTask,
  QueueAttributes,
  QueueService,
  ReceiveMessageInput,
  SendMessageBatchRequestEntry,
  SendMessageInput,
  SendMessageResult,
  WritableQueueAttributeName,
  BatchResultErrorEntry,
} from "./queue-service.js";

export interface QueueConformanceHarness {
  readonly name: string;
  /** A fresh, empty service whose time is `clock`. */
  open(clock: VirtualClock): Promise<QueueService>;
  /** Closes `service` and opens the same storage again (durability points); omit when the backend has no storage. */
  reopen?(service: QueueService, clock: VirtualClock): Promise<QueueService>;
  /** Tests this backend cannot pass, by name, with the reason (reported as skipped). */
  readonly skips?: Readonly<Record<string, string>>;
}

/** The harness's skips, read while its tests are declared (one harness per test file). */
let skips: Readonly<Record<string, string>> = {};
const declared = new Set<string>();

type TestBody = () => Promise<void>;

/** Declares a test, or skips it with the reason when the harness lists it. */
function it(name: string, body: TestBody): void {
  declared.add(name);
  const reason = skips[name];
  if (reason === undefined) vitestIt(name, body);
  else vitestIt.skip(`${name} [skipped: ${reason}]`, body);
}
it.skipIf =
  (condition: boolean) =>
  (name: string, body: TestBody): void =>
    condition ? vitestIt.skip(name, body) : it(name, body);

// ---------------------------------------------------------------------------------------------
// Reference values, computed independently of any backend
// ---------------------------------------------------------------------------------------------

const ACCOUNT = "000000000000";
const urlOf = (name: string): string => `http://localhost:9324/${ACCOUNT}/${name}`;
const arnOf = (name: string): string => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIVE_MINUTES = 300;

const md5 = (text: string): string => createHash("md5").update(text, "utf8").digest("hex");
const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * SQS's MD5 of message attributes, written from the SQS developer guide: attributes sorted by
 * name; per attribute the 4-byte big-endian length and UTF-8 bytes of the name, the same for the
 * data type, one transport byte (1 String/Number, 2 Binary), then length and bytes of the value.
 */
function referenceMd5OfAttributes(attributes: MessageAttributes): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (bytes: Uint8Array): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, Buffer.from(bytes));
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name]!;
    lengthPrefixed(Buffer.from(name, "utf8"));
    lengthPrefixed(Buffer.from(attribute.DataType, "utf8"));
    if (attribute.DataType.startsWith("Binary")) {
      parts.push(Buffer.from([2]));
      lengthPrefixed(attribute.BinaryValue ?? new Uint8Array());
    } else {
      parts.push(Buffer.from([1]));
      lengthPrefixed(Buffer.from(attribute.StringValue ?? "", "utf8"));
    }
  }
  return createHash("md5").update(Buffer.concat(parts)).digest("hex");
}

const str = (StringValue: string, DataType = "String"): MessageAttributeValue => ({
  DataType,
  StringValue,
});
const num = (StringValue: string, DataType = "Number"): MessageAttributeValue => ({
  DataType,
  StringValue,
});
const bin = (bytes: number[], DataType = "Binary"): MessageAttributeValue => ({
  DataType,
  BinaryValue: Uint8Array.from(bytes),
});

/** Message attributes in a shape `toEqual` compares by value (binary as hex). */
function plain(attributes: MessageAttributes | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = {
      DataType: value.DataType,
      ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
      ...(value.BinaryValue === undefined
        ? {}
        : { BinaryValue: Buffer.from(value.BinaryValue).toString("hex") }),
    };
  }
  return out;
}

/** Failed batch entries sorted by Id, with the free-text Message reduced to "is it there". */
const failures = (failed: readonly BatchResultErrorEntry[]): unknown[] =>
  [...failed]
    .sort((a, b) => a.Id.localeCompare(b.Id))
    .map(({ Id, SenderFault, Code, Message }) => ({
      Id,
      SenderFault,
      Code,
      hasMessage: typeof Message === "string" && Message.length > 0,
    }));

const pick = (attributes: MessageAttributes, names: readonly string[]): MessageAttributes =>
  Object.fromEntries(Object.entries(attributes).filter(([name]) => names.includes(name)));

const bodiesOf = (messages: readonly { readonly Body: string }[]): string[] =>
  messages.map((m) => m.Body);
const redrivePolicy = (dlqArn: string, maxReceiveCount: number): string =>
  JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount });
const seq = (value: string | undefined): bigint => {
  expect(value).toMatch(/^\d+$/);
  return BigInt(value!);
};

function describeError(error: unknown): string {
  if (isQueueError(error)) return `QueueError ${error.sqsError}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return inspect(error);
}

/** Runs `call` and expects it to fail with the QueueError `name`; returns the error. */
async function expectError(
  call: () => Promise<unknown>,
  name: QueueErrorName,
  label?: string,
): Promise<QueueError> {
  const prefix = label === undefined ? "" : `${label}: `;
  let result: unknown;
  try {
    result = await call();
  } catch (error) {
    if (isQueueError(error, name)) return error;
    throw new Error(`${prefix}expected QueueError ${name}, got ${describeError(error)}`, {
      cause: error,
    });
  }
  throw new Error(
    `${prefix}expected QueueError ${name}, but the call succeeded with ${inspect(result, { depth: 4 })}`,
  );
}

/** Runs `call` and expects it to succeed; a failure names `label`. */
async function expectOk<T>(call: () => Promise<T>, label: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new Error(`${label}: expected success, got ${describeError(error)}`, { cause: error });
  }
}

interface Pending<T> {
  readonly promise: Promise<T>;
  settled(): boolean;
}

/** Watches a promise (a long poll) so a test can check whether it has settled yet. */
function watch<T>(promise: Promise<T>): Pending<T> {
  let done = false;
  void promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return { promise, settled: () => done };
}

type SendExtras = Omit<SendMessageInput, "QueueUrl" | "MessageBody">;
type ReceiveExtras = Omit<ReceiveMessageInput, "QueueUrl">;

interface Counts {
  readonly visible: number;
  readonly inflight: number;
  readonly delayed: number;
}

// ---------------------------------------------------------------------------------------------
// Per-test world: one service on one virtual clock
// ---------------------------------------------------------------------------------------------

class World {
  private closed = false;

  private constructor(
    private readonly harness: QueueConformanceHarness,
    readonly clock: VirtualClock,
    public svc: QueueService,
  ) {}

  static async open(harness: QueueConformanceHarness): Promise<World> {
    const clock = new VirtualClock();
    return new World(harness, clock, await harness.open(clock));
  }

  /** Closes the service and opens its storage again on the same clock. */
  async reopen(): Promise<void> {
    this.closed = true;
    const next = await this.harness.reopen?.(this.svc, this.clock);
    if (next === undefined) throw new Error(`${this.harness.name} has no reopen`);
    this.svc = next;
    this.closed = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.svc.close();
  }

  async queue(
    name: string,
    Attributes?: QueueAttributes,
    tags?: Record<string, string>,
  ): Promise<string> {
    const { QueueUrl } = await this.svc.createQueue({
      QueueName: name,
      ...(Attributes === undefined ? {} : { Attributes }),
      ...(tags === undefined ? {} : { tags }),
    });
    return QueueUrl;
  }

  /** A FIFO queue `<name>.fifo`. */
  fifo(name: string, Attributes: QueueAttributes = {}): Promise<string> {
    return this.queue(`${name}.fifo`, { FifoQueue: "true", ...Attributes });
  }

  send(QueueUrl: string, MessageBody: string, extras: SendExtras = {}): Promise<SendMessageResult> {
    return this.svc.sendMessage({ QueueUrl, MessageBody, ...extras });
  }

  /** Sends to a FIFO queue with the body as deduplication id unless one is given. */
  sendFifo(
    QueueUrl: string,
    MessageBody: string,
    MessageGroupId: string,
    MessageDeduplicationId: string = MessageBody,
  ): Promise<SendMessageResult> {
    return this.svc.sendMessage({
      QueueUrl,
      MessageBody,
      MessageGroupId,
      MessageDeduplicationId,
    });
  }

  async receive(QueueUrl: string, extras: ReceiveExtras = {}): Promise<Message[]> {
    return (await this.svc.receiveMessage({ QueueUrl, ...extras })).Messages;
  }

  async receiveOne(QueueUrl: string, extras: ReceiveExtras = {}): Promise<Message> {
    const messages = await this.receive(QueueUrl, extras);
    expect(bodiesOf(messages)).toHaveLength(1);
    return messages[0]!;
  }

  async delete(QueueUrl: string, message: Message): Promise<void> {
    await this.svc.deleteMessage({ QueueUrl, ReceiptHandle: message.ReceiptHandle });
  }

  /** Receives (10 at a time) until a receive comes back empty; deletes what it got unless told not to. */
  async drain(QueueUrl: string, options: { delete?: boolean } = {}): Promise<Message[]> {
    const all: Message[] = [];
    for (let round = 0; round < 1000; round++) {
      const got = await this.receive(QueueUrl, { MaxNumberOfMessages: 10 });
      if (got.length === 0) return all;
      all.push(...got);
      if (options.delete !== false) for (const m of got) await this.delete(QueueUrl, m);
    }
    throw new Error("drain: the queue never ran empty");
  }

  async attributes(
    QueueUrl: string,
    AttributeNames: Parameters<QueueService["getQueueAttributes"]>[0]["AttributeNames"] = ["All"],
  ): Promise<Record<string, string | undefined>> {
    return (await this.svc.getQueueAttributes({ QueueUrl, AttributeNames })).Attributes;
  }

  async counts(QueueUrl: string): Promise<Counts> {
    const a = await this.attributes(QueueUrl, [
      "ApproximateNumberOfMessages",
      "ApproximateNumberOfMessagesNotVisible",
      "ApproximateNumberOfMessagesDelayed",
    ]);
    return {
      visible: Number(a.ApproximateNumberOfMessages),
      inflight: Number(a.ApproximateNumberOfMessagesNotVisible),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed),
    };
  }

  async advance(seconds: number): Promise<void> {
    await this.clock.advance(Math.round(seconds * 1000));
  }

  /** Lets pending work run without moving virtual time. */
  async settle(): Promise<void> {
    await this.clock.advance(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.clock.advance(0);
  }
}

type WorldRef = () => World;

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

export function describeQueueConformance(harness: QueueConformanceHarness): void {
  describe(`QueueService conformance: ${harness.name}`, () => {
    skips = harness.skips ?? {};
    let current: World | undefined;
    const w: WorldRef = () => {
      if (current === undefined) throw new Error("no service open");
      return current;
    };
    beforeEach(async () => {
      current = await World.open(harness);
    });
    afterEach(async () => {
      const world = current;
      current = undefined;
      await world?.close();
    });

    queueManagementTests(w);
    queueAttributeTests(w);
    tagAndPurgeTests(w);
    sendTests(w);
    batchTests(w);
    receiveTests(w);
    longPollingTests(w);
    delayAndRetentionTests(w);
    deleteTests(w);
    visibilityTests(w);
    deadLetterTests(w);
    moveTaskTests(w, harness.reopen !== undefined);
    peekTests(w);
    fifoTests(w);
    durabilityTests(w, harness.reopen !== undefined);
    beforeAll(() => {
      // By now every test is declared: a skip must name one of them.
      const unknown = Object.keys(harness.skips ?? {}).filter((name) => !declared.has(name));
      if (unknown.length > 0) throw new Error(`skips name no test: ${unknown.join(", ")}`);
    });
  });
}

function queueManagementTests(w: WorldRef): void {
  describe("queues: create, get, list, delete", () => {
    it("creates a queue at SQS's default URL with SQS's ARN", async () => {
      const t = w();
      const url = await t.queue("orders");
      expect(url).toBe("http://localhost:9324/000000000000/orders");
      expect(await t.svc.getQueueUrl({ QueueName: "orders" })).toEqual({ QueueUrl: url });
      expect((await t.attributes(url, ["QueueArn"])).QueueArn).toBe(
        "arn:aws:sqs:us-east-1:000000000000:orders",
      );
      const fifo = await t.fifo("orders");
      expect(fifo).toBe(urlOf("orders.fifo"));
      expect((await t.attributes(fifo)).QueueArn).toBe(arnOf("orders.fifo"));
    });

    it("creating again with identical attributes returns the same URL; different ones fail with QueueNameExists", async () => {
      const t = w();
      const url = await t.queue("q", { VisibilityTimeout: "60", DelaySeconds: "5" });
      expect(await t.queue("q", { VisibilityTimeout: "60", DelaySeconds: "5" })).toBe(url);
      const plainUrl = await t.queue("plain");
      expect(await t.queue("plain")).toBe(plainUrl);
      await expectError(
        () => t.queue("q", { VisibilityTimeout: "61", DelaySeconds: "5" }),
        "QueueNameExists",
      );
      await expectError(() => t.queue("plain", { VisibilityTimeout: "10" }), "QueueNameExists");
      expect((await t.attributes(url)).VisibilityTimeout).toBe("60");
      expect((await t.svc.listQueues()).QueueUrls).toEqual([urlOf("plain"), urlOf("q")]);
    });

    it("create-if-missing: only the attributes given must match the existing queue", async () => {
      const t = w();
      const url = await t.queue("app");
      await t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { VisibilityTimeout: "90" } });
      expect(await t.queue("app")).toBe(url);
      expect(await t.queue("app", { VisibilityTimeout: "90" })).toBe(url);
      expect(await t.queue("app", { FifoQueue: "false" })).toBe(url);
      await expectError(() => t.queue("app", { VisibilityTimeout: "30" }), "QueueNameExists");
    });

    it("accepts names of 1-80 characters from [A-Za-z0-9_-], a .fifo suffix counted in the 80", async () => {
      const t = w();
      for (const name of ["a", "Az09_-", "x".repeat(80)])
        expect(await expectOk(() => t.queue(name), name)).toBe(urlOf(name));
      const fifo = `${"f".repeat(75)}.fifo`;
      expect(await expectOk(() => t.queue(fifo, { FifoQueue: "true" }), fifo)).toBe(urlOf(fifo));
    });

    it("rejects bad queue names with InvalidParameterValue", async () => {
      const t = w();
      for (const name of ["", "x".repeat(81), "has space", "dot.name", "slash/name", "ünï", "q:1"])
        await expectError(() => t.queue(name), "InvalidParameterValue", JSON.stringify(name));
      await expectError(
        () => t.queue(`${"f".repeat(76)}.fifo`, { FifoQueue: "true" }),
        "InvalidParameterValue",
        "81-character FIFO name",
      );
      expect((await t.svc.listQueues()).QueueUrls).toEqual([]);
    });

    it("a .fifo name needs FifoQueue true, and FifoQueue true needs a .fifo name", async () => {
      const t = w();
      await expectError(() => t.queue("jobs.fifo"), "InvalidParameterValue", "no FifoQueue");
      await expectError(
        () => t.queue("jobs.fifo", { FifoQueue: "false" }),
        "InvalidParameterValue",
        "FifoQueue false",
      );
      await expectError(() => t.queue("jobs", { FifoQueue: "true" }), "InvalidParameterValue");
      const url = await t.fifo("jobs");
      expect((await t.attributes(url)).FifoQueue).toBe("true");
      expect((await t.svc.listQueues()).QueueUrls).toEqual([urlOf("jobs.fifo")]);
    });

    it("getQueueUrl of an unknown queue fails with QueueDoesNotExist", async () => {
      const t = w();
      await t.queue("known");
      await expectError(() => t.svc.getQueueUrl({ QueueName: "unknown" }), "QueueDoesNotExist");
      await expectError(
        () => t.send(urlOf("unknown"), "x"),
        "QueueDoesNotExist",
        "send to a queue never created",
      );
    });

    it("lists queues sorted by name, filtered by QueueNamePrefix", async () => {
      const t = w();
      for (const name of ["charlie", "alpha", "bravo", "alpha-2"]) await t.queue(name);
      await t.fifo("alpha");
      expect((await t.svc.listQueues()).QueueUrls).toEqual(
        ["alpha", "alpha-2", "alpha.fifo", "bravo", "charlie"].map(urlOf),
      );
      expect((await t.svc.listQueues({ QueueNamePrefix: "alpha" })).QueueUrls).toEqual(
        ["alpha", "alpha-2", "alpha.fifo"].map(urlOf),
      );
      expect((await t.svc.listQueues({ QueueNamePrefix: "zulu" })).QueueUrls).toEqual([]);
    });

    it("pages listQueues with MaxResults and NextToken", async () => {
      const t = w();
      const names = ["a1", "a2", "a3", "a4", "a5"];
      for (const name of [...names].reverse()) await t.queue(name);
      await t.queue("b1");
      const first = await t.svc.listQueues({ QueueNamePrefix: "a", MaxResults: 2 });
      expect(first.QueueUrls).toEqual(["a1", "a2"].map(urlOf));
      expect(first.NextToken).toEqual(expect.any(String));
      const second = await t.svc.listQueues({
        QueueNamePrefix: "a",
        MaxResults: 2,
        NextToken: first.NextToken!,
      });
      expect(second.QueueUrls).toEqual(["a3", "a4"].map(urlOf));
      expect(second.NextToken).toEqual(expect.any(String));
      const third = await t.svc.listQueues({
        QueueNamePrefix: "a",
        MaxResults: 2,
        NextToken: second.NextToken!,
      });
      expect(third.QueueUrls).toEqual([urlOf("a5")]);
      expect(third.NextToken).toBeUndefined();
      expect((await t.svc.listQueues({ MaxResults: 1000 })).QueueUrls).toHaveLength(6);
    });

    it("rejects a NextToken it did not issue with InvalidParameterValue", async () => {
      const t = w();
      await t.queue("one");
      for (const NextToken of ["garbage", "bm90IGEgdG9rZW4", "", "%%%"])
        await expectError(
          () => t.svc.listQueues({ MaxResults: 1, NextToken }),
          "InvalidParameterValue",
          NextToken,
        );
    });

    it("rejects MaxResults outside 1-1000 with InvalidParameterValue", async () => {
      const t = w();
      await t.queue("a");
      for (const MaxResults of [0, -1, 1001])
        await expectError(
          () => t.svc.listQueues({ MaxResults }),
          "InvalidParameterValue",
          `MaxResults ${MaxResults}`,
        );
      expect((await t.svc.listQueues({ MaxResults: 1 })).QueueUrls).toEqual([urlOf("a")]);
    });

    it("every call on a deleted queue fails with QueueDoesNotExist", async () => {
      const t = w();
      const url = await t.queue("doomed");
      const other = await t.queue("survivor");
      await t.send(url, "m");
      const message = await t.receiveOne(url);
      await t.svc.deleteQueue({ QueueUrl: url });
      expect((await t.svc.listQueues()).QueueUrls).toEqual([other]);
      const handle = message.ReceiptHandle;
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["getQueueUrl", () => t.svc.getQueueUrl({ QueueName: "doomed" })],
        ["getQueueAttributes", () => t.attributes(url)],
        [
          "setQueueAttributes",
          () => t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { DelaySeconds: "1" } }),
        ],
        ["tagQueue", () => t.svc.tagQueue({ QueueUrl: url, Tags: { a: "b" } })],
        ["untagQueue", () => t.svc.untagQueue({ QueueUrl: url, TagKeys: ["a"] })],
        ["listQueueTags", () => t.svc.listQueueTags({ QueueUrl: url })],
        ["purgeQueue", () => t.svc.purgeQueue({ QueueUrl: url })],
        ["listDeadLetterSourceQueues", () => t.svc.listDeadLetterSourceQueues({ QueueUrl: url })],
        ["sendMessage", () => t.send(url, "x")],
        [
          "sendMessageBatch",
          () => t.svc.sendMessageBatch({ QueueUrl: url, Entries: [{ Id: "a", MessageBody: "x" }] }),
        ],
        ["receiveMessage", () => t.receive(url)],
        ["deleteMessage", () => t.svc.deleteMessage({ QueueUrl: url, ReceiptHandle: handle })],
        [
          "deleteMessageBatch",
          () =>
            t.svc.deleteMessageBatch({
              QueueUrl: url,
              Entries: [{ Id: "a", ReceiptHandle: handle }],
            }),
        ],
        [
          "changeMessageVisibility",
          () =>
            t.svc.changeMessageVisibility({
              QueueUrl: url,
              ReceiptHandle: handle,
              VisibilityTimeout: 0,
            }),
        ],
        [
          "changeMessageVisibilityBatch",
          () =>
            t.svc.changeMessageVisibilityBatch({
              QueueUrl: url,
              Entries: [{ Id: "a", ReceiptHandle: handle, VisibilityTimeout: 0 }],
            }),
        ],
        ["peekMessages", () => t.svc.peekMessages({ QueueUrl: url })],
        ["deleteQueue", () => t.svc.deleteQueue({ QueueUrl: url })],
      ];
      for (const [label, call] of calls) await expectError(call, "QueueDoesNotExist", label);
      await t.send(other, "still works");
      expect(bodiesOf(await t.receive(other))).toEqual(["still works"]);
    });
  });
}

function queueAttributeTests(w: WorldRef): void {
  describe("queue attributes", () => {
    it("reports SQS's defaults and the read-only attributes for ['All']", async () => {
      const t = w();
      const createdSeconds = String(Math.floor(t.clock.now() / 1000));
      const url = await t.queue("defaults");
      expect(await t.attributes(url, ["All"])).toMatchObject({
        VisibilityTimeout: "30",
        MessageRetentionPeriod: "345600",
        DelaySeconds: "0",
        ReceiveMessageWaitTimeSeconds: "0",
        MaximumMessageSize: "262144",
        ApproximateNumberOfMessages: "0",
        ApproximateNumberOfMessagesNotVisible: "0",
        ApproximateNumberOfMessagesDelayed: "0",
        CreatedTimestamp: createdSeconds,
        LastModifiedTimestamp: createdSeconds,
        QueueArn: arnOf("defaults"),
      });
    });

    it("returns exactly the attributes asked for by name", async () => {
      const t = w();
      const url = await t.queue("some", { VisibilityTimeout: "45" });
      expect(await t.attributes(url, ["VisibilityTimeout", "QueueArn"])).toEqual({
        VisibilityTimeout: "45",
        QueueArn: arnOf("some"),
      });
      expect(await t.attributes(url, ["ApproximateNumberOfMessages"])).toEqual({
        ApproximateNumberOfMessages: "0",
      });
    });

    it("answers wrong types from plain JavaScript with a QueueError, never a TypeError", async () => {
      const t = w();
      const url = await t.queue("typed");
      const loose = t.svc as unknown as Record<string, (input: unknown) => Promise<unknown>>;
      const field = async (call: () => Promise<unknown>, name: QueueErrorName, at: string) =>
        expect((await expectError(call, name, at)).field).toBe(at);
      await field(
        () => loose.getQueueAttributes!({ QueueUrl: url, AttributeNames: "All" }),
        "InvalidParameterValue",
        "AttributeNames",
      );
      await field(
        () => loose.setQueueAttributes!({ QueueUrl: url }),
        "MissingParameter",
        "Attributes",
      );
      await field(
        () => loose.setQueueAttributes!({ QueueUrl: url, Attributes: { DelaySeconds: 5 } }),
        "InvalidAttributeValue",
        "Attributes.DelaySeconds",
      );
      expect(await loose.listQueues!(null)).toEqual({ QueueUrls: [url] });
      await field(() => loose.listQueues!("x"), "InvalidParameterValue", "request");
    });

    it("reports every error as a rejected promise, never by throwing at the call", async () => {
      const t = w();
      const missing = (await t.queue("gone")).replace(/gone$/, "never-created");
      const loose = t.svc as unknown as Record<string, (input: unknown) => Promise<unknown>>;
      const calls: Record<string, unknown> = {
        getQueueUrl: { QueueName: "never-created" },
        getQueueAttributes: { QueueUrl: missing },
        setQueueAttributes: { QueueUrl: missing, Attributes: {} },
        listQueues: "not a request",
        listQueueTags: { QueueUrl: missing },
        tagQueue: { QueueUrl: missing, Tags: { a: "b" } },
        untagQueue: { QueueUrl: missing, TagKeys: ["a"] },
        listDeadLetterSourceQueues: { QueueUrl: missing },
        purgeQueue: { QueueUrl: missing },
        deleteQueue: { QueueUrl: missing },
        sendMessage: { QueueUrl: missing, MessageBody: "x" },
        sendMessageBatch: { QueueUrl: missing, Entries: [{ Id: "a", MessageBody: "x" }] },
        receiveMessage: { QueueUrl: missing },
        deleteMessage: { QueueUrl: missing, ReceiptHandle: "x" },
        deleteMessageBatch: { QueueUrl: missing, Entries: [{ Id: "a", ReceiptHandle: "x" }] },
        changeMessageVisibility: { QueueUrl: missing, ReceiptHandle: "x", VisibilityTimeout: 1 },
        changeMessageVisibilityBatch: {
          QueueUrl: missing,
          Entries: [{ Id: "a", ReceiptHandle: "x", VisibilityTimeout: 1 }],
        },
        peekMessages: { QueueUrl: missing },
        startMessageMoveTask: { SourceArn: arnOf("never-created") },
        cancelMessageMoveTask: { TaskHandle: "never-issued" },
        listMessageMoveTasks: { SourceArn: arnOf("never-created") },
      };
      const thrown: string[] = [];
      for (const [method, input] of Object.entries(calls)) {
        let answer: Promise<unknown>;
        try {
          answer = loose[method]!.call(t.svc, input);
        } catch {
          thrown.push(method);
          continue;
        }
        // A `.catch` chain (no await, no try) must see the error.
        const outcome = await answer.then(
          () => "resolved",
          (error: unknown) => (isQueueError(error) ? "QueueError" : String(error)),
        );
        expect(outcome, method).toBe("QueueError");
      }
      expect(thrown, "methods that threw instead of rejecting").toEqual([]);
    });

    it("rejects an unknown name in getQueueAttributes with InvalidAttributeName", async () => {
      const t = w();
      const url = await t.queue("q");
      await expectError(
        () =>
          t.svc.getQueueAttributes({
            QueueUrl: url,
            AttributeNames: ["VisibilityTimeout", "Colour" as "QueueArn"],
          }),
        "InvalidAttributeName",
      );
    });

    it("counts visible, in-flight and delayed messages", async () => {
      const t = w();
      const url = await t.queue("counts");
      await t.send(url, "in flight");
      await t.receiveOne(url);
      await t.send(url, "visible 1");
      await t.send(url, "visible 2");
      await t.send(url, "delayed", { DelaySeconds: 60 });
      expect(await t.counts(url)).toEqual({ visible: 2, inflight: 1, delayed: 1 });
      const attributes = await t.attributes(url);
      expect(attributes.ApproximateNumberOfMessages).toBe("2");
      expect(attributes.ApproximateNumberOfMessagesNotVisible).toBe("1");
      expect(attributes.ApproximateNumberOfMessagesDelayed).toBe("1");
    });

    it("rejects an unknown attribute name at create with InvalidAttributeName", async () => {
      const t = w();
      await expectError(
        () => t.queue("q", { Colour: "blue" } as QueueAttributes),
        "InvalidAttributeName",
      );
      await expectError(() => t.svc.getQueueUrl({ QueueName: "q" }), "QueueDoesNotExist");
    });

    it("rejects FIFO-only attributes on a standard queue with InvalidAttributeName", async () => {
      const t = w();
      const cases: QueueAttributes[] = [
        { ContentBasedDeduplication: "true" },
        { DeduplicationScope: "messageGroup" },
        { FifoThroughputLimit: "perMessageGroupId" },
      ];
      for (const attributes of cases)
        await expectError(
          () => t.queue("std", attributes),
          "InvalidAttributeName",
          JSON.stringify(attributes),
        );
      const url = await t.queue("std");
      for (const attributes of cases)
        await expectError(
          () => t.svc.setQueueAttributes({ QueueUrl: url, Attributes: attributes }),
          "InvalidAttributeName",
          `set ${JSON.stringify(attributes)}`,
        );
    });

    it("accepts the FIFO-only attributes on a FIFO queue", async () => {
      const t = w();
      const url = await t.fifo("high", {
        ContentBasedDeduplication: "true",
        DeduplicationScope: "messageGroup",
        FifoThroughputLimit: "perMessageGroupId",
      });
      expect(await t.attributes(url)).toMatchObject({
        FifoQueue: "true",
        ContentBasedDeduplication: "true",
        DeduplicationScope: "messageGroup",
        FifoThroughputLimit: "perMessageGroupId",
      });
    });

    const ranges: Array<[WritableQueueAttributeName, number, number]> = [
      ["VisibilityTimeout", 0, 43200],
      ["MessageRetentionPeriod", 60, 1209600],
      ["DelaySeconds", 0, 900],
      ["ReceiveMessageWaitTimeSeconds", 0, 20],
      ["MaximumMessageSize", 1024, 1048576],
    ];
    for (const [name, min, max] of ranges) {
      it(`${name} accepts ${min}-${max} and rejects values outside with InvalidAttributeValue`, async () => {
        const t = w();
        for (const value of [min, max]) {
          const url = await expectOk(
            () => t.queue(`ok-${value}`, { [name]: String(value) }),
            `${name} ${value}`,
          );
          expect((await t.attributes(url, [name]))[name]).toBe(String(value));
        }
        for (const value of [String(min - 1), String(max + 1), "abc", "1.5", ""])
          await expectError(
            () => t.queue("bad", { [name]: value }),
            "InvalidAttributeValue",
            `${name} ${JSON.stringify(value)}`,
          );
        const url = await t.queue("set");
        await expectError(
          () =>
            t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { [name]: String(max + 1) } }),
          "InvalidAttributeValue",
          `set ${name} ${max + 1}`,
        );
      });
    }

    it("names the offending attribute in the error's field", async () => {
      const t = w();
      const error = await expectError(
        () => t.queue("q", { VisibilityTimeout: "43201" }),
        "InvalidAttributeValue",
      );
      expect(error.field).toEqual(expect.any(String));
      expect(error.field!.length).toBeGreaterThan(0);
    });

    it("setQueueAttributes changes attributes, LastModifiedTimestamp, and behaviour", async () => {
      const t = w();
      const created = String(Math.floor(t.clock.now() / 1000));
      const url = await t.queue("mutable");
      await t.advance(100);
      await t.svc.setQueueAttributes({
        QueueUrl: url,
        Attributes: { VisibilityTimeout: "60", DelaySeconds: "2" },
      });
      expect(await t.attributes(url)).toMatchObject({
        VisibilityTimeout: "60",
        DelaySeconds: "2",
        CreatedTimestamp: created,
        LastModifiedTimestamp: String(Math.floor(t.clock.now() / 1000)),
      });
      await t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { DelaySeconds: "0" } });
      await t.send(url, "m");
      await t.receiveOne(url);
      await t.advance(45);
      expect(await t.receive(url)).toEqual([]);
      await t.advance(16);
      expect(bodiesOf(await t.receive(url))).toEqual(["m"]);
    });

    it("setQueueAttributes rejects read-only and unknown names with InvalidAttributeName", async () => {
      const t = w();
      const url = await t.queue("q");
      for (const name of ["ApproximateNumberOfMessages", "QueueArn", "CreatedTimestamp", "Colour"])
        await expectError(
          () =>
            t.svc.setQueueAttributes({
              QueueUrl: url,
              Attributes: { [name]: "1" },
            }),
          "InvalidAttributeName",
          name,
        );
      expect((await t.attributes(url)).QueueArn).toBe(arnOf("q"));
    });
  });
}

function tagAndPurgeTests(w: WorldRef): void {
  describe("tags", () => {
    it("keeps tags given at create and changed by tagQueue / untagQueue", async () => {
      const t = w();
      const url = await t.queue("tagged", undefined, { team: "payments", env: "dev" });
      expect((await t.svc.listQueueTags({ QueueUrl: url })).Tags).toEqual({
        team: "payments",
        env: "dev",
      });
      await t.svc.tagQueue({ QueueUrl: url, Tags: { env: "prod", cost: "42" } });
      expect((await t.svc.listQueueTags({ QueueUrl: url })).Tags).toEqual({
        team: "payments",
        env: "prod",
        cost: "42",
      });
      await t.svc.untagQueue({ QueueUrl: url, TagKeys: ["team", "cost"] });
      expect((await t.svc.listQueueTags({ QueueUrl: url })).Tags).toEqual({ env: "prod" });
      const bare = await t.queue("bare");
      expect((await t.svc.listQueueTags({ QueueUrl: bare })).Tags).toEqual({});
    });

    it("keeps every one of concurrent tag and attribute changes (none overwrites another)", async () => {
      const t = w();
      const url = await t.queue("edited", undefined, { team: "payments", old: "x" });
      await Promise.all([
        t.svc.tagQueue({ QueueUrl: url, Tags: { a: "1" } }),
        t.svc.tagQueue({ QueueUrl: url, Tags: { b: "2" } }),
        t.svc.untagQueue({ QueueUrl: url, TagKeys: ["old"] }),
        t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { VisibilityTimeout: "45" } }),
        t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { DelaySeconds: "3" } }),
      ]);
      expect((await t.svc.listQueueTags({ QueueUrl: url })).Tags).toEqual({
        team: "payments",
        a: "1",
        b: "2",
      });
      expect(await t.attributes(url)).toMatchObject({ VisibilityTimeout: "45", DelaySeconds: "3" });
    });
  });

  describe("purge", () => {
    it("removes the messages sent before it, visible or in flight", async () => {
      const t = w();
      const url = await t.queue("p");
      for (const body of ["a", "b", "c"]) await t.send(url, body);
      await t.receiveOne(url);
      await t.svc.purgeQueue({ QueueUrl: url });
      await t.settle();
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
      await t.advance(31);
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
      await t.send(url, "after");
      expect(bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }))).toEqual(["after"]);
    });

    it("a second purge within 60 s fails with PurgeQueueInProgress; after 60 s it works", async () => {
      const t = w();
      const url = await t.queue("p");
      await t.svc.purgeQueue({ QueueUrl: url });
      await expectError(() => t.svc.purgeQueue({ QueueUrl: url }), "PurgeQueueInProgress");
      await t.advance(59);
      await expectError(
        () => t.svc.purgeQueue({ QueueUrl: url }),
        "PurgeQueueInProgress",
        "after 59 s",
      );
      await t.advance(2);
      await t.send(url, "x");
      await t.svc.purgeQueue({ QueueUrl: url });
      expect(await t.receive(url)).toEqual([]);
    });
  });
}

function sendTests(w: WorldRef): void {
  describe("sendMessage", () => {
    it("returns a UUID MessageId and the MD5 of the UTF-8 body", async () => {
      const t = w();
      const url = await t.queue("s");
      const hello = await t.send(url, "hello");
      expect(hello.MessageId).toMatch(UUID);
      expect(hello.MD5OfMessageBody).toBe("5d41402abc4b2a76b9719d911017c592");
      expect(hello.MD5OfMessageAttributes).toBeUndefined();
      expect(hello.SequenceNumber).toBeUndefined();
      const unicode = "héllo ✓ 𝄞";
      const second = await t.send(url, unicode);
      expect(second.MD5OfMessageBody).toBe(md5(unicode));
      expect(second.MessageId).not.toBe(hello.MessageId);
      const received = await t.receive(url, { MaxNumberOfMessages: 10 });
      const byId = new Map(received.map((m) => [m.MessageId, m]));
      expect(byId.get(hello.MessageId)?.Body).toBe("hello");
      expect(byId.get(hello.MessageId)?.MD5OfBody).toBe(md5("hello"));
      expect(byId.get(second.MessageId)?.Body).toBe(unicode);
      expect(byId.get(second.MessageId)?.MD5OfBody).toBe(md5(unicode));
    });

    it("the reference attribute MD5 matches SQS's published digests", async () => {
      const t = w();
      const url = await t.queue("s");
      const vectors: Array<[MessageAttributes, string]> = [
        [{ SellerName: str("Example Store") }, "cd28f3b68aeee4b2eac9c66f2f694b58"],
        [{ ordinal: num("1"), category: str("test") }, "d21ae90c49061e927f57df5f5d72be1f"],
      ];
      for (const [attributes, digest] of vectors) {
        expect(referenceMd5OfAttributes(attributes)).toBe(digest);
        expect(
          (await t.send(url, "x", { MessageAttributes: attributes })).MD5OfMessageAttributes,
        ).toBe(digest);
      }
    });

    it("returns SQS's MD5OfMessageAttributes and delivers the attributes intact", async () => {
      const t = w();
      const url = await t.queue("s");
      const attributes: MessageAttributes = {
        zeta: str("last"),
        Alpha: str("ünïcødé ✓"),
        count: num("-12.5"),
        price: num("3.14", "Number.float"),
        blob: bin([0, 1, 2, 254, 255]),
        image: bin([137, 80, 78, 71], "Binary.png"),
        note: str("custom", "String.note"),
      };
      const sent = await t.send(url, "with attributes", { MessageAttributes: attributes });
      expect(sent.MD5OfMessageAttributes).toBe(referenceMd5OfAttributes(attributes));
      const message = await t.receiveOne(url, { MessageAttributeNames: ["All"] });
      expect(plain(message.MessageAttributes)).toEqual(plain(attributes));
      expect(message.MD5OfMessageAttributes).toBe(referenceMd5OfAttributes(attributes));
    });

    it("rejects an empty body with MissingParameter", async () => {
      const t = w();
      const url = await t.queue("s");
      await expectError(() => t.send(url, ""), "MissingParameter");
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    it("rejects characters outside SQS's allowed set with InvalidMessageContents", async () => {
      const t = w();
      const url = await t.queue("s");
      const bad = [
        "\u0000",
        "a\u0008b",
        "\u000B",
        "\u001F",
        "\uFFFE",
        "\uFFFF",
        "\uD800",
        "x\uDC00",
        "\uDBFF!",
      ];
      for (const body of bad)
        await expectError(() => t.send(url, body), "InvalidMessageContents", JSON.stringify(body));
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    it("accepts every character of SQS's allowed set and delivers the body unchanged", async () => {
      const t = w();
      const url = await t.queue("s");
      const body = "\t\n\r ~\u00e9\uD7FF\uE000\uFFFD\u{10000}😀\u{10FFFF}";
      const sent = await t.send(url, body);
      expect(sent.MD5OfMessageBody).toBe(md5(body));
      const message = await t.receiveOne(url);
      expect(message.Body).toBe(body);
      expect(message.MD5OfBody).toBe(md5(body));
    });

    it("rejects a body over MaximumMessageSize (UTF-8 bytes) with InvalidParameterValue", async () => {
      const t = w();
      const url = await t.queue("small", { MaximumMessageSize: "1024" });
      await expectOk(() => t.send(url, "x".repeat(1024)), "1024 ASCII bytes");
      await expectOk(() => t.send(url, "é".repeat(512)), "512 two-byte characters");
      await expectError(() => t.send(url, "x".repeat(1025)), "InvalidParameterValue", "1025 bytes");
      await expectError(() => t.send(url, "é".repeat(513)), "InvalidParameterValue", "1026 bytes");
      const big = await t.queue("default-size");
      await expectOk(() => t.send(big, "x".repeat(262144)), "262144 bytes");
      await expectError(
        () => t.send(big, "x".repeat(262145)),
        "InvalidParameterValue",
        "262145 bytes",
      );
      expect((await t.counts(url)).visible).toBe(2);
    });

    it("stores and returns a message of the full 1 MiB, attributes included", async () => {
      const t = w();
      const url = await t.queue("huge", { MaximumMessageSize: "1048576" });
      const attributes = {
        blob: { DataType: "Binary", BinaryValue: new Uint8Array(24_000).fill(7) },
      };
      const body = "é".repeat(512_000); // 1,024,000 bytes of UTF-8
      await t.send(url, body, { MessageAttributes: attributes });
      const message = await t.receiveOne(url, { MessageAttributeNames: ["All"] });
      expect(message.Body).toBe(body);
      expect(message.MessageAttributes?.blob?.BinaryValue).toEqual(attributes.blob.BinaryValue);
    });

    it("counts message attributes towards MaximumMessageSize", async () => {
      const t = w();
      const url = await t.queue("small", { MaximumMessageSize: "1024" });
      await expectOk(
        () => t.send(url, "x".repeat(1000), { MessageAttributes: { a: str("xyz") } }),
        "1010 bytes in all",
      );
      await expectError(
        () => t.send(url, "x".repeat(1000), { MessageAttributes: { a: str("x".repeat(30)) } }),
        "InvalidParameterValue",
      );
      expect((await t.counts(url)).visible).toBe(1);
    });

    it("rejects a per-message DelaySeconds outside 0-900 with InvalidParameterValue", async () => {
      const t = w();
      const url = await t.queue("s");
      for (const DelaySeconds of [-1, 901])
        await expectError(
          () => t.send(url, "x", { DelaySeconds }),
          "InvalidParameterValue",
          `DelaySeconds ${DelaySeconds}`,
        );
      await expectOk(() => t.send(url, "x", { DelaySeconds: 900 }), "DelaySeconds 900");
      const error = await expectError(
        () => t.send(url, "x", { DelaySeconds: 901 }),
        "InvalidParameterValue",
      );
      expect(error.field).toEqual(expect.any(String));
      expect(error.field!.length).toBeGreaterThan(0);
    });

    it("accepts up to 10 message attributes and rejects 11", async () => {
      const t = w();
      const url = await t.queue("s");
      const many = (n: number): MessageAttributes =>
        Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, str(`v${i}`)]));
      await expectOk(() => t.send(url, "x", { MessageAttributes: many(10) }), "10 attributes");
      await expectError(
        () => t.send(url, "x", { MessageAttributes: many(11) }),
        "InvalidParameterValue",
      );
    });

    it("rejects bad message attribute names with InvalidParameterValue", async () => {
      const t = w();
      const url = await t.queue("s");
      const bad = [
        "bad name",
        "bad/name",
        "AWS.trace",
        "Amazon.thing",
        ".lead",
        "trail.",
        "dou..ble",
        "x".repeat(257),
        "",
      ];
      for (const name of bad)
        await expectError(
          () => t.send(url, "x", { MessageAttributes: { [name]: str("v") } }),
          "InvalidParameterValue",
          JSON.stringify(name.length > 20 ? `${name.slice(0, 20)}…` : name),
        );
      for (const name of ["a.b-c_D9", "x".repeat(256), "AWSish", "aws_x"])
        await expectOk(
          () => t.send(url, "x", { MessageAttributes: { [name]: str("v") } }),
          name.slice(0, 20),
        );
      const error = await expectError(
        () => t.send(url, "x", { MessageAttributes: { "bad name": str("v") } }),
        "InvalidParameterValue",
      );
      expect(error.field).toEqual(expect.any(String));
      expect(error.field!.length).toBeGreaterThan(0);
    });

    it("rejects a bad DataType, a missing value and a non-numeric Number with InvalidParameterValue", async () => {
      const t = w();
      const url = await t.queue("s");
      const bad: Array<[string, MessageAttributeValue]> = [
        ["DataType Integer", { DataType: "Integer", StringValue: "1" }],
        ["DataType string", { DataType: "string", StringValue: "1" }],
        ["DataType Numberx", { DataType: "Numberx", StringValue: "1" }],
        ["empty DataType", { DataType: "", StringValue: "1" }],
        ["String without value", { DataType: "String" }],
        ["String with empty value", { DataType: "String", StringValue: "" }],
        ["Number without value", { DataType: "Number" }],
        ["Binary without value", { DataType: "Binary" }],
        ["Number abc", num("abc")],
        ["Number 12abc", num("12abc")],
        ["Number.int x", num("x", "Number.int")],
        ["Number of 39 significant digits", num("1" + "2".repeat(38))],
        ["Number of 39 digits after a point", num("0.1" + "2".repeat(38))],
      ];
      for (const [label, value] of bad)
        await expectError(
          () => t.send(url, "x", { MessageAttributes: { a: value } }),
          "InvalidParameterValue",
          label,
        );
      const good: Array<[string, MessageAttributeValue]> = [
        ["Number 42", num("42")],
        ["Number -3.25", num("-3.25")],
        ["Number of 38 digits behind zeros", num("-000.00" + "1".repeat(38))],
        ["Number of 38 digits and an exponent", num("1".repeat(38) + "e15")],
        ["String.custom", str("v", "String.custom")],
        ["Binary.gif", bin([1], "Binary.gif")],
      ];
      for (const [label, value] of good)
        await expectOk(() => t.send(url, "x", { MessageAttributes: { a: value } }), label);
      expect((await t.counts(url)).visible).toBe(good.length);
    });
  });
}

function batchTests(w: WorldRef): void {
  const entries = (n: number, prefix = "m"): SendMessageBatchRequestEntry[] =>
    Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, MessageBody: `${prefix}${i}` }));

  describe("batches", () => {
    it("sendMessageBatch sends every entry and reports each by Id", async () => {
      const t = w();
      const url = await t.queue("b");
      const attributes: MessageAttributes = { k: str("v") };
      const result = await t.svc.sendMessageBatch({
        QueueUrl: url,
        Entries: [
          { Id: "first", MessageBody: "one" },
          { Id: "second", MessageBody: "two", MessageAttributes: attributes },
          { Id: "third", MessageBody: "three" },
        ],
      });
      expect(result.Failed).toEqual([]);
      const byId = new Map(result.Successful.map((s) => [s.Id, s]));
      expect([...byId.keys()].sort()).toEqual(["first", "second", "third"]);
      expect(byId.get("first")?.MD5OfMessageBody).toBe(md5("one"));
      expect(byId.get("second")?.MD5OfMessageAttributes).toBe(referenceMd5OfAttributes(attributes));
      for (const s of result.Successful) expect(s.MessageId).toMatch(UUID);
      const received = await t.receive(url, { MaxNumberOfMessages: 10 });
      expect(bodiesOf(received).sort()).toEqual(["one", "three", "two"]);
      expect(new Set(received.map((m) => m.MessageId))).toEqual(
        new Set(result.Successful.map((s) => s.MessageId)),
      );
    });

    it("rejects a whole batch of 0 entries (EmptyBatchRequest) or 11 (TooManyEntriesInBatchRequest)", async () => {
      const t = w();
      const url = await t.queue("b");
      await t.send(url, "target");
      const { ReceiptHandle } = await t.receiveOne(url);
      const handles = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, ReceiptHandle }));
      const visibility = (n: number) => handles(n).map((e) => ({ ...e, VisibilityTimeout: 0 }));
      await expectError(
        () => t.svc.sendMessageBatch({ QueueUrl: url, Entries: [] }),
        "EmptyBatchRequest",
        "send",
      );
      await expectError(
        () => t.svc.deleteMessageBatch({ QueueUrl: url, Entries: [] }),
        "EmptyBatchRequest",
        "delete",
      );
      await expectError(
        () => t.svc.changeMessageVisibilityBatch({ QueueUrl: url, Entries: [] }),
        "EmptyBatchRequest",
        "change visibility",
      );
      await expectError(
        () => t.svc.sendMessageBatch({ QueueUrl: url, Entries: entries(11) }),
        "TooManyEntriesInBatchRequest",
        "send",
      );
      await expectError(
        () => t.svc.deleteMessageBatch({ QueueUrl: url, Entries: handles(11) }),
        "TooManyEntriesInBatchRequest",
        "delete",
      );
      await expectError(
        () => t.svc.changeMessageVisibilityBatch({ QueueUrl: url, Entries: visibility(11) }),
        "TooManyEntriesInBatchRequest",
        "change visibility",
      );
      // Nothing took effect: no message sent, the in-flight one neither deleted nor made visible.
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      const ten = await t.svc.sendMessageBatch({ QueueUrl: url, Entries: entries(10) });
      expect(ten.Successful).toHaveLength(10);
    });

    it("rejects a whole batch with a repeated Id (BatchEntryIdsNotDistinct)", async () => {
      const t = w();
      const url = await t.queue("b");
      await t.send(url, "target");
      const { ReceiptHandle } = await t.receiveOne(url);
      await expectError(
        () =>
          t.svc.sendMessageBatch({
            QueueUrl: url,
            Entries: [
              { Id: "same", MessageBody: "a" },
              { Id: "other", MessageBody: "b" },
              { Id: "same", MessageBody: "c" },
            ],
          }),
        "BatchEntryIdsNotDistinct",
        "send",
      );
      await expectError(
        () =>
          t.svc.deleteMessageBatch({
            QueueUrl: url,
            Entries: [
              { Id: "same", ReceiptHandle },
              { Id: "same", ReceiptHandle },
            ],
          }),
        "BatchEntryIdsNotDistinct",
        "delete",
      );
      await expectError(
        () =>
          t.svc.changeMessageVisibilityBatch({
            QueueUrl: url,
            Entries: [
              { Id: "same", ReceiptHandle, VisibilityTimeout: 0 },
              { Id: "same", ReceiptHandle, VisibilityTimeout: 0 },
            ],
          }),
        "BatchEntryIdsNotDistinct",
        "change visibility",
      );
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
    });

    it("rejects a whole batch with an Id outside [A-Za-z0-9_-]{1,80} (InvalidBatchEntryId)", async () => {
      const t = w();
      const url = await t.queue("b");
      await t.send(url, "target");
      const { ReceiptHandle } = await t.receiveOne(url);
      for (const id of ["has space", "dot.id", "", "x".repeat(81), "ünï"]) {
        const label = JSON.stringify(id.slice(0, 20));
        await expectError(
          () =>
            t.svc.sendMessageBatch({
              QueueUrl: url,
              Entries: [
                { Id: "ok", MessageBody: "a" },
                { Id: id, MessageBody: "b" },
              ],
            }),
          "InvalidBatchEntryId",
          `send ${label}`,
        );
        await expectError(
          () => t.svc.deleteMessageBatch({ QueueUrl: url, Entries: [{ Id: id, ReceiptHandle }] }),
          "InvalidBatchEntryId",
          `delete ${label}`,
        );
        await expectError(
          () =>
            t.svc.changeMessageVisibilityBatch({
              QueueUrl: url,
              Entries: [{ Id: id, ReceiptHandle, VisibilityTimeout: 0 }],
            }),
          "InvalidBatchEntryId",
          `change visibility ${label}`,
        );
      }
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      const ok = await t.svc.sendMessageBatch({
        QueueUrl: url,
        Entries: [
          { Id: "x".repeat(80), MessageBody: "a" },
          { Id: "A_b-9", MessageBody: "b" },
        ],
      });
      expect(ok.Successful.map((s) => s.Id).sort()).toEqual(["A_b-9", "x".repeat(80)]);
    });

    it("rejects a send batch over 1,048,576 bytes in total with BatchRequestTooLong", async () => {
      const t = w();
      const url = await t.queue("b", { MaximumMessageSize: "1048576" });
      await expectError(
        () =>
          t.svc.sendMessageBatch({
            QueueUrl: url,
            Entries: [
              { Id: "a", MessageBody: "a".repeat(600_000) },
              { Id: "b", MessageBody: "b".repeat(600_000) },
            ],
          }),
        "BatchRequestTooLong",
      );
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
      const fits = await t.svc.sendMessageBatch({
        QueueUrl: url,
        Entries: Array.from({ length: 10 }, (_, i) => ({
          Id: `e${i}`,
          MessageBody: "x".repeat(100_000),
        })),
      });
      expect(fits.Successful).toHaveLength(10);
    });

    it("a bad entry lands in Failed with its Id, SenderFault and SQS's code; the others are sent", async () => {
      const t = w();
      const url = await t.queue("b");
      const result = await t.svc.sendMessageBatch({
        QueueUrl: url,
        Entries: [
          { Id: "good1", MessageBody: "fine" },
          { Id: "badChars", MessageBody: "nul\u0000" },
          { Id: "badDelay", MessageBody: "late", DelaySeconds: 901 },
          { Id: "good2", MessageBody: "also fine" },
        ],
      });
      expect(result.Successful.map((s) => s.Id).sort()).toEqual(["good1", "good2"]);
      expect(failures(result.Failed)).toEqual([
        {
          Id: "badChars",
          SenderFault: true,
          Code: "InvalidMessageContents",
          hasMessage: true,
        },
        {
          Id: "badDelay",
          SenderFault: true,
          Code: "InvalidParameterValue",
          hasMessage: true,
        },
      ]);
      expect(bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 })).sort()).toEqual([
        "also fine",
        "fine",
      ]);
    });

    it("deleteMessageBatch deletes the good entries and reports a bad handle in Failed", async () => {
      const t = w();
      const url = await t.queue("b");
      for (const body of ["a", "b", "c"]) await t.send(url, body);
      const got = await t.receive(url, { MaxNumberOfMessages: 10 });
      expect(got).toHaveLength(3);
      const [first, second, keep] = got as [Message, Message, Message];
      const result = await t.svc.deleteMessageBatch({
        QueueUrl: url,
        Entries: [
          { Id: "one", ReceiptHandle: first.ReceiptHandle },
          { Id: "two", ReceiptHandle: second.ReceiptHandle },
          { Id: "bad", ReceiptHandle: "not-a-receipt-handle" },
        ],
      });
      expect(result.Successful.map((s) => s.Id).sort()).toEqual(["one", "two"]);
      expect(failures(result.Failed)).toEqual([
        {
          Id: "bad",
          SenderFault: true,
          Code: "ReceiptHandleIsInvalid",
          hasMessage: true,
        },
      ]);
      await t.advance(31);
      expect(bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }))).toEqual([keep.Body]);
    });

    it("changeMessageVisibilityBatch changes the good entries and reports a bad handle in Failed", async () => {
      const t = w();
      const url = await t.queue("b");
      for (const body of ["now", "later"]) await t.send(url, body);
      const got = await t.receive(url, { MaxNumberOfMessages: 10 });
      const now = got.find((m) => m.Body === "now")!;
      const later = got.find((m) => m.Body === "later")!;
      const result = await t.svc.changeMessageVisibilityBatch({
        QueueUrl: url,
        Entries: [
          { Id: "now", ReceiptHandle: now.ReceiptHandle, VisibilityTimeout: 0 },
          { Id: "later", ReceiptHandle: later.ReceiptHandle, VisibilityTimeout: 100 },
          { Id: "bad", ReceiptHandle: "garbage", VisibilityTimeout: 0 },
        ],
      });
      expect(result.Successful.map((s) => s.Id).sort()).toEqual(["later", "now"]);
      expect(failures(result.Failed)).toEqual([
        {
          Id: "bad",
          SenderFault: true,
          Code: "ReceiptHandleIsInvalid",
          hasMessage: true,
        },
      ]);
      const again = await t.receive(url, { MaxNumberOfMessages: 10 });
      expect(bodiesOf(again)).toEqual(["now"]);
      await t.delete(url, again[0]!);
      await t.advance(60);
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
      await t.advance(41);
      expect(bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }))).toEqual(["later"]);
    });
  });
}

function receiveTests(w: WorldRef): void {
  describe("receiveMessage", () => {
    it("rejects MaxNumberOfMessages, WaitTimeSeconds or VisibilityTimeout out of range with InvalidParameterValue", async () => {
      const t = w();
      const url = await t.queue("r");
      await t.send(url, "x");
      const cases: Array<[string, ReceiveExtras]> = [
        ["MaxNumberOfMessages 0", { MaxNumberOfMessages: 0 }],
        ["MaxNumberOfMessages 11", { MaxNumberOfMessages: 11 }],
        ["WaitTimeSeconds -1", { WaitTimeSeconds: -1 }],
        ["WaitTimeSeconds 21", { WaitTimeSeconds: 21 }],
        ["VisibilityTimeout -1", { VisibilityTimeout: -1 }],
        ["VisibilityTimeout 43201", { VisibilityTimeout: 43201 }],
      ];
      for (const [label, extras] of cases)
        await expectError(() => t.receive(url, extras), "InvalidParameterValue", label);
      expect(await t.counts(url)).toEqual({ visible: 1, inflight: 0, delayed: 0 });
    });

    it("returns one message by default and up to MaxNumberOfMessages", async () => {
      const t = w();
      const url = await t.queue("r");
      for (let i = 0; i < 15; i++) await t.send(url, `m${i}`);
      const one = await t.receive(url);
      expect(one).toHaveLength(1);
      const ten = await t.receive(url, { MaxNumberOfMessages: 10 });
      expect(ten).toHaveLength(10);
      const rest = await t.receive(url, { MaxNumberOfMessages: 10 });
      expect(rest).toHaveLength(4);
      const all = bodiesOf([...one, ...ten, ...rest]).sort();
      expect(all).toEqual(Array.from({ length: 15 }, (_, i) => `m${i}`).sort());
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
    });

    it("hides a received message for the queue's visibility timeout, then returns it with a new handle", async () => {
      const t = w();
      const url = await t.queue("r");
      const sent = await t.send(url, "m");
      const first = await t.receiveOne(url, { AttributeNames: ["ApproximateReceiveCount"] });
      expect(first.MessageId).toBe(sent.MessageId);
      expect(first.Attributes?.ApproximateReceiveCount).toBe("1");
      expect(await t.receive(url)).toEqual([]);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      await t.advance(29);
      expect(await t.receive(url)).toEqual([]);
      await t.advance(1.5);
      const second = await t.receiveOne(url, { AttributeNames: ["ApproximateReceiveCount"] });
      expect(second.MessageId).toBe(sent.MessageId);
      expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);
      expect(second.Attributes?.ApproximateReceiveCount).toBe("2");
    });

    it("honours the queue's VisibilityTimeout and a per-receive override", async () => {
      const t = w();
      const url = await t.queue("r", { VisibilityTimeout: "10" });
      await t.send(url, "m");
      await t.receiveOne(url);
      await t.advance(9);
      expect(await t.receive(url)).toEqual([]);
      await t.advance(2);
      await t.receiveOne(url, { VisibilityTimeout: 100 });
      await t.advance(99);
      expect(await t.receive(url)).toEqual([]);
      await t.advance(2);
      await t.receiveOne(url, { VisibilityTimeout: 0 });
      const again = await t.receiveOne(url, { AttributeNames: ["ApproximateReceiveCount"] });
      expect(again.Attributes?.ApproximateReceiveCount).toBe("4");
    });

    it("returns the requested system attributes with virtual-clock timestamps", async () => {
      const t = w();
      const url = await t.queue("r");
      const sentAt = t.clock.now();
      await t.send(url, "m");
      await t.advance(2);
      const firstReceiveAt = t.clock.now();
      const first = await t.receiveOne(url, { MessageSystemAttributeNames: ["All"] });
      expect(first.Attributes).toMatchObject({
        SentTimestamp: String(sentAt),
        ApproximateFirstReceiveTimestamp: String(firstReceiveAt),
        ApproximateReceiveCount: "1",
      });
      expect(first.Attributes?.MessageGroupId).toBeUndefined();
      expect(first.Attributes?.SequenceNumber).toBeUndefined();
      await t.advance(31);
      const second = await t.receiveOne(url, { AttributeNames: ["All"] });
      expect(second.Attributes).toMatchObject({
        SentTimestamp: String(sentAt),
        ApproximateFirstReceiveTimestamp: String(firstReceiveAt),
        ApproximateReceiveCount: "2",
      });
    });

    it("returns only the system attributes asked for, by either parameter name", async () => {
      const t = w();
      const url = await t.queue("r");
      for (let i = 0; i < 3; i++)
        await t.send(url, `m${i}`, { MessageAttributes: { k: str("v") } });
      const none = await t.receiveOne(url);
      expect(none.Attributes ?? {}).toEqual({});
      expect(none.MessageAttributes ?? {}).toEqual({});
      expect(none.MD5OfMessageAttributes).toBeUndefined();
      const count = await t.receiveOne(url, { AttributeNames: ["ApproximateReceiveCount"] });
      expect(count.Attributes).toEqual({ ApproximateReceiveCount: "1" });
      const sent = await t.receiveOne(url, {
        MessageSystemAttributeNames: ["SentTimestamp", "ApproximateFirstReceiveTimestamp"],
      });
      expect(sent.Attributes).toEqual({
        SentTimestamp: String(t.clock.now()),
        ApproximateFirstReceiveTimestamp: String(t.clock.now()),
      });
    });

    it("selects message attributes by All, .*, exact names and prefix.*, with the MD5 of those returned", async () => {
      const t = w();
      const url = await t.queue("r");
      const attributes: MessageAttributes = {
        "order.id": str("o-1"),
        "order.total": num("12.50"),
        customer: str("ada"),
        trace: bin([1, 2, 3]),
      };
      const cases: Array<[string[], string[]]> = [
        [["All"], ["order.id", "order.total", "customer", "trace"]],
        [[".*"], ["order.id", "order.total", "customer", "trace"]],
        [["customer"], ["customer"]],
        [["order.*"], ["order.id", "order.total"]],
        [
          ["customer", "order.*"],
          ["order.id", "order.total", "customer"],
        ],
        [["missing"], []],
      ];
      for (let i = 0; i < cases.length; i++)
        await t.send(url, `m${i}`, { MessageAttributes: attributes });
      for (const [names, expected] of cases) {
        const message = await t.receiveOne(url, { MessageAttributeNames: names });
        const label = JSON.stringify(names);
        expect(plain(message.MessageAttributes), label).toEqual(plain(pick(attributes, expected)));
        if (expected.length === 0) expect(message.MD5OfMessageAttributes, label).toBeUndefined();
        else
          expect(message.MD5OfMessageAttributes, label).toBe(
            referenceMd5OfAttributes(pick(attributes, expected)),
          );
        await t.delete(url, message);
      }
    });
  });
}

function longPollingTests(w: WorldRef): void {
  describe("long polling", () => {
    it("a waiting receive resolves as soon as a message is sent", async () => {
      const t = w();
      const url = await t.queue("lp");
      const start = t.clock.now();
      const poll = watch(
        t.svc.receiveMessage({ QueueUrl: url, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }),
      );
      await t.clock.advance(5000);
      await t.settle();
      expect(poll.settled()).toBe(false);
      await t.send(url, "wake up");
      await t.settle();
      expect(poll.settled()).toBe(true);
      expect(bodiesOf((await poll.promise).Messages)).toEqual(["wake up"]);
      expect(t.clock.now() - start).toBe(5000);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
    });

    it("a waiting receive resolves empty once WaitTimeSeconds has passed", async () => {
      const t = w();
      const url = await t.queue("lp");
      const poll = watch(t.svc.receiveMessage({ QueueUrl: url, WaitTimeSeconds: 20 }));
      await t.clock.advance(19_000);
      await t.settle();
      expect(poll.settled()).toBe(false);
      await t.clock.advance(1_001);
      await t.settle();
      expect(poll.settled()).toBe(true);
      expect((await poll.promise).Messages).toEqual([]);
    });

    it("uses the queue's ReceiveMessageWaitTimeSeconds when the receive gives none", async () => {
      const t = w();
      const url = await t.queue("lp", { ReceiveMessageWaitTimeSeconds: "10" });
      const poll = watch(t.svc.receiveMessage({ QueueUrl: url }));
      await t.advance(5);
      await t.settle();
      expect(poll.settled()).toBe(false);
      await t.advance(5.001);
      await t.settle();
      expect(poll.settled()).toBe(true);
      expect((await poll.promise).Messages).toEqual([]);
      const short = watch(t.svc.receiveMessage({ QueueUrl: url, WaitTimeSeconds: 0 }));
      await t.settle();
      expect(short.settled()).toBe(true);
      expect((await short.promise).Messages).toEqual([]);
    });

    it("a waiting receive returns a delayed message when it becomes due", async () => {
      const t = w();
      const url = await t.queue("lp");
      await t.send(url, "soon", { DelaySeconds: 5 });
      const poll = watch(t.svc.receiveMessage({ QueueUrl: url, WaitTimeSeconds: 20 }));
      await t.advance(4);
      await t.settle();
      expect(poll.settled()).toBe(false);
      await t.advance(1.5);
      await t.settle();
      expect(poll.settled()).toBe(true);
      expect(bodiesOf((await poll.promise).Messages)).toEqual(["soon"]);
    });

    it("an aborted signal ends the wait with an empty result", async () => {
      const t = w();
      const url = await t.queue("lp");
      const controller = new AbortController();
      const poll = watch(
        t.svc.receiveMessage({ QueueUrl: url, WaitTimeSeconds: 20, signal: controller.signal }),
      );
      await t.advance(1);
      await t.settle();
      expect(poll.settled()).toBe(false);
      controller.abort();
      await t.settle();
      expect(poll.settled()).toBe(true);
      expect((await poll.promise).Messages).toEqual([]);
      await t.send(url, "for someone else");
      expect(bodiesOf(await t.receive(url))).toEqual(["for someone else"]);
    });

    it("close ends pending long polls with an empty result", async () => {
      const t = w();
      const url = await t.queue("lp");
      const poll = watch(t.svc.receiveMessage({ QueueUrl: url, WaitTimeSeconds: 20 }));
      await t.advance(1);
      await t.settle();
      expect(poll.settled()).toBe(false);
      await t.close();
      await t.settle();
      expect(poll.settled()).toBe(true);
      expect((await poll.promise).Messages).toEqual([]);
    });
  });
}

function delayAndRetentionTests(w: WorldRef): void {
  describe("delays", () => {
    it("the queue's DelaySeconds keeps new messages invisible, counted as delayed, until due", async () => {
      const t = w();
      const url = await t.queue("d", { DelaySeconds: "10" });
      await t.send(url, "m");
      expect(await t.receive(url)).toEqual([]);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 1 });
      await t.advance(9);
      expect(await t.receive(url)).toEqual([]);
      await t.advance(1.5);
      expect(await t.counts(url)).toEqual({ visible: 1, inflight: 0, delayed: 0 });
      expect(bodiesOf(await t.receive(url))).toEqual(["m"]);
    });

    it("a per-message DelaySeconds delays that message only, and overrides the queue's", async () => {
      const t = w();
      const url = await t.queue("d");
      await t.send(url, "late", { DelaySeconds: 5 });
      await t.send(url, "now");
      expect(await t.counts(url)).toEqual({ visible: 1, inflight: 0, delayed: 1 });
      expect(bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }))).toEqual(["now"]);
      await t.advance(4);
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
      await t.advance(1.5);
      expect(bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }))).toEqual(["late"]);
      const delayQueue = await t.queue("slow", { DelaySeconds: "60" });
      await t.send(delayQueue, "immediate", { DelaySeconds: 0 });
      expect(bodiesOf(await t.receive(delayQueue))).toEqual(["immediate"]);
    });

    it("a FIFO queue rejects a per-message DelaySeconds but applies its own DelaySeconds", async () => {
      const t = w();
      const url = await t.fifo("d", { DelaySeconds: "5" });
      await expectError(
        () =>
          t.send(url, "x", { MessageGroupId: "g", MessageDeduplicationId: "x", DelaySeconds: 1 }),
        "InvalidParameterValue",
      );
      await t.sendFifo(url, "m", "g");
      expect(await t.receive(url)).toEqual([]);
      expect((await t.counts(url)).delayed).toBe(1);
      await t.advance(5.5);
      expect(bodiesOf(await t.receive(url))).toEqual(["m"]);
    });
  });

  describe("retention", () => {
    it("drops messages older than MessageRetentionPeriod", async () => {
      const t = w();
      const url = await t.queue("ret", { MessageRetentionPeriod: "60" });
      await t.send(url, "old");
      await t.advance(30);
      await t.send(url, "young");
      await t.advance(29);
      expect((await t.counts(url)).visible).toBe(2);
      await t.advance(2);
      expect(bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }))).toEqual(["young"]);
      await t.advance(60);
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    it("keeps messages for the default 4 days and no longer", async () => {
      const t = w();
      const url = await t.queue("ret");
      await t.send(url, "m");
      await t.advance(345_600 - 10);
      expect((await t.counts(url)).visible).toBe(1);
      await t.advance(20);
      expect(await t.receive(url)).toEqual([]);
      expect((await t.counts(url)).visible).toBe(0);
    });
  });
}

function deleteTests(w: WorldRef): void {
  describe("deleteMessage", () => {
    it("deletes a message with its current receipt handle", async () => {
      const t = w();
      const url = await t.queue("del");
      await t.send(url, "m");
      await t.delete(url, await t.receiveOne(url));
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
      await t.advance(31);
      expect(await t.receive(url)).toEqual([]);
    });

    it("rejects a malformed receipt handle with ReceiptHandleIsInvalid", async () => {
      const t = w();
      const url = await t.queue("del");
      await t.send(url, "m");
      await t.receiveOne(url);
      for (const handle of ["not-a-handle", "AQEB", "x".repeat(300)])
        await expectError(
          () => t.svc.deleteMessage({ QueueUrl: url, ReceiptHandle: handle }),
          "ReceiptHandleIsInvalid",
          handle.slice(0, 20),
        );
      expect((await t.counts(url)).inflight).toBe(1);
    });

    it("rejects a receipt handle from another queue with ReceiptHandleIsInvalid", async () => {
      const t = w();
      const a = await t.queue("a");
      const b = await t.queue("b");
      await t.send(a, "in a");
      await t.send(b, "in b");
      await t.receiveOne(a);
      const fromB = await t.receiveOne(b);
      await expectError(
        () => t.svc.deleteMessage({ QueueUrl: a, ReceiptHandle: fromB.ReceiptHandle }),
        "ReceiptHandleIsInvalid",
      );
      await t.advance(31);
      expect(bodiesOf(await t.receive(a))).toEqual(["in a"]);
      expect(bodiesOf(await t.receive(b))).toEqual(["in b"]);
    });

    it("refuses a handle that was never issued (forged from a real one's fields) and deletes nothing", async () => {
      const t = w();
      const url = await t.queue("forged");
      await t.send(url, "mine");
      const real = await t.receiveOne(url);
      // What a forger can build: the plain text of a handle's predictable fields.
      const text = Buffer.from(real.ReceiptHandle, "base64url").toString("latin1");
      const fields = /^[0-9a-f]{16}\.[0-9a-z]+\.[0-9a-z]+/.exec(text)?.[0] ?? text.slice(0, 40);
      const forgeries = [
        Buffer.from(fields, "latin1").toString("base64url"),
        `${real.ReceiptHandle.slice(0, -2)}${real.ReceiptHandle.endsWith("AA") ? "BB" : "AA"}`,
      ];
      for (const ReceiptHandle of forgeries) {
        await expectError(
          () => t.svc.deleteMessage({ QueueUrl: url, ReceiptHandle }),
          "ReceiptHandleIsInvalid",
        );
        await expectError(
          () =>
            t.svc.changeMessageVisibility({ QueueUrl: url, ReceiptHandle, VisibilityTimeout: 0 }),
          "ReceiptHandleIsInvalid",
        );
      }
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      await t.delete(url, real);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    it("deleting an already deleted message again succeeds", async () => {
      const t = w();
      const url = await t.queue("del");
      await t.send(url, "m");
      const message = await t.receiveOne(url);
      await t.delete(url, message);
      await expectOk(() => t.delete(url, message), "second delete");
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    it("a stale handle (received again since) is accepted but does not delete the message", async () => {
      const t = w();
      const url = await t.queue("del");
      await t.send(url, "m");
      const first = await t.receiveOne(url);
      await t.advance(31);
      const second = await t.receiveOne(url);
      await expectOk(() => t.delete(url, first), "delete with the stale handle");
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      await t.advance(31);
      const third = await t.receiveOne(url, { AttributeNames: ["ApproximateReceiveCount"] });
      expect(third.MessageId).toBe(second.MessageId);
      expect(third.Attributes?.ApproximateReceiveCount).toBe("3");
      await t.delete(url, third);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    it("the latest handle still deletes after the visibility timeout expired", async () => {
      const t = w();
      const url = await t.queue("del");
      await t.send(url, "m");
      const message = await t.receiveOne(url);
      await t.advance(40);
      await t.delete(url, message);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
      expect(await t.receive(url)).toEqual([]);
    });
  });
}

function visibilityTests(w: WorldRef): void {
  describe("changeMessageVisibility", () => {
    it("the new timeout counts from the call", async () => {
      const t = w();
      const url = await t.queue("vis");
      await t.send(url, "m");
      const message = await t.receiveOne(url);
      await t.advance(20);
      await t.svc.changeMessageVisibility({
        QueueUrl: url,
        ReceiptHandle: message.ReceiptHandle,
        VisibilityTimeout: 30,
      });
      await t.advance(15); // 35 s after the receive: past the original deadline
      expect(await t.receive(url)).toEqual([]);
      await t.advance(14); // 49 s
      expect(await t.receive(url)).toEqual([]);
      await t.advance(2); // 51 s
      expect(bodiesOf(await t.receive(url))).toEqual(["m"]);
    });

    it("can also shorten the timeout", async () => {
      const t = w();
      const url = await t.queue("vis", { VisibilityTimeout: "600" });
      await t.send(url, "m");
      const message = await t.receiveOne(url);
      await t.svc.changeMessageVisibility({
        QueueUrl: url,
        ReceiptHandle: message.ReceiptHandle,
        VisibilityTimeout: 10,
      });
      await t.advance(9);
      expect(await t.receive(url)).toEqual([]);
      await t.advance(2);
      expect(bodiesOf(await t.receive(url))).toEqual(["m"]);
    });

    it("a timeout of 0 makes the message visible at once", async () => {
      const t = w();
      const url = await t.queue("vis");
      await t.send(url, "m");
      const message = await t.receiveOne(url);
      await t.svc.changeMessageVisibility({
        QueueUrl: url,
        ReceiptHandle: message.ReceiptHandle,
        VisibilityTimeout: 0,
      });
      expect(await t.counts(url)).toEqual({ visible: 1, inflight: 0, delayed: 0 });
      const again = await t.receiveOne(url, { AttributeNames: ["ApproximateReceiveCount"] });
      expect(again.MessageId).toBe(message.MessageId);
      expect(again.Attributes?.ApproximateReceiveCount).toBe("2");
    });

    it("rejects a stale handle (received again since) with ReceiptHandleIsInvalid", async () => {
      const t = w();
      const url = await t.queue("vis");
      await t.send(url, "m");
      const first = await t.receiveOne(url);
      await t.advance(31);
      const second = await t.receiveOne(url);
      await expectError(
        () =>
          t.svc.changeMessageVisibility({
            QueueUrl: url,
            ReceiptHandle: first.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        "ReceiptHandleIsInvalid",
      );
      expect((await t.counts(url)).inflight).toBe(1);
      await t.svc.changeMessageVisibility({
        QueueUrl: url,
        ReceiptHandle: second.ReceiptHandle,
        VisibilityTimeout: 0,
      });
      expect((await t.counts(url)).visible).toBe(1);
    });

    it("rejects a malformed handle with ReceiptHandleIsInvalid", async () => {
      const t = w();
      const url = await t.queue("vis");
      await expectError(
        () =>
          t.svc.changeMessageVisibility({
            QueueUrl: url,
            ReceiptHandle: "nonsense",
            VisibilityTimeout: 0,
          }),
        "ReceiptHandleIsInvalid",
      );
    });

    it("rejects a message whose visibility expired (not received again) with MessageNotInflight", async () => {
      const t = w();
      const url = await t.queue("vis");
      await t.send(url, "m");
      const message = await t.receiveOne(url);
      await t.advance(31);
      await expectError(
        () =>
          t.svc.changeMessageVisibility({
            QueueUrl: url,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 60,
          }),
        "MessageNotInflight",
      );
      expect(bodiesOf(await t.receive(url))).toEqual(["m"]);
    });

    it("rejects a timeout outside 0-43200 or one ending more than 43200 s after the receive", async () => {
      const t = w();
      const url = await t.queue("vis");
      await t.send(url, "m");
      // Received with a long timeout, so it is still in flight 100 s later.
      const { ReceiptHandle } = await t.receiveOne(url, { VisibilityTimeout: 600 });
      for (const VisibilityTimeout of [-1, 43201])
        await expectError(
          () => t.svc.changeMessageVisibility({ QueueUrl: url, ReceiptHandle, VisibilityTimeout }),
          "InvalidParameterValue",
          `VisibilityTimeout ${VisibilityTimeout}`,
        );
      await t.advance(100);
      await expectError(
        () =>
          t.svc.changeMessageVisibility({ QueueUrl: url, ReceiptHandle, VisibilityTimeout: 43200 }),
        "InvalidParameterValue",
        "43300 s in all",
      );
      await expectOk(
        () =>
          t.svc.changeMessageVisibility({ QueueUrl: url, ReceiptHandle, VisibilityTimeout: 43000 }),
        "43100 s in all",
      );
      await t.advance(42_999);
      expect(await t.receive(url)).toEqual([]);
      await t.advance(2);
      expect(bodiesOf(await t.receive(url))).toEqual(["m"]);
    });
  });
}

function deadLetterTests(w: WorldRef): void {
  describe("dead-letter queues", () => {
    it("stores a valid RedrivePolicy", async () => {
      const t = w();
      await t.queue("dlq");
      const url = await t.queue("src", { RedrivePolicy: redrivePolicy(arnOf("dlq"), 3) });
      const stored = (await t.attributes(url)).RedrivePolicy;
      expect(JSON.parse(stored ?? "null")).toEqual({
        deadLetterTargetArn: arnOf("dlq"),
        maxReceiveCount: 3,
      });
    });

    it("rejects a bad RedrivePolicy with InvalidParameterValue", async () => {
      const t = w();
      await t.queue("dlq");
      await t.fifo("dlq");
      const cases: Array<[string, string, QueueAttributes]> = [
        ["maxReceiveCount 0", "src", { RedrivePolicy: redrivePolicy(arnOf("dlq"), 0) }],
        ["maxReceiveCount 1001", "src", { RedrivePolicy: redrivePolicy(arnOf("dlq"), 1001) }],
        ["missing DLQ", "src", { RedrivePolicy: redrivePolicy(arnOf("nowhere"), 3) }],
        ["not JSON", "src", { RedrivePolicy: "{not json" }],
        [
          "standard source, FIFO DLQ",
          "src",
          { RedrivePolicy: redrivePolicy(arnOf("dlq.fifo"), 3) },
        ],
        [
          "FIFO source, standard DLQ",
          "src.fifo",
          { FifoQueue: "true", RedrivePolicy: redrivePolicy(arnOf("dlq"), 3) },
        ],
      ];
      for (const [label, name, attributes] of cases)
        await expectError(() => t.queue(name, attributes), "InvalidParameterValue", label);
      for (const n of [1, 1000])
        await expectOk(
          () => t.queue(`ok${n}`, { RedrivePolicy: redrivePolicy(arnOf("dlq"), n) }),
          `maxReceiveCount ${n}`,
        );
      const existing = await t.queue("existing");
      await expectError(
        () =>
          t.svc.setQueueAttributes({
            QueueUrl: existing,
            Attributes: { RedrivePolicy: redrivePolicy(arnOf("nowhere"), 3) },
          }),
        "InvalidParameterValue",
        "set with missing DLQ",
      );
    });

    it("moves a message to the DLQ after maxReceiveCount receives, keeping id, body and attributes", async () => {
      const t = w();
      const dlq = await t.queue("dlq");
      const src = await t.queue("src", {
        VisibilityTimeout: "5",
        RedrivePolicy: redrivePolicy(arnOf("dlq"), 2),
      });
      const attributes: MessageAttributes = { kind: str("poison"), bytes: bin([9, 8, 7]) };
      const sent = await t.send(src, "poison pill", { MessageAttributes: attributes });
      await t.receiveOne(src);
      await t.advance(6);
      await t.receiveOne(src);
      await t.advance(6);
      expect(await t.receive(src, { MaxNumberOfMessages: 10 })).toEqual([]);
      expect(await t.counts(src)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
      const dead = await t.receiveOne(dlq, {
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      });
      expect(dead.MessageId).toBe(sent.MessageId);
      expect(dead.Body).toBe("poison pill");
      expect(plain(dead.MessageAttributes)).toEqual(plain(attributes));
      expect(dead.MD5OfMessageAttributes).toBe(referenceMd5OfAttributes(attributes));
      expect(dead.Attributes?.DeadLetterQueueSourceArn).toBe(arnOf("src"));
    });

    it("a standard DLQ expires moved messages by their own SentTimestamp, even behind newer ones", async () => {
      const t = w();
      const dlq = await t.queue("dlq", { MessageRetentionPeriod: "120" });
      const src = await t.queue("src", {
        MessageRetentionPeriod: "1209600",
        RedrivePolicy: redrivePolicy(arnOf("dlq"), 1),
      });
      await t.send(src, "old"); // sent at 0 s
      await t.advance(50);
      await t.send(dlq, "newer"); // sent at 50 s, queued in the DLQ first
      await t.receiveOne(src, { VisibilityTimeout: 0 });
      expect(await t.receive(src, { VisibilityTimeout: 0 })).toEqual([]); // moved to the DLQ
      await t.settle();
      expect((await t.counts(dlq)).visible).toBe(2);
      await t.advance(71); // 121 s: "old" is past 120 s of retention, "newer" is not
      expect(await t.counts(dlq)).toEqual({ visible: 1, inflight: 0, delayed: 0 });
      expect(bodiesOf(await t.receive(dlq, { MaxNumberOfMessages: 10 }))).toEqual(["newer"]);
    });

    it("a message deleted before maxReceiveCount never reaches the DLQ", async () => {
      const t = w();
      const dlq = await t.queue("dlq");
      const src = await t.queue("src", {
        VisibilityTimeout: "5",
        RedrivePolicy: redrivePolicy(arnOf("dlq"), 1),
      });
      await t.send(src, "ok");
      await t.delete(src, await t.receiveOne(src));
      await t.advance(6);
      expect(await t.receive(src)).toEqual([]);
      expect(await t.receive(dlq)).toEqual([]);
    });

    it("a FIFO message dead-lettered to a FIFO DLQ unblocks the rest of its group", async () => {
      const t = w();
      const dlq = await t.fifo("dlq");
      const src = await t.fifo("src", {
        VisibilityTimeout: "5",
        RedrivePolicy: redrivePolicy(arnOf("dlq.fifo"), 1),
      });
      await t.sendFifo(src, "first", "g");
      await t.sendFifo(src, "second", "g");
      expect(bodiesOf(await t.receive(src))).toEqual(["first"]);
      await t.advance(6);
      const next: Message[] = [];
      for (let i = 0; i < 2 && next.length === 0; i++)
        next.push(...(await t.receive(src, { MaxNumberOfMessages: 10 })));
      expect(bodiesOf(next)).toEqual(["second"]);
      const dead = await t.receiveOne(dlq, { AttributeNames: ["All"] });
      expect(dead.Body).toBe("first");
      expect(dead.Attributes?.MessageGroupId).toBe("g");
      expect(dead.Attributes?.DeadLetterQueueSourceArn).toBe(arnOf("src.fifo"));
    });

    it("RedriveAllowPolicy denyAll, or byQueue without the source, rejects the source's RedrivePolicy", async () => {
      const t = w();
      await t.queue("closed", {
        RedriveAllowPolicy: JSON.stringify({ redrivePermission: "denyAll" }),
      });
      await t.queue("picky", {
        RedriveAllowPolicy: JSON.stringify({
          redrivePermission: "byQueue",
          sourceQueueArns: [arnOf("allowed")],
        }),
      });
      await t.queue("open", {
        RedriveAllowPolicy: JSON.stringify({ redrivePermission: "allowAll" }),
      });
      await expectError(
        () => t.queue("src1", { RedrivePolicy: redrivePolicy(arnOf("closed"), 3) }),
        "InvalidParameterValue",
        "denyAll",
      );
      await expectError(
        () => t.queue("other", { RedrivePolicy: redrivePolicy(arnOf("picky"), 3) }),
        "InvalidParameterValue",
        "byQueue, not listed",
      );
      const plainQueue = await t.queue("plain");
      await expectError(
        () =>
          t.svc.setQueueAttributes({
            QueueUrl: plainQueue,
            Attributes: { RedrivePolicy: redrivePolicy(arnOf("closed"), 3) },
          }),
        "InvalidParameterValue",
        "denyAll via setQueueAttributes",
      );
      await expectOk(
        () => t.queue("allowed", { RedrivePolicy: redrivePolicy(arnOf("picky"), 3) }),
        "byQueue, listed",
      );
      await expectOk(
        () => t.queue("src2", { RedrivePolicy: redrivePolicy(arnOf("open"), 3) }),
        "allowAll",
      );
    });

    it("listDeadLetterSourceQueues lists the queues that dead-letter into a queue", async () => {
      const t = w();
      const dlq = await t.queue("dlq");
      const a = await t.queue("src-a", { RedrivePolicy: redrivePolicy(arnOf("dlq"), 3) });
      const b = await t.queue("src-b");
      await t.svc.setQueueAttributes({
        QueueUrl: b,
        Attributes: { RedrivePolicy: redrivePolicy(arnOf("dlq"), 5) },
      });
      const unrelated = await t.queue("unrelated");
      expect((await t.svc.listDeadLetterSourceQueues({ QueueUrl: dlq })).queueUrls.sort()).toEqual([
        a,
        b,
      ]);
      expect((await t.svc.listDeadLetterSourceQueues({ QueueUrl: unrelated })).queueUrls).toEqual(
        [],
      );
    });
  });
}

function moveTaskTests(w: WorldRef, canReopen: boolean): void {
  interface Setup {
    readonly src: string;
    readonly dlq: string;
    readonly dlqArn: string;
    readonly bodies: string[];
  }

  /** A source and its DLQ (maxReceiveCount 1) with `n` messages dead-lettered. */
  async function deadLettered(t: World, n: number): Promise<Setup> {
    const dlq = await t.queue("dlq");
    const src = await t.queue("src", { RedrivePolicy: redrivePolicy(arnOf("dlq"), 1) });
    const bodies = Array.from({ length: n }, (_, i) => `m${i}`);
    for (let i = 0; i < n; i += 10)
      await t.svc.sendMessageBatch({
        QueueUrl: src,
        Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: `e${j}`, MessageBody })),
      });
    expect((await t.drain(src, { delete: false })).length).toBe(n);
    await t.advance(31);
    for (let round = 0; ; round++) {
      const got = await t.receive(src, { MaxNumberOfMessages: 10 });
      expect(got, "a message past maxReceiveCount was received").toEqual([]);
      const counts = await t.counts(src);
      if (counts.visible + counts.inflight === 0) break;
      if (round > n) throw new Error("messages past maxReceiveCount never reached the DLQ");
    }
    expect((await t.counts(dlq)).visible).toBe(n);
    return { src, dlq, dlqArn: arnOf("dlq"), bodies };
  }

  async function taskOf(t: World, SourceArn: string, handle: string): Promise<MessageMoveTask> {
    const { Results } = await t.svc.listMessageMoveTasks({ SourceArn });
    const task = Results.find((r) => r.TaskHandle === handle);
    expect(task, `task ${handle} in listMessageMoveTasks`).toBeDefined();
    return task!;
  }

  async function advanceInSteps(t: World, seconds: number): Promise<void> {
    for (let i = 0; i < seconds * 4; i++) await t.advance(0.25);
  }

  describe("message move tasks", () => {
    it.skipIf(!canReopen)(
      "resumes a running message move task after reopen and keeps finished ones listed",
      async () => {
        const t = w();
        const { src, dlq, dlqArn, bodies } = await deadLettered(t, 60);
        const { TaskHandle } = await t.svc.startMessageMoveTask({
          SourceArn: dlqArn,
          MaxNumberOfMessagesPerSecond: 10,
        });
        await advanceInSteps(t, 2);
        const before = await taskOf(t, dlqArn, TaskHandle);
        expect(before.Status).toBe("RUNNING");
        expect(before.ApproximateNumberOfMessagesMoved).toBeGreaterThan(0);
        expect(before.ApproximateNumberOfMessagesMoved).toBeLessThan(60);
        await t.reopen();
        const after = await taskOf(t, dlqArn, TaskHandle);
        expect(after).toMatchObject({ Status: "RUNNING", ApproximateNumberOfMessagesToMove: 60 });
        // Progress was kept (the resumed task may already have moved its next message).
        expect(after.ApproximateNumberOfMessagesMoved).toBeGreaterThanOrEqual(
          before.ApproximateNumberOfMessagesMoved,
        );
        expect(after.ApproximateNumberOfMessagesMoved).toBeLessThan(60);
        await advanceInSteps(t, 10);
        const done = await taskOf(t, dlqArn, TaskHandle);
        expect(done).toMatchObject({ Status: "COMPLETED", ApproximateNumberOfMessagesMoved: 60 });
        expect(await t.counts(dlq)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
        expect(bodiesOf(await t.drain(src)).sort()).toEqual([...bodies].sort());
        await t.reopen();
        expect((await taskOf(t, dlqArn, TaskHandle)).Status).toBe("COMPLETED");
      },
    );

    it("moves dead letters back to their source queue at the requested rate", async () => {
      const t = w();
      const { src, dlq, dlqArn, bodies } = await deadLettered(t, 100);
      const startedAt = t.clock.now();
      const { TaskHandle } = await t.svc.startMessageMoveTask({
        SourceArn: dlqArn,
        MaxNumberOfMessagesPerSecond: 10,
      });
      expect(TaskHandle).toEqual(expect.any(String));
      const running = await taskOf(t, dlqArn, TaskHandle);
      expect(running).toMatchObject({
        TaskHandle,
        Status: "RUNNING",
        SourceArn: dlqArn,
        MaxNumberOfMessagesPerSecond: 10,
        ApproximateNumberOfMessagesToMove: 100,
        StartedTimestamp: startedAt,
      });
      await t.advance(1);
      const afterOne = await taskOf(t, dlqArn, TaskHandle);
      expect(afterOne.Status).toBe("RUNNING");
      expect(afterOne.ApproximateNumberOfMessagesMoved).toBeLessThanOrEqual(20);
      await advanceInSteps(t, 14);
      const done = await taskOf(t, dlqArn, TaskHandle);
      expect(done.Status).toBe("COMPLETED");
      expect(done.ApproximateNumberOfMessagesMoved).toBe(100);
      expect(await t.counts(dlq)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
      expect(bodiesOf(await t.drain(src)).sort()).toEqual([...bodies].sort());
    });

    it("moves dead letters to DestinationArn when given", async () => {
      const t = w();
      const { src, dlqArn, bodies } = await deadLettered(t, 3);
      const elsewhere = await t.queue("elsewhere");
      const { TaskHandle } = await t.svc.startMessageMoveTask({
        SourceArn: dlqArn,
        DestinationArn: arnOf("elsewhere"),
      });
      await advanceInSteps(t, 2);
      const task = await taskOf(t, dlqArn, TaskHandle);
      expect(task).toMatchObject({
        Status: "COMPLETED",
        DestinationArn: arnOf("elsewhere"),
        ApproximateNumberOfMessagesMoved: 3,
      });
      expect(bodiesOf(await t.drain(elsewhere)).sort()).toEqual([...bodies].sort());
      expect(await t.receive(src)).toEqual([]);
    });

    it("rejects MaxNumberOfMessagesPerSecond outside 1-500 with InvalidParameterValue", async () => {
      const t = w();
      const { dlqArn } = await deadLettered(t, 1);
      for (const rate of [0, 501])
        await expectError(
          () =>
            t.svc.startMessageMoveTask({ SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: rate }),
          "InvalidParameterValue",
          `rate ${rate}`,
        );
      await expectOk(
        () => t.svc.startMessageMoveTask({ SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: 500 }),
        "rate 500",
      );
    });

    it("rejects a second task on the same source while one runs with UnsupportedOperation", async () => {
      const t = w();
      const { dlqArn } = await deadLettered(t, 5);
      await t.svc.startMessageMoveTask({ SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: 1 });
      await expectError(
        () => t.svc.startMessageMoveTask({ SourceArn: dlqArn }),
        "UnsupportedOperation",
      );
    });

    it("rejects a SourceArn that is no queue (ResourceNotFoundException) or no DLQ (InvalidParameterValue)", async () => {
      const t = w();
      await t.queue("lonely");
      await expectError(
        () => t.svc.startMessageMoveTask({ SourceArn: arnOf("nowhere") }),
        "ResourceNotFoundException",
      );
      await expectError(
        () => t.svc.startMessageMoveTask({ SourceArn: arnOf("lonely") }),
        "InvalidParameterValue",
      );
    });

    it("cancelMessageMoveTask stops a running task without losing messages", async () => {
      const t = w();
      const { src, dlq, dlqArn } = await deadLettered(t, 100);
      const { TaskHandle } = await t.svc.startMessageMoveTask({
        SourceArn: dlqArn,
        MaxNumberOfMessagesPerSecond: 10,
      });
      await t.advance(1);
      const cancelled = await t.svc.cancelMessageMoveTask({ TaskHandle });
      expect(cancelled.ApproximateNumberOfMessagesMoved).toBeLessThan(100);
      await advanceInSteps(t, 20);
      const task = await taskOf(t, dlqArn, TaskHandle);
      expect(task.Status).toBe("CANCELLED");
      expect(task.ApproximateNumberOfMessagesMoved).toBeLessThan(100);
      expect(task.ApproximateNumberOfMessagesMoved).toBeGreaterThanOrEqual(
        cancelled.ApproximateNumberOfMessagesMoved,
      );
      const left = (await t.counts(dlq)).visible;
      const moved = (await t.counts(src)).visible;
      expect(left).toBeGreaterThan(0);
      expect(left + moved).toBe(100);
      expect(moved).toBe(task.ApproximateNumberOfMessagesMoved);
    });

    it("cancelMessageMoveTask of an unknown handle fails with ResourceNotFoundException", async () => {
      const t = w();
      await expectError(
        () => t.svc.cancelMessageMoveTask({ TaskHandle: "no-such-task" }),
        "ResourceNotFoundException",
      );
    });
  });
}

function peekTests(w: WorldRef): void {
  describe("peekMessages", () => {
    it("shows visible, in-flight and delayed messages in SequenceNumber order without receiving them", async () => {
      const t = w();
      const url = await t.queue("peek");
      const inflight = await t.send(url, "in flight");
      await t.receiveOne(url);
      await t.send(url, "deleted");
      await t.delete(url, await t.receiveOne(url));
      await t.send(url, "visible");
      await t.send(url, "delayed", { DelaySeconds: 60 });
      const before = await t.counts(url);
      const { Messages } = await t.svc.peekMessages({ QueueUrl: url });
      expect(Messages.map((m) => [m.Body, m.State])).toEqual([
        ["in flight", "inflight"],
        ["visible", "visible"],
        ["delayed", "delayed"],
      ]);
      expect(Messages[0]!.MessageId).toBe(inflight.MessageId);
      const numbers = Messages.map((m) => seq(m.SequenceNumber));
      expect(numbers[0]! < numbers[1]! && numbers[1]! < numbers[2]!).toBe(true);
      expect(await t.counts(url)).toEqual(before);
    });

    it("does not change visibility or ApproximateReceiveCount", async () => {
      const t = w();
      const url = await t.queue("peek");
      await t.send(url, "m");
      for (let i = 0; i < 3; i++)
        expect((await t.svc.peekMessages({ QueueUrl: url })).Messages).toHaveLength(1);
      const message = await t.receiveOne(url, { AttributeNames: ["ApproximateReceiveCount"] });
      expect(message.Attributes?.ApproximateReceiveCount).toBe("1");
      expect((await t.svc.peekMessages({ QueueUrl: url })).Messages.map((m) => m.State)).toEqual([
        "inflight",
      ]);
      expect(await t.receive(url)).toEqual([]);
    });

    it("pages with MaxNumberOfMessages and AfterSequenceNumber", async () => {
      const t = w();
      const url = await t.queue("peek");
      const bodies = ["a", "b", "c", "d", "e"];
      for (const body of bodies) await t.send(url, body);
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 5; page++) {
        const { Messages } = await t.svc.peekMessages({
          QueueUrl: url,
          MaxNumberOfMessages: 2,
          ...(after === undefined ? {} : { AfterSequenceNumber: after }),
        });
        expect(Messages.length).toBeLessThanOrEqual(2);
        if (Messages.length === 0) break;
        seen.push(...bodiesOf(Messages));
        after = Messages[Messages.length - 1]!.SequenceNumber;
      }
      expect(seen).toEqual(bodies);
      expect((await t.counts(url)).visible).toBe(5);
    });

    it("shows a DLQ's dead letters", async () => {
      const t = w();
      const dlq = await t.queue("dlq");
      const src = await t.queue("src", {
        VisibilityTimeout: "5",
        RedrivePolicy: redrivePolicy(arnOf("dlq"), 1),
      });
      await t.send(src, "dead");
      await t.receiveOne(src);
      await t.advance(6);
      expect(await t.receive(src)).toEqual([]);
      const { Messages } = await t.svc.peekMessages({ QueueUrl: dlq });
      expect(Messages.map((m) => [m.Body, m.State])).toEqual([["dead", "visible"]]);
    });
  });
}

function fifoTests(w: WorldRef): void {
  describe("FIFO queues", () => {
    it("delivers the messages of a group in send order", async () => {
      const t = w();
      const url = await t.fifo("f");
      const bodies = ["1", "2", "3", "4", "5"];
      for (const body of bodies) await t.sendFifo(url, body, "g");
      const seen: string[] = [];
      for (let i = 0; i < bodies.length; i++) {
        const message = await t.receiveOne(url);
        seen.push(message.Body);
        await t.delete(url, message);
      }
      expect(seen).toEqual(bodies);
    });

    it("returns several messages of one group in order in one receive", async () => {
      const t = w();
      const url = await t.fifo("f");
      const bodies = ["1", "2", "3", "4", "5"];
      for (const body of bodies) await t.sendFifo(url, body, "g");
      const got = bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }));
      expect(got.length).toBeGreaterThanOrEqual(2);
      expect(got).toEqual(bodies.slice(0, got.length));
    });

    it("blocks a group while any of its messages is in flight, until it is deleted", async () => {
      const t = w();
      const url = await t.fifo("f");
      await t.sendFifo(url, "a1", "A");
      await t.sendFifo(url, "a2", "A");
      await t.sendFifo(url, "b1", "B");
      await t.sendFifo(url, "b2", "B");
      const a1 = await t.receiveOne(url);
      expect(a1.Body).toBe("a1");
      const others = bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }));
      expect(others.every((b) => b.startsWith("b"))).toBe(true);
      expect(others).toEqual(["b1", "b2"].slice(0, others.length));
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
      await t.delete(url, a1);
      expect(bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }))).toEqual(["a2"]);
    });

    it("after the visibility of a group's message expires, that message comes back first", async () => {
      const t = w();
      const url = await t.fifo("f", { VisibilityTimeout: "10" });
      for (const body of ["1", "2", "3"]) await t.sendFifo(url, body, "g");
      const first = await t.receiveOne(url);
      expect(first.Body).toBe("1");
      await t.advance(9);
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
      await t.advance(2);
      const again = await t.receive(url, {
        MaxNumberOfMessages: 10,
        AttributeNames: ["ApproximateReceiveCount"],
      });
      expect(bodiesOf(again)[0]).toBe("1");
      expect(again[0]!.Attributes?.ApproximateReceiveCount).toBe("2");
      expect(bodiesOf(again)).toEqual(["1", "2", "3"].slice(0, again.length));
    });

    it("requires MessageGroupId (MissingParameter) and a deduplication id or ContentBasedDeduplication", async () => {
      const t = w();
      const url = await t.fifo("f");
      await expectError(
        () => t.send(url, "x", { MessageDeduplicationId: "d" }),
        "MissingParameter",
      );
      await expectError(() => t.send(url, "x", { MessageGroupId: "g" }), "InvalidParameterValue");
      const cbd = await t.fifo("cbd", { ContentBasedDeduplication: "true" });
      await expectOk(
        () => t.send(cbd, "x", { MessageGroupId: "g" }),
        "content-based deduplication",
      );
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    it("accepts a duplicate deduplication id within 5 minutes and delivers the message once", async () => {
      const t = w();
      const url = await t.fifo("f");
      const first = await t.sendFifo(url, "original", "g", "dedup-1");
      await t.advance(240);
      const duplicate = await t.sendFifo(url, "duplicate", "g", "dedup-1");
      expect(duplicate.MessageId).toBe(first.MessageId);
      expect(duplicate.SequenceNumber).toBe(first.SequenceNumber);
      expect(bodiesOf(await t.drain(url))).toEqual(["original"]);
    });

    it("deduplicates within 5 minutes even after the first copy was deleted", async () => {
      const t = w();
      const url = await t.fifo("f");
      const first = await t.sendFifo(url, "once", "g", "d");
      expect(bodiesOf(await t.drain(url))).toEqual(["once"]);
      await t.advance(60);
      const again = await t.sendFifo(url, "once", "g", "d");
      expect(again.MessageId).toBe(first.MessageId);
      expect(await t.receive(url)).toEqual([]);
    });

    it("after 5 minutes the same deduplication id is a new message", async () => {
      const t = w();
      const url = await t.fifo("f");
      const first = await t.sendFifo(url, "first", "g", "d");
      await t.advance(FIVE_MINUTES + 1);
      const second = await t.sendFifo(url, "second", "g", "d");
      expect(second.MessageId).not.toBe(first.MessageId);
      expect(seq(second.SequenceNumber) > seq(first.SequenceNumber)).toBe(true);
      expect(bodiesOf(await t.drain(url))).toEqual(["first", "second"]);
    });

    it("ContentBasedDeduplication deduplicates equal bodies by their SHA-256", async () => {
      const t = w();
      const url = await t.fifo("f", { ContentBasedDeduplication: "true" });
      const a = await t.send(url, "same body", { MessageGroupId: "g" });
      const b = await t.send(url, "same body", { MessageGroupId: "g" });
      const c = await t.send(url, "other body", { MessageGroupId: "g" });
      const d = await t.send(url, "same body", {
        MessageGroupId: "g",
        MessageDeduplicationId: "explicit",
      });
      expect(b.MessageId).toBe(a.MessageId);
      expect(c.MessageId).not.toBe(a.MessageId);
      expect(d.MessageId).not.toBe(a.MessageId);
      const got = await t.receive(url, {
        MaxNumberOfMessages: 10,
        AttributeNames: ["MessageDeduplicationId"],
      });
      expect(bodiesOf(got)).toEqual(["same body", "other body", "same body"]);
      expect(got.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual([
        sha256("same body"),
        sha256("other body"),
        "explicit",
      ]);
    });

    it("DeduplicationScope messageGroup makes the same id in two groups two messages", async () => {
      const t = w();
      const perGroup = await t.fifo("per-group", { DeduplicationScope: "messageGroup" });
      const x = await t.sendFifo(perGroup, "in g1", "g1", "d");
      const y = await t.sendFifo(perGroup, "in g2", "g2", "d");
      const z = await t.sendFifo(perGroup, "again in g1", "g1", "d");
      expect(y.MessageId).not.toBe(x.MessageId);
      expect(z.MessageId).toBe(x.MessageId);
      expect(bodiesOf(await t.drain(perGroup)).sort()).toEqual(["in g1", "in g2"]);
      const perQueue = await t.fifo("per-queue");
      const p = await t.sendFifo(perQueue, "in g1", "g1", "d");
      const q = await t.sendFifo(perQueue, "in g2", "g2", "d");
      expect(q.MessageId).toBe(p.MessageId);
      expect(bodiesOf(await t.drain(perQueue))).toEqual(["in g1"]);
    });

    it("SequenceNumber strictly increases across groups and batches, and is reported on receive", async () => {
      const t = w();
      const url = await t.fifo("f");
      const numbers: bigint[] = [];
      numbers.push(seq((await t.sendFifo(url, "a", "g1")).SequenceNumber));
      numbers.push(seq((await t.sendFifo(url, "b", "g2")).SequenceNumber));
      const batch = await t.svc.sendMessageBatch({
        QueueUrl: url,
        Entries: ["c", "d", "e"].map((body) => ({
          Id: body,
          MessageBody: body,
          MessageGroupId: "g1",
          MessageDeduplicationId: body,
        })),
      });
      expect(batch.Failed).toEqual([]);
      for (const id of ["c", "d", "e"])
        numbers.push(seq(batch.Successful.find((s) => s.Id === id)?.SequenceNumber));
      for (let i = 1; i < numbers.length; i++)
        expect(numbers[i]! > numbers[i - 1]!, `sequence ${i}`).toBe(true);
      const got = await t.drain(url);
      const g1 = got.filter((m) => ["a", "c", "d", "e"].includes(m.Body));
      expect(bodiesOf(g1)).toEqual(["a", "c", "d", "e"]);
    });

    it("returns MessageGroupId, MessageDeduplicationId and SequenceNumber when asked", async () => {
      const t = w();
      const url = await t.fifo("f");
      const sent = await t.sendFifo(url, "m", "group-7", "dedup-7");
      const message = await t.receiveOne(url, { MessageSystemAttributeNames: ["All"] });
      expect(message.Attributes).toMatchObject({
        MessageGroupId: "group-7",
        MessageDeduplicationId: "dedup-7",
        SequenceNumber: sent.SequenceNumber,
        ApproximateReceiveCount: "1",
      });
      await t.advance(31);
      const only = await t.receiveOne(url, { AttributeNames: ["MessageGroupId"] });
      expect(only.Attributes).toEqual({ MessageGroupId: "group-7" });
    });

    for (const how of ["deleteMessage", "deleteMessageBatch"] as const)
      it(`a long poll waiting on a group blocked by its in-flight head returns when ${how} deletes the head`, async () => {
        const t = w();
        const url = await t.fifo("f");
        await t.sendFifo(url, "a1", "A");
        await t.sendFifo(url, "a2", "A");
        const head = await t.receiveOne(url);
        const poll = watch(
          t.svc.receiveMessage({ QueueUrl: url, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }),
        );
        await t.advance(2);
        await t.settle();
        expect(poll.settled()).toBe(false);
        if (how === "deleteMessage") await t.delete(url, head);
        else
          await t.svc.deleteMessageBatch({
            QueueUrl: url,
            Entries: [{ Id: "head", ReceiptHandle: head.ReceiptHandle }],
          });
        await t.settle();
        expect(poll.settled()).toBe(true);
        expect(bodiesOf((await poll.promise).Messages)).toEqual(["a2"]);
      });

    it("a new DelaySeconds applies to FIFO messages already queued (from their send time), not to standard ones", async () => {
      const t = w();
      const fifo = await t.fifo("f");
      const standard = await t.queue("s");
      await t.sendFifo(fifo, "queued", "g");
      await t.send(standard, "queued");
      await t.advance(1);
      for (const url of [fifo, standard])
        await t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { DelaySeconds: "30" } });
      expect(bodiesOf(await t.receive(standard))).toEqual(["queued"]);
      expect(await t.receive(fifo)).toEqual([]);
      expect(await t.counts(fifo)).toEqual({ visible: 0, inflight: 0, delayed: 1 });
      await t.advance(28.5); // 29.5 s after the send
      expect(await t.receive(fifo)).toEqual([]);
      await t.advance(1);
      expect(bodiesOf(await t.receive(fifo))).toEqual(["queued"]);
      // Shortening the delay releases messages at once.
      await t.sendFifo(fifo, "later", "h");
      expect(await t.receive(fifo)).toEqual([]);
      await t.svc.setQueueAttributes({ QueueUrl: fifo, Attributes: { DelaySeconds: "0" } });
      expect(bodiesOf(await t.receive(fifo))).toEqual(["later"]);
    });

    it("a receive retried with the same ReceiveRequestAttemptId resets the visibility timeout", async () => {
      const t = w();
      const url = await t.fifo("f", { VisibilityTimeout: "30" });
      await t.sendFifo(url, "a", "g1");
      const attempt = { MaxNumberOfMessages: 10, ReceiveRequestAttemptId: "attempt-1" };
      const first = await t.receive(url, attempt);
      await t.advance(20);
      const retry = await t.receive(url, attempt);
      expect(retry.map((m) => m.ReceiptHandle)).toEqual(first.map((m) => m.ReceiptHandle));
      await t.advance(20); // 40 s after the first receive, 20 s after the retry
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
      await t.advance(10.5);
      expect(bodiesOf(await t.receive(url))).toEqual(["a"]);
    });

    it("a receive repeated with the same ReceiveRequestAttemptId returns the same messages and handles", async () => {
      const t = w();
      const url = await t.fifo("f");
      for (const [body, group] of [
        ["a", "g1"],
        ["b", "g2"],
        ["c", "g3"],
      ] as const)
        await t.sendFifo(url, body, group);
      const first = await t.receive(url, {
        MaxNumberOfMessages: 10,
        ReceiveRequestAttemptId: "attempt-1",
      });
      expect(first).toHaveLength(3);
      await t.advance(5);
      const retry = await t.receive(url, {
        MaxNumberOfMessages: 10,
        ReceiveRequestAttemptId: "attempt-1",
      });
      expect(retry.map((m) => [m.MessageId, m.ReceiptHandle])).toEqual(
        first.map((m) => [m.MessageId, m.ReceiptHandle]),
      );
      expect(
        await t.receive(url, { MaxNumberOfMessages: 10, ReceiveRequestAttemptId: "attempt-2" }),
      ).toEqual([]);
      for (const m of retry) await t.delete(url, m);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });
  });
}

function durabilityTests(w: WorldRef, canReopen: boolean): void {
  describe.skipIf(!canReopen)("durability across reopen", () => {
    it("an attribute or tag change racing the queue's delete does not bring the queue back", async () => {
      const t = w();
      const url = await t.queue("raced");
      const changes = [
        t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { VisibilityTimeout: "40" } }),
        t.svc.tagQueue({ QueueUrl: url, Tags: { late: "1" } }),
      ].map((change) =>
        change.then(
          () => undefined,
          (error: unknown) => (error as QueueError).sqsError,
        ),
      );
      await t.svc.deleteQueue({ QueueUrl: url });
      // Each change lands before the delete or is refused for the queue being gone.
      for (const outcome of await Promise.all(changes))
        expect([undefined, "QueueDoesNotExist"]).toContain(outcome);
      expect((await t.svc.listQueues()).QueueUrls).toEqual([]);
      await t.reopen();
      expect((await t.svc.listQueues()).QueueUrls).toEqual([]);
    });

    it("keeps unreceived messages with their attributes, ids and timestamps", async () => {
      const t = w();
      const url = await t.queue("d");
      const attributes: MessageAttributes = { k: str("v"), n: num("7"), b: bin([0, 255]) };
      const sentAt = t.clock.now();
      const sent = await t.send(url, "kept", { MessageAttributes: attributes });
      await t.send(url, "delayed", { DelaySeconds: 10 });
      await t.advance(1);
      await t.reopen();
      const message = await t.receiveOne(url, {
        MessageAttributeNames: ["All"],
        AttributeNames: ["All"],
      });
      expect(message.MessageId).toBe(sent.MessageId);
      expect(message.Body).toBe("kept");
      expect(plain(message.MessageAttributes)).toEqual(plain(attributes));
      expect(message.MD5OfMessageAttributes).toBe(referenceMd5OfAttributes(attributes));
      expect(message.Attributes?.SentTimestamp).toBe(String(sentAt));
      expect(await t.receive(url)).toEqual([]);
      await t.advance(10);
      expect(bodiesOf(await t.receive(url))).toEqual(["delayed"]);
    });

    it("keeps an in-flight message invisible until its original deadline, then counts the receive", async () => {
      const t = w();
      const url = await t.queue("d", { VisibilityTimeout: "60" });
      await t.send(url, "m");
      const receivedAt = t.clock.now();
      await t.receiveOne(url);
      await t.advance(10);
      await t.reopen();
      expect(await t.receive(url)).toEqual([]);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      await t.advance(49);
      expect(await t.receive(url)).toEqual([]);
      await t.advance(2);
      const again = await t.receiveOne(url, { AttributeNames: ["All"] });
      expect(again.Attributes?.ApproximateReceiveCount).toBe("2");
      expect(again.Attributes?.ApproximateFirstReceiveTimestamp).toBe(String(receivedAt));
      await t.reopen();
      await t.advance(61);
      const third = await t.receiveOne(url, { AttributeNames: ["ApproximateReceiveCount"] });
      expect(third.Attributes?.ApproximateReceiveCount).toBe("3");
    });

    it("a receipt handle from before the reopen still deletes the message", async () => {
      const t = w();
      const url = await t.queue("d");
      await t.send(url, "m");
      const message = await t.receiveOne(url);
      await t.reopen();
      await t.delete(url, message);
      await t.advance(31);
      expect(await t.receive(url)).toEqual([]);
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    it("deleted messages stay deleted", async () => {
      const t = w();
      const url = await t.queue("d");
      for (const body of ["a", "b", "c"]) await t.send(url, body);
      const got = await t.receive(url, { MaxNumberOfMessages: 10 });
      expect(got).toHaveLength(3);
      const keep = got.find((m) => m.Body === "b")!;
      for (const m of got) if (m !== keep) await t.delete(url, m);
      await t.reopen();
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      await t.advance(31);
      expect(bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }))).toEqual(["b"]);
      await t.reopen();
      await t.advance(31);
      expect(bodiesOf(await t.drain(url))).toEqual(["b"]);
      await t.reopen();
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    it("keeps the FIFO deduplication window", async () => {
      const t = w();
      const url = await t.fifo("d");
      const first = await t.sendFifo(url, "once", "g", "dedup");
      const pending = await t.sendFifo(url, "pending", "g", "dedup-2");
      expect(bodiesOf(await t.receive(url))).toEqual(["once"]);
      await t.reopen();
      await t.advance(60);
      const again = await t.sendFifo(url, "once", "g", "dedup");
      const pendingAgain = await t.sendFifo(url, "pending", "g", "dedup-2");
      expect(again.MessageId).toBe(first.MessageId);
      expect(pendingAgain.MessageId).toBe(pending.MessageId);
      await t.advance(31);
      expect(bodiesOf(await t.drain(url))).toEqual(["once", "pending"]);
    });

    it("keeps queue attributes, tags and the queue list", async () => {
      const t = w();
      await t.queue("dlq");
      const url = await t.queue(
        "configured",
        {
          VisibilityTimeout: "45",
          DelaySeconds: "3",
          MessageRetentionPeriod: "7200",
          MaximumMessageSize: "2048",
          ReceiveMessageWaitTimeSeconds: "2",
          RedrivePolicy: redrivePolicy(arnOf("dlq"), 4),
        },
        { team: "core", env: "dev" },
      );
      const fifo = await t.fifo("configured", {
        ContentBasedDeduplication: "true",
        DeduplicationScope: "messageGroup",
      });
      await t.advance(5);
      await t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { VisibilityTimeout: "50" } });
      await t.svc.tagQueue({ QueueUrl: url, Tags: { env: "prod", extra: "1" } });
      await t.svc.untagQueue({ QueueUrl: url, TagKeys: ["team"] });
      const before = { std: await t.attributes(url), fifo: await t.attributes(fifo) };
      const list = await t.svc.listQueues();
      await t.advance(5);
      await t.reopen();
      expect({ std: await t.attributes(url), fifo: await t.attributes(fifo) }).toEqual(before);
      expect(before.std.VisibilityTimeout).toBe("50");
      expect((await t.svc.listQueueTags({ QueueUrl: url })).Tags).toEqual({
        env: "prod",
        extra: "1",
      });
      expect(await t.svc.listQueues()).toEqual(list);
      expect(
        (await t.svc.listDeadLetterSourceQueues({ QueueUrl: urlOf("dlq") })).queueUrls,
      ).toEqual([url]);
    });

    it("keeps FIFO order and increasing sequence numbers across reopen", async () => {
      const t = w();
      const url = await t.fifo("d");
      const sent: Record<string, string[]> = { g1: [], g2: [] };
      let last = 0n;
      const send = async (group: "g1" | "g2", body: string): Promise<void> => {
        const result = await t.sendFifo(url, body, group);
        const n = seq(result.SequenceNumber);
        expect(n > last, `sequence of ${body}`).toBe(true);
        last = n;
        sent[group]!.push(body);
      };
      for (let i = 0; i < 5; i++) {
        await send("g1", `g1-${i}`);
        await send("g2", `g2-${i}`);
      }
      const received: Message[] = [];
      for (let i = 0; i < 3; i++) {
        const m = await t.receiveOne(url);
        received.push(m);
        await t.delete(url, m);
      }
      await t.reopen();
      for (let i = 5; i < 7; i++) {
        await send("g1", `g1-${i}`);
        await send("g2", `g2-${i}`);
      }
      received.push(...(await t.drain(url)));
      for (const group of ["g1", "g2"] as const)
        expect(
          bodiesOf(received).filter((b) => b.startsWith(group)),
          group,
        ).toEqual(sent[group]);
    });

    it("a FIFO group stays blocked by its in-flight message across reopen", async () => {
      const t = w();
      const url = await t.fifo("d", { VisibilityTimeout: "60" });
      await t.sendFifo(url, "a1", "A");
      await t.sendFifo(url, "a2", "A");
      await t.sendFifo(url, "b1", "B");
      expect(bodiesOf(await t.receive(url))).toEqual(["a1"]);
      await t.reopen();
      const b = await t.receive(url, { MaxNumberOfMessages: 10 });
      expect(bodiesOf(b)).toEqual(["b1"]);
      await t.delete(url, b[0]!);
      await t.advance(59);
      expect(await t.receive(url, { MaxNumberOfMessages: 10 })).toEqual([]);
      await t.advance(2);
      const a = bodiesOf(await t.receive(url, { MaxNumberOfMessages: 10 }));
      expect(a[0]).toBe("a1");
      expect(a).toEqual(["a1", "a2"].slice(0, a.length));
    });

    it("a FIFO queue's retroactive delay survives reopen", async () => {
      const t = w();
      const url = await t.fifo("d");
      await t.sendFifo(url, "m", "g");
      await t.svc.setQueueAttributes({ QueueUrl: url, Attributes: { DelaySeconds: "30" } });
      await t.reopen();
      expect(await t.counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 1 });
      await t.advance(30.5);
      expect(bodiesOf(await t.receive(url))).toEqual(["m"]);
    });

    it("a deleted queue stays deleted", async () => {
      const t = w();
      const url = await t.queue("gone");
      await t.send(url, "m");
      const kept = await t.queue("kept");
      await t.svc.deleteQueue({ QueueUrl: url });
      await t.reopen();
      await expectError(() => t.svc.getQueueUrl({ QueueName: "gone" }), "QueueDoesNotExist");
      await expectError(() => t.receive(url), "QueueDoesNotExist");
      expect((await t.svc.listQueues()).QueueUrls).toEqual([kept]);
    });
  });
}
