import { describeValue } from "../../errors/index.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WRONG_TYPES } from "../../test-support/type-sweep.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import { isQueueError } from "./queue-error.js";
import type { BatchResultErrorEntry } from "./queue-service.js";

type Input = Record<string, unknown>;
type Method = (input: unknown) => Promise<unknown>;

/** A copy of `input` with the value at `path` (dot-separated, array indexes as numbers) replaced. */
function withField(input: Input, path: readonly string[], value: unknown): unknown {
  const copy: Input | unknown[] = Array.isArray(input) ? [...(input as unknown[])] : { ...input };
  const [head, ...rest] = path;
  const target = copy as Record<string, unknown>;
  if (rest.length === 0) {
    if (value === undefined) delete target[head!];
    else target[head!] = value;
  } else target[head!] = withField((target[head!] ?? {}) as Input, rest, value);
  return copy;
}

describe("every method and field answers a wrong-typed value with a QueueError naming the field", () => {
  let dir: string;
  let service: EmbeddedQueueService;
  let url: string;
  let fifo: string;
  let dlqArn: string;
  let counter = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-qtypes-"));
    service = await EmbeddedQueueService.open(dir, { clock: new VirtualClock(), fsync: "never" });
    url = (await service.createQueue({ QueueName: "typed" })).QueueUrl;
    fifo = (
      await service.createQueue({ QueueName: "typed.fifo", Attributes: { FifoQueue: "true" } })
    ).QueueUrl;
    const dlqUrl = (await service.createQueue({ QueueName: "typed-dlq" })).QueueUrl;
    dlqArn = (await service.getQueueAttributes({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }))
      .Attributes.QueueArn!;
    await service.createQueue({
      QueueName: "typed-src",
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
      },
    });
  });
  afterAll(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function handle(): Promise<string> {
    await service.sendMessage({ QueueUrl: url, MessageBody: "m" });
    const { Messages } = await service.receiveMessage({ QueueUrl: url, VisibilityTimeout: 600 });
    return Messages[0]!.ReceiptHandle;
  }

  const cases: readonly {
    method: keyof EmbeddedQueueService;
    valid: () => Promise<Input>;
    fields: readonly string[];
  }[] = [
    {
      method: "createQueue",
      valid: () =>
        Promise.resolve({
          QueueName: `q${counter++}`,
          Attributes: { DelaySeconds: "1" },
          tags: { t: "v" },
        }),
      fields: [
        "QueueName:string",
        "Attributes:object?",
        "Attributes.DelaySeconds:string?",
        "tags:object?",
        "tags.t:string?",
      ],
    },
    {
      method: "getQueueUrl",
      valid: () => Promise.resolve({ QueueName: "typed" }),
      fields: ["QueueName:string"],
    },
    {
      method: "listQueues",
      valid: () => Promise.resolve({ QueueNamePrefix: "t", MaxResults: 5 }),
      fields: ["QueueNamePrefix:string?", "MaxResults:int?", "NextToken:string?"],
    },
    {
      method: "getQueueAttributes",
      valid: () => Promise.resolve({ QueueUrl: url, AttributeNames: ["All"] }),
      fields: ["QueueUrl:string", "AttributeNames:strings?", "AttributeNames.0:string"],
    },
    {
      method: "setQueueAttributes",
      valid: () => Promise.resolve({ QueueUrl: url, Attributes: { VisibilityTimeout: "30" } }),
      fields: ["QueueUrl:string", "Attributes:object", "Attributes.VisibilityTimeout:string?"],
    },
    {
      method: "tagQueue",
      valid: () => Promise.resolve({ QueueUrl: url, Tags: { a: "b" } }),
      fields: ["QueueUrl:string", "Tags:object", "Tags.a:string?"],
    },
    {
      method: "untagQueue",
      valid: () => Promise.resolve({ QueueUrl: url, TagKeys: ["a"] }),
      fields: ["QueueUrl:string", "TagKeys:strings", "TagKeys.0:string"],
    },
    {
      method: "listQueueTags",
      valid: () => Promise.resolve({ QueueUrl: url }),
      fields: ["QueueUrl:string"],
    },
    {
      method: "listDeadLetterSourceQueues",
      valid: () => Promise.resolve({ QueueUrl: url }),
      fields: ["QueueUrl:string"],
    },
    {
      method: "sendMessage",
      valid: () =>
        Promise.resolve({
          QueueUrl: url,
          MessageBody: "b",
          DelaySeconds: 0,
          MessageAttributes: { a: { DataType: "String", StringValue: "v" } },
          MessageSystemAttributes: {
            AWSTraceHeader: { DataType: "String", StringValue: "Root=1" },
          },
        }),
      fields: [
        "QueueUrl:string",
        "MessageBody:string",
        "DelaySeconds:int?",
        "MessageAttributes:object?",
        "MessageAttributes.a:object?",
        "MessageAttributes.a.DataType:string",
        "MessageAttributes.a.StringValue:string?",
        "MessageAttributes.a.BinaryValue:bytes?",
        "MessageSystemAttributes:object?",
        "MessageSystemAttributes.AWSTraceHeader:object?",
        "MessageSystemAttributes.AWSTraceHeader.StringValue:string?",
      ],
    },
    {
      method: "sendMessage",
      valid: () =>
        Promise.resolve({
          QueueUrl: fifo,
          MessageBody: "b",
          MessageGroupId: "g",
          MessageDeduplicationId: `d${counter++}`,
        }),
      fields: ["MessageGroupId:string", "MessageDeduplicationId:string"],
    },
    {
      method: "sendMessageBatch",
      valid: () => Promise.resolve({ QueueUrl: url, Entries: [{ Id: "a", MessageBody: "b" }] }),
      fields: [
        "Entries:array",
        "Entries.0:object",
        "Entries.0.Id:string",
        "Entries.0.MessageBody:string",
        "Entries.0.MessageAttributes:object?",
      ],
    },
    {
      method: "receiveMessage",
      valid: () =>
        Promise.resolve({
          QueueUrl: fifo,
          MaxNumberOfMessages: 1,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ["All"],
          AttributeNames: ["All"],
          MessageAttributeNames: ["All"],
          ReceiveRequestAttemptId: `a${counter++}`,
        }),
      fields: [
        "QueueUrl:string",
        "MaxNumberOfMessages:int?",
        "VisibilityTimeout:int?",
        "WaitTimeSeconds:int?",
        "MessageSystemAttributeNames:strings?",
        "AttributeNames:strings?",
        "MessageAttributeNames:strings?",
        "ReceiveRequestAttemptId:string?",
        "signal:signal?",
      ],
    },
    {
      method: "deleteMessage",
      valid: async () => ({ QueueUrl: url, ReceiptHandle: await handle() }),
      fields: ["QueueUrl:string", "ReceiptHandle:string"],
    },
    {
      method: "deleteMessageBatch",
      valid: async () => ({ QueueUrl: url, Entries: [{ Id: "a", ReceiptHandle: await handle() }] }),
      fields: [
        "Entries:array",
        "Entries.0:object",
        "Entries.0.Id:string",
        "Entries.0.ReceiptHandle:string",
      ],
    },
    {
      method: "changeMessageVisibility",
      valid: async () => ({ QueueUrl: url, ReceiptHandle: await handle(), VisibilityTimeout: 60 }),
      fields: ["QueueUrl:string", "ReceiptHandle:string", "VisibilityTimeout:int"],
    },
    {
      method: "changeMessageVisibilityBatch",
      valid: async () => ({
        QueueUrl: url,
        Entries: [{ Id: "a", ReceiptHandle: await handle(), VisibilityTimeout: 60 }],
      }),
      fields: [
        "Entries:array",
        "Entries.0:object",
        "Entries.0.Id:string",
        "Entries.0.ReceiptHandle:string",
        "Entries.0.VisibilityTimeout:int",
      ],
    },
    {
      method: "peekMessages",
      valid: () => Promise.resolve({ QueueUrl: url, MaxNumberOfMessages: 2 }),
      fields: ["QueueUrl:string", "MaxNumberOfMessages:int?", "AfterSequenceNumber:string?"],
    },
    {
      method: "startMessageMoveTask",
      valid: () => Promise.resolve({ SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: 1 }),
      fields: ["SourceArn:string", "DestinationArn:string?", "MaxNumberOfMessagesPerSecond:int?"],
    },
    {
      method: "cancelMessageMoveTask",
      valid: () => Promise.resolve({ TaskHandle: "none" }),
      fields: ["TaskHandle:string"],
    },
    {
      method: "listMessageMoveTasks",
      valid: () => Promise.resolve({ SourceArn: dlqArn, MaxResults: 1 }),
      fields: ["SourceArn:string", "MaxResults:int?"],
    },
    {
      method: "purgeQueue",
      valid: () => Promise.resolve({ QueueUrl: url }),
      fields: ["QueueUrl:string"],
    },
  ];

  it.each(cases.map((c) => [c.method, c] as const))("%s", async (_name, c) => {
    const call = (input: unknown): Promise<unknown> =>
      (service[c.method] as Method).call(service, input);
    const problems: string[] = [];
    // listQueues alone takes no parameters at all (and JSON's null for none).
    const wholes = c.method === "listQueues" ? ["x", 42, []] : [null, undefined, "x", 42, []];
    for (const whole of wholes) {
      const outcome = await settle(() => call(whole));
      if (!isQueueError(outcome))
        problems.push(
          `input ${shown(whole)}: ${outcome === undefined ? "accepted" : describeFailure(outcome)}`,
        );
    }
    for (const spec of c.fields) {
      const [field, type] = spec.split(":") as [string, string];
      const path = field.split(".");
      const named = path
        .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
        .join("");
      for (const value of WRONG_TYPES) {
        const input = withField(await c.valid(), path, value);
        let failedEntry: BatchResultErrorEntry | undefined;
        const outcome = await settle(async () => {
          const result = (await call(input)) as { Failed?: BatchResultErrorEntry[] } | undefined;
          failedEntry = result?.Failed?.[0];
        });
        const label = `${named} = ${shown(value)}`;
        if (outcome !== undefined && !isQueueError(outcome))
          problems.push(`${label}: crashed with ${describeFailure(outcome)}`);
        else if (!fits(type, value)) {
          // A batch reports a bad entry in Failed, its message naming the field.
          if (failedEntry !== undefined) {
            if (!failedEntry.SenderFault || !failedEntry.Message.startsWith(`${named}`))
              problems.push(`${label}: failed entry ${JSON.stringify(failedEntry)}`);
          } else if (outcome === undefined) problems.push(`${label}: accepted`);
          // The error names this field, or the part of it that is wrong.
          else if (
            outcome.field === undefined ||
            !(named.startsWith(outcome.field) || outcome.field.startsWith(named))
          )
            problems.push(`${label}: ${outcome.sqsError} names ${outcome.field ?? "no field"}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

/** Undefined on success, else what the call threw. */
async function settle(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error ?? new Error("threw nothing");
  }
}

/**
 * Whether `value` has the type a field of this kind takes (`?`: optional, and then null, as
 * JSON writes an absent value, counts as left out).
 */
function fits(type: string, value: unknown): boolean {
  if (value === undefined || value === null) return type.endsWith("?");
  switch (type.replace("?", "")) {
    case "string":
      return typeof value === "string";
    case "int":
      return Number.isInteger(value);
    case "strings":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    case "array":
      return Array.isArray(value);
    case "bytes":
      return value instanceof Uint8Array;
    case "signal":
      return value instanceof AbortSignal;
    default:
      return (
        typeof value === "object" &&
        value !== null &&
        !Array.isArray(value) &&
        !(value instanceof Uint8Array)
      );
  }
}

function shown(value: unknown): string {
  return typeof value === "object" && value !== null && !Buffer.isBuffer(value)
    ? JSON.stringify(value)
    : describeValue(value);
}

function describeFailure(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
}
