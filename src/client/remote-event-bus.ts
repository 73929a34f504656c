import { SluiceError, type ErrorCode } from "../errors/index.js";
import {
  type Archive,
  type ArchiveState,
  BusError,
  type BusErrorName,
  type BusHandler,
  type EventBusService,
  type FailedTargetEntry,
  type PutEventsRequestEntry,
  type PutEventsResult,
  type PutRuleInput,
  type Replay,
  type ReplayState,
  type Rule,
  type StartReplayInput,
  type Tag,
  type Target,
} from "../messaging/bus/index.js";
import type { HttpTransport, RemoteError } from "./http-transport.js";
import { RemoteHandlers } from "./remote-handlers.js";

const BUS_ERRORS = new Set<string>([
  "ValidationException",
  "InvalidEventPatternException",
  "ResourceNotFoundException",
  "ResourceAlreadyExistsException",
  "LimitExceededException",
  "IllegalStatusException",
] satisfies BusErrorName[]);

function toError(error: RemoteError): Error {
  if (BUS_ERRORS.has(error.name))
    return new BusError(error.name as BusErrorName, error.message, error.field);
  return new SluiceError(error.code as ErrorCode, error.message, {
    ...(error.field === undefined ? {} : { field: error.field }),
    details: { status: error.status, name: error.name },
  });
}

/** Fields AWS JSON sends as epoch seconds, which the interface gives as Dates. */
const TIME_FIELDS = new Set([
  "CreationTime",
  "EventStartTime",
  "EventEndTime",
  "EventLastReplayedTime",
  "ReplayStartTime",
  "ReplayEndTime",
]);

/** Dates as epoch seconds, as AWS JSON sends timestamps (the server turns them back). */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

/** An answer with its timestamps as Dates again. */
function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        TIME_FIELDS.has(k) && typeof v === "number" ? new Date(Math.round(v * 1000)) : fromWire(v),
      ]),
    );
  return value;
}

/** An event's `Time` as the wire wants it: a Date or ISO text as epoch seconds. */
function entryToWire(entry: PutEventsRequestEntry): unknown {
  if (typeof entry !== "object" || entry === null || typeof entry.Time !== "string") return entry;
  const ms = Date.parse(entry.Time);
  // Text that is no time goes as it is: the server refuses it, naming the field.
  return Number.isNaN(ms) ? entry : { ...entry, Time: new Date(ms) };
}

/**
 * The event bus of a Sluice server, over its EventBridge-compatible API (AWS JSON 1.1): the
 * interface maps one to one onto EventBridge's operations, and the server hands each input to
 * the bus as it came, so both refuse the same input the same way. Handler targets registered
 * here run here, over a WebSocket per handler name.
 */
export class RemoteEventBus implements EventBusService {
  private closed = false;
  /** Handler targets served from this process. */
  readonly handlers: RemoteHandlers<unknown>;

  constructor(private readonly http: HttpTransport) {
    this.handlers = new RemoteHandlers(http, "/bus/handlers");
  }

  createEventBus(input: { Name: string; Tags?: readonly Tag[] }): Promise<{ EventBusArn: string }> {
    return this.call("CreateEventBus", input);
  }

  async deleteEventBus(input: { Name: string }): Promise<void> {
    await this.call("DeleteEventBus", input);
  }

  listEventBuses(input?: {
    NamePrefix?: string;
  }): Promise<{ EventBuses: { Name: string; Arn: string }[] }> {
    return this.call("ListEventBuses", input);
  }

  putRule(input: PutRuleInput): Promise<{ RuleArn: string }> {
    return this.call("PutRule", input);
  }

  async deleteRule(input: { Name: string; EventBusName?: string; Force?: boolean }): Promise<void> {
    await this.call("DeleteRule", input);
  }

  describeRule(input: { Name: string; EventBusName?: string }): Promise<Rule> {
    return this.call("DescribeRule", input);
  }

  listRules(input?: { EventBusName?: string; NamePrefix?: string }): Promise<{ Rules: Rule[] }> {
    return this.call("ListRules", input);
  }

  async enableRule(input: { Name: string; EventBusName?: string }): Promise<void> {
    await this.call("EnableRule", input);
  }

  async disableRule(input: { Name: string; EventBusName?: string }): Promise<void> {
    await this.call("DisableRule", input);
  }

  putTargets(input: {
    Rule: string;
    EventBusName?: string;
    Targets: readonly Target[];
  }): Promise<{ FailedEntryCount: number; FailedEntries: FailedTargetEntry[] }> {
    return this.call("PutTargets", input);
  }

  removeTargets(input: {
    Rule: string;
    EventBusName?: string;
    Ids: readonly string[];
  }): Promise<{ FailedEntryCount: number; FailedEntries: FailedTargetEntry[] }> {
    return this.call("RemoveTargets", input);
  }

  listTargetsByRule(input: {
    Rule: string;
    EventBusName?: string;
  }): Promise<{ Targets: Target[] }> {
    return this.call("ListTargetsByRule", input);
  }

  putEvents(input: { Entries: readonly PutEventsRequestEntry[] }): Promise<PutEventsResult> {
    const entries = input?.Entries;
    return this.call(
      "PutEvents",
      Array.isArray(entries) ? { ...input, Entries: entries.map(entryToWire) } : input,
    );
  }

  testEventPattern(input: { EventPattern: string; Event: string }): Promise<{ Result: boolean }> {
    return this.call("TestEventPattern", input);
  }

  createArchive(input: {
    ArchiveName: string;
    EventSourceArn: string;
    EventPattern?: string;
    RetentionDays?: number;
    Description?: string;
  }): Promise<{ ArchiveArn: string; State: ArchiveState }> {
    return this.call("CreateArchive", input);
  }

  updateArchive(input: {
    ArchiveName: string;
    EventPattern?: string;
    RetentionDays?: number;
    Description?: string;
  }): Promise<{ ArchiveArn: string; State: ArchiveState; CreationTime: Date }> {
    return this.call("UpdateArchive", input);
  }

  describeArchive(input: { ArchiveName: string }): Promise<Archive> {
    return this.call("DescribeArchive", input);
  }

  listArchives(input?: { EventSourceArn?: string }): Promise<{ Archives: Archive[] }> {
    return this.call("ListArchives", input);
  }

  async deleteArchive(input: { ArchiveName: string }): Promise<void> {
    await this.call("DeleteArchive", input);
  }

  startReplay(
    input: StartReplayInput,
  ): Promise<{ ReplayArn: string; State: ReplayState; ReplayStartTime: Date }> {
    return this.call("StartReplay", input);
  }

  describeReplay(input: { ReplayName: string }): Promise<Replay> {
    return this.call("DescribeReplay", input);
  }

  listReplays(input?: { State?: ReplayState }): Promise<{ Replays: Replay[] }> {
    return this.call("ListReplays", input);
  }

  cancelReplay(input: { ReplayName: string }): Promise<{ ReplayArn: string; State: ReplayState }> {
    return this.call("CancelReplay", input);
  }

  async tagResource(input: { ResourceARN: string; Tags: readonly Tag[] }): Promise<void> {
    await this.call("TagResource", input);
  }

  async untagResource(input: { ResourceARN: string; TagKeys: readonly string[] }): Promise<void> {
    await this.call("UntagResource", input);
  }

  listTagsForResource(input: { ResourceARN: string }): Promise<{ Tags: Tag[] }> {
    return this.call("ListTagsForResource", input);
  }

  registerHandler(name: string, handler: BusHandler): void {
    this.handlers.register(name, handler);
  }

  /** Refuses later calls; the connection itself closes with the client (`RemoteSluice.close`). */
  close(): Promise<void> {
    this.closed = true;
    this.handlers.close();
    return Promise.resolve();
  }

  private async call<T>(operation: string, input: unknown): Promise<T> {
    if (this.closed || this.http.closed)
      throw new SluiceError("SLUICE_CLOSED", "the event bus client is closed");
    await this.handlers.ready();
    const answer = await this.http.call(
      {
        method: "POST",
        path: "/",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": `AWSEvents.${operation}`,
        },
        awsService: "events",
        body: toWire(input ?? {}),
      },
      toError,
    );
    return fromWire(answer ?? {}) as T;
  }
}
