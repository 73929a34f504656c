import { BusError, type EventBusService, isBusError } from "../../messaging/bus/index.js";
import { AwsError, commonAwsError, fieldOf, unknownOperation } from "../aws/aws-error.js";
import type { AwsJsonService } from "../aws/aws-protocols.js";

type Input = Record<string, unknown>;
type Operation = (bus: EventBusService, input: Input) => Promise<unknown>;

// Inputs go to the service as they came, but for timestamps (epoch seconds in AWS JSON): it
// validates every field itself, so the API and the library refuse the same input the same way.
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any */
const OPERATIONS: Record<string, Operation> = {
  PutEvents: (b, i) => b.putEvents({ ...i, Entries: putEventsEntries(i.Entries) } as any),
  PutRule: (b, i) => b.putRule(i as any),
  DescribeRule: (b, i) => b.describeRule(i as any),
  ListRules: (b, i) => b.listRules(i),
  EnableRule: async (b, i) => void (await b.enableRule(i as any)),
  DisableRule: async (b, i) => void (await b.disableRule(i as any)),
  DeleteRule: async (b, i) => void (await b.deleteRule(i as any)),
  PutTargets: (b, i) => b.putTargets(i as any),
  ListTargetsByRule: (b, i) => b.listTargetsByRule(i as any),
  ListRuleNamesByTarget: (b, i) => listRuleNamesByTarget(b, i),
  RemoveTargets: (b, i) => b.removeTargets(i as any),
  TestEventPattern: (b, i) => b.testEventPattern(i as any),
  CreateEventBus: (b, i) => b.createEventBus(i as any),
  DeleteEventBus: async (b, i) => void (await b.deleteEventBus(i as any)),
  ListEventBuses: (b, i) => b.listEventBuses(i),
  DescribeEventBus: (b, i) => describeEventBus(b, i),
  CreateArchive: async (b, i) => {
    const created = await b.createArchive(i as any);
    const { CreationTime } = await b.describeArchive({ ArchiveName: i.ArchiveName as string });
    return { ...created, CreationTime };
  },
  UpdateArchive: (b, i) => b.updateArchive(i as any),
  DescribeArchive: (b, i) => b.describeArchive(i as any),
  ListArchives: (b, i) => b.listArchives(i),
  DeleteArchive: async (b, i) => void (await b.deleteArchive(i as any)),
  StartReplay: (b, i) =>
    b.startReplay({
      ...i,
      EventStartTime: timestamp(i.EventStartTime, "EventStartTime"),
      EventEndTime: timestamp(i.EventEndTime, "EventEndTime"),
    } as any),
  DescribeReplay: (b, i) => b.describeReplay(i as any),
  ListReplays: (b, i) => b.listReplays(i),
  CancelReplay: (b, i) => b.cancelReplay(i as any),
  TagResource: async (b, i) => void (await b.tagResource(i as any)),
  UntagResource: async (b, i) => void (await b.untagResource(i as any)),
  ListTagsForResource: (b, i) => b.listTagsForResource(i as any),
};
/* eslint-enable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any */

/**
 * Amazon EventBridge in AWS JSON 1.1 (`X-Amz-Target: AWSEvents.<Operation>`), what the AWS
 * SDKs and boto3 send; times go both ways as epoch seconds.
 */
export function eventBridgeJsonService(bus: EventBusService): AwsJsonService {
  return {
    name: "EventBridge",
    targetPrefix: "AWSEvents",
    jsonVersion: "1.1",
    errorNamespace: "",
    queryCompatible: false,
    async call(operation, input) {
      const run = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
      if (run === undefined) throw unknownOperation(operation);
      return epochSeconds(await run(bus, input));
    },
    toAwsError: toEventBridgeError,
  };
}

/** A bus error as EventBridge reports it (all 400); undefined for one not the caller's fault. */
export function toEventBridgeError(error: unknown): AwsError | undefined {
  if (isBusError(error))
    return new AwsError(error.ebError, error.message, {
      ...fieldOf(error),
    });
  return commonAwsError(error, "ValidationException");
}

/** A bus by name or ARN (the default bus when none is named), from the list of buses. */
async function describeEventBus(
  bus: EventBusService,
  input: Input,
): Promise<{ Name: string; Arn: string }> {
  const { Name } = input;
  if (Name !== undefined && (typeof Name !== "string" || Name.length === 0))
    throw validation("Name", `expected a bus name or ARN, got ${JSON.stringify(Name)}`);
  const wanted = Name ?? "default";
  const { EventBuses } = await bus.listEventBuses();
  const found = EventBuses.find((b) => b.Name === wanted || b.Arn === wanted);
  if (found === undefined)
    throw new BusError("ResourceNotFoundException", `Event bus ${wanted} does not exist.`, "Name");
  return { Name: found.Name, Arn: found.Arn };
}

/** The names of a bus's rules with a target of this ARN, from the rules and their targets. */
async function listRuleNamesByTarget(
  bus: EventBusService,
  input: Input,
): Promise<{ RuleNames: string[] }> {
  const { TargetArn, EventBusName } = input;
  if (typeof TargetArn !== "string" || TargetArn.length === 0)
    throw validation("TargetArn", `expected a target ARN, got ${JSON.stringify(TargetArn)}`);
  const onBus = EventBusName === undefined ? {} : { EventBusName: EventBusName as string };
  const { Rules } = await bus.listRules(onBus);
  const RuleNames: string[] = [];
  for (const rule of Rules) {
    const { Targets } = await bus.listTargetsByRule({ Rule: rule.Name, ...onBus });
    if (Targets.some((t) => t.Arn === TargetArn)) RuleNames.push(rule.Name);
  }
  return { RuleNames };
}

function putEventsEntries(entries: unknown): unknown {
  if (!Array.isArray(entries)) return entries;
  return entries.map((entry: unknown, i) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry))
      throw validation(`Entries.${i + 1}`, "expected an object");
    const e = entry as Input;
    return e.Time === undefined ? e : { ...e, Time: timestamp(e.Time, `Entries.${i + 1}.Time`) };
  });
}

/** An AWS JSON timestamp (epoch seconds, fractions allowed) as a Date. */
function timestamp(value: unknown, field: string): Date | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value))
    throw validation(field, `expected a timestamp in epoch seconds, got ${JSON.stringify(value)}`);
  return new Date(Math.round(value * 1000));
}

function validation(field: string, reason: string): AwsError {
  return new AwsError("ValidationException", `${field}: ${reason}`, { field });
}

/** The result with every Date as epoch seconds, as AWS JSON sends timestamps. */
function epochSeconds(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(epochSeconds);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, epochSeconds(v)]));
  return value;
}
