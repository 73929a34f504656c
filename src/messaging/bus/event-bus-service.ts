/**
 * The event bus contract, in Amazon EventBridge's own shapes (field names, per-entry results),
 * so code written against the AWS SDK's EventBridge client ports over line for line. Every
 * backend (embedded on the engine, remote client) implements this interface and passes one
 * conformance suite (`conformance.ts`).
 */

/** One event to put on a bus. */
export interface PutEventsRequestEntry {
  readonly Source: string;
  readonly DetailType: string;
  /** A JSON object, as text. */
  readonly Detail: string;
  readonly Resources?: readonly string[];
  /** Default: now. */
  readonly Time?: Date | string;
  /** A bus name or ARN (default: "default"). */
  readonly EventBusName?: string;
}

/** The result of one entry: an event id, or why it was refused (the others still went in). */
export interface PutEventsResultEntry {
  readonly EventId?: string;
  readonly ErrorCode?: string;
  readonly ErrorMessage?: string;
}

export interface PutEventsResult {
  readonly FailedEntryCount: number;
  readonly Entries: PutEventsResultEntry[];
}

/** The event as rules and targets see it (EventBridge's envelope). */
export interface BusEvent {
  readonly version: string;
  readonly id: string;
  readonly "detail-type": string;
  readonly source: string;
  readonly account: string;
  /** ISO-8601, seconds precision. */
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: unknown;
  /** Present on events a replay sent again: the replay's name. */
  readonly "replay-name"?: string;
}

export type RuleState = "ENABLED" | "DISABLED";

/** A tag of a bus or rule: a key of 1-128 characters, a value of 0-256; at most 50 a resource. */
export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

export interface PutRuleInput {
  readonly Name: string;
  readonly EventBusName?: string;
  /** An event pattern (JSON text); a rule needs this, a schedule, or both. */
  readonly EventPattern?: string;
  /** `rate(5 minutes)` or `cron(0 12 * * ? *)`; only on the default bus. */
  readonly ScheduleExpression?: string;
  readonly State?: RuleState;
  readonly Description?: string;
  /** Tags of a new rule; on an existing rule they are ignored (use `tagResource`), as in EventBridge. */
  readonly Tags?: readonly Tag[];
}

export interface Rule {
  readonly Name: string;
  readonly Arn: string;
  readonly EventBusName: string;
  readonly EventPattern?: string;
  readonly ScheduleExpression?: string;
  readonly State: RuleState;
  readonly Description?: string;
}

/** Reshapes the event before a target gets it. */
export interface InputTransformer {
  /** Variable name -> JSONPath into the event (at most 100). */
  readonly InputPathsMap?: Readonly<Record<string, string>>;
  /** Text or JSON with `<variable>` placeholders; predefined `<aws.events.*>` variables too. */
  readonly InputTemplate: string;
}

export interface Target {
  /** 1-64 of A-Z a-z 0-9 . - _, unique in the rule. */
  readonly Id: string;
  /**
   * An SQS queue ARN, an SNS topic ARN, an event bus ARN, a handler
   * (`arn:aws:lambda:<region>:<account>:function:<name>`, registered with `registerHandler`),
   * or an http(s) URL.
   */
  readonly Arn: string;
  /** Constant JSON text sent instead of the event. */
  readonly Input?: string;
  /** JSONPath of the part of the event to send. */
  readonly InputPath?: string;
  readonly InputTransformer?: InputTransformer;
  readonly RetryPolicy?: {
    /** 0-185 (default 185). */
    readonly MaximumRetryAttempts?: number;
    /** 60-86400 seconds (default 86400). */
    readonly MaximumEventAgeInSeconds?: number;
  };
  /** An SQS queue ARN for events whose retries ran out. */
  readonly DeadLetterConfig?: { readonly Arn: string };
  /** FIFO queue targets: the message group id. */
  readonly SqsParameters?: { readonly MessageGroupId: string };
}

export interface FailedTargetEntry {
  readonly TargetId: string;
  readonly ErrorCode: string;
  readonly ErrorMessage: string;
}

export type ArchiveState = "ENABLED" | "DISABLED" | "CREATING" | "UPDATING";

export interface Archive {
  readonly ArchiveName: string;
  readonly ArchiveArn: string;
  readonly EventSourceArn: string;
  readonly EventPattern?: string;
  readonly RetentionDays: number;
  readonly Description?: string;
  readonly State: ArchiveState;
  readonly EventCount: number;
  readonly CreationTime: Date;
}

export type ReplayState =
  "STARTING" | "RUNNING" | "CANCELLING" | "COMPLETED" | "CANCELLED" | "FAILED";

export interface StartReplayInput {
  readonly ReplayName: string;
  /** The archive's ARN. */
  readonly EventSourceArn: string;
  readonly EventStartTime: Date;
  readonly EventEndTime: Date;
  /** The bus the archive records (`Arn`), and optionally only these rules (`FilterArns`). */
  readonly Destination: { readonly Arn: string; readonly FilterArns?: readonly string[] };
  readonly Description?: string;
}

export interface Replay {
  readonly ReplayName: string;
  readonly ReplayArn: string;
  readonly EventSourceArn: string;
  readonly Destination: { readonly Arn: string; readonly FilterArns?: string[] };
  readonly State: ReplayState;
  readonly StateReason?: string;
  readonly EventStartTime: Date;
  readonly EventEndTime: Date;
  /** The time of the last event replayed so far. */
  readonly EventLastReplayedTime?: Date;
  readonly ReplayStartTime: Date;
  readonly ReplayEndTime?: Date;
}

/** What a handler target receives: the event, or what the target's input settings made of it. */
export type BusHandler = (input: unknown) => void | Promise<void>;

/** An EventBridge-semantics event bus: rules with patterns or schedules, targets, archives, replays. */
export interface EventBusService {
  createEventBus(input: { Name: string; Tags?: readonly Tag[] }): Promise<{ EventBusArn: string }>;
  deleteEventBus(input: { Name: string }): Promise<void>;
  listEventBuses(input?: {
    NamePrefix?: string;
  }): Promise<{ EventBuses: { Name: string; Arn: string }[] }>;

  putRule(input: PutRuleInput): Promise<{ RuleArn: string }>;
  deleteRule(input: { Name: string; EventBusName?: string; Force?: boolean }): Promise<void>;
  describeRule(input: { Name: string; EventBusName?: string }): Promise<Rule>;
  listRules(input?: { EventBusName?: string; NamePrefix?: string }): Promise<{ Rules: Rule[] }>;
  enableRule(input: { Name: string; EventBusName?: string }): Promise<void>;
  disableRule(input: { Name: string; EventBusName?: string }): Promise<void>;

  putTargets(input: { Rule: string; EventBusName?: string; Targets: readonly Target[] }): Promise<{
    FailedEntryCount: number;
    FailedEntries: FailedTargetEntry[];
  }>;
  removeTargets(input: { Rule: string; EventBusName?: string; Ids: readonly string[] }): Promise<{
    FailedEntryCount: number;
    FailedEntries: FailedTargetEntry[];
  }>;
  listTargetsByRule(input: { Rule: string; EventBusName?: string }): Promise<{ Targets: Target[] }>;

  /** 1-10 entries, at most 256 KB together; acknowledged once durable. */
  putEvents(input: { Entries: readonly PutEventsRequestEntry[] }): Promise<PutEventsResult>;
  /** Whether `Event` (JSON text) matches `EventPattern` (JSON text). */
  testEventPattern(input: { EventPattern: string; Event: string }): Promise<{ Result: boolean }>;

  createArchive(input: {
    ArchiveName: string;
    EventSourceArn: string;
    EventPattern?: string;
    RetentionDays?: number;
    Description?: string;
  }): Promise<{ ArchiveArn: string; State: ArchiveState }>;
  /** Changes the fields given (description, pattern, retention) and keeps the others. */
  updateArchive(input: {
    ArchiveName: string;
    EventPattern?: string;
    RetentionDays?: number;
    Description?: string;
  }): Promise<{ ArchiveArn: string; State: ArchiveState; CreationTime: Date }>;
  describeArchive(input: { ArchiveName: string }): Promise<Archive>;
  listArchives(input?: { EventSourceArn?: string }): Promise<{ Archives: Archive[] }>;
  deleteArchive(input: { ArchiveName: string }): Promise<void>;

  startReplay(
    input: StartReplayInput,
  ): Promise<{ ReplayArn: string; State: ReplayState; ReplayStartTime: Date }>;
  describeReplay(input: { ReplayName: string }): Promise<Replay>;
  listReplays(input?: { State?: ReplayState }): Promise<{ Replays: Replay[] }>;
  cancelReplay(input: { ReplayName: string }): Promise<{ ReplayArn: string; State: ReplayState }>;

  /** Adds tags to a bus or rule (by ARN), replacing the values of keys it already has. */
  tagResource(input: { ResourceARN: string; Tags: readonly Tag[] }): Promise<void>;
  /** Removes the tags of these keys from a bus or rule (by ARN). */
  untagResource(input: { ResourceARN: string; TagKeys: readonly string[] }): Promise<void>;
  listTagsForResource(input: { ResourceARN: string }): Promise<{ Tags: Tag[] }>;

  /** Lets handler targets (`arn:aws:lambda:...:function:<name>`) run `handler` in this process. */
  registerHandler(name: string, handler: BusHandler): void;

  /** Stops deliveries, schedules and replays, and closes storage. */
  close(): Promise<void>;
}
