import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { SluiceError, asError, describeValue } from "../../errors/index.js";
import { type FileSystem, type FsyncPolicy, nodeFileSystem } from "../../engine/index.js";
import type { MetricsRegistry } from "../../observability/index.js";
import { type Clock, type Timer, systemClock } from "../../time/index.js";
import { type HttpPoster, fetchPoster } from "../pubsub/http-poster.js";
import { JsonCatalog } from "../pubsub/json-catalog.js";
import type { PubSubService } from "../pubsub/pubsub-service.js";
import type { QueueService } from "../queues/index.js";
import { type ArchiveRecord, ArchiveLog } from "./archive-log.js";
import {
  BusAddresses,
  type BusAddressing,
  checkArchiveName,
  checkBusName,
  checkRuleName,
} from "./bus-address.js";
import { BusError, checkRequest, invalidField, notFound } from "./bus-error.js";
import {
  MAX_PUT_EVENTS_BYTES,
  MAX_PUT_EVENTS_ENTRIES,
  type PreparedEvent,
  entrySize,
  prepareEvent,
} from "./bus-event.js";
import { type CompiledRule, type CompiledTarget, DurableBus } from "./durable-bus.js";
import type {
  Archive,
  ArchiveState,
  BusEvent,
  BusHandler,
  EventBusService,
  FailedTargetEntry,
  PutEventsRequestEntry,
  PutEventsResult,
  PutEventsResultEntry,
  PutRuleInput,
  Replay,
  ReplayState,
  Rule,
  RuleState,
  StartReplayInput,
  Tag,
  Target,
} from "./event-bus-service.js";
import { compileTargetInput } from "./input-transformer.js";
import { checkTagKeys, checkTags, withTags, withoutTags } from "./resource-tags.js";
import { DeletesInProgress } from "../deletes-in-progress.js";
import { PatternError, parseEventPattern, testEventPattern } from "./patterns/index.js";
import { type Schedule, parseSchedule } from "./schedule-expression.js";
import { type TargetWiring, targetKind } from "./target-sender.js";

export interface EmbeddedEventBusOptions extends BusAddressing {
  /** Where queue targets and dead-letter queues deliver. */
  readonly queues?: QueueService;
  /** Where topic targets publish. */
  readonly topics?: PubSubService;
  readonly clock?: Clock;
  readonly metrics?: MetricsRegistry;
  /** Durability of put events (default: fsync every 50 ms). */
  readonly fsync?: FsyncPolicy;
  readonly fs?: FileSystem;
  readonly http?: HttpPoster;
  readonly random?: () => number;
  /** How often dispatch cursors and replay progress are saved (default 200 ms). */
  readonly checkpointIntervalMs?: number;
}

interface RuleRecord {
  readonly bus: string;
  readonly name: string;
  readonly eventPattern?: string;
  readonly scheduleExpression?: string;
  /** When the rule was given its schedule: a rate beats from here (absent: from the epoch). */
  readonly scheduleAnchorMs?: number;
  readonly state: RuleState;
  readonly description?: string;
  readonly targets: readonly Target[];
  readonly tags?: readonly Tag[];
}

interface ReplayRecord {
  readonly name: string;
  readonly archive: string;
  readonly bus: string;
  readonly filterRules?: string[];
  readonly filterArns?: string[];
  readonly startMs: number;
  readonly endMs: number;
  readonly state: ReplayState;
  readonly reason?: string;
  /** Next archive offset to replay. */
  readonly position: number;
  readonly lastReplayedMs?: number;
  readonly replayStartMs: number;
  readonly replayEndMs?: number;
  readonly description?: string;
}

/** A custom bus, or the default bus once it has tags. */
interface BusEntry {
  readonly kind: "bus";
  readonly name: string;
  readonly tags?: readonly Tag[];
}

type CatalogEntry =
  | BusEntry
  | { readonly kind: "rule"; readonly rule: RuleRecord }
  | { readonly kind: "archive"; readonly archive: ArchiveRecord }
  | { readonly kind: "replay"; readonly replay: ReplayRecord };

const isCatalogEntry = (v: unknown): v is CatalogEntry =>
  v !== null &&
  typeof v === "object" &&
  ["bus", "rule", "archive", "replay"].includes(String((v as { kind?: unknown }).kind));
const isOffset = (v: unknown): v is number => Number.isSafeInteger(v);

/** EventBridge's limits on rules and targets. */
export const MAX_RULES_PER_BUS = 300;
export const MAX_TARGETS_PER_RULE = 5;
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;
/** The longest description of a rule or an archive (EventBridge's limit). */
const MAX_DESCRIPTION = 512;
/** The longest archive retention whose milliseconds are still an exact integer. */
const MAX_RETENTION_DAYS = Math.floor(Number.MAX_SAFE_INTEGER / 86_400_000);

function checkDescription(description: unknown): void {
  if (
    description !== undefined &&
    (typeof description !== "string" || description.length > MAX_DESCRIPTION)
  )
    throw invalidField("Description", `text of at most ${MAX_DESCRIPTION} characters`);
}
const MAX_RESOURCE_ARN = 1600;
const FINAL_REPLAY_STATES: ReadonlySet<ReplayState> = new Set(["COMPLETED", "CANCELLED", "FAILED"]);

function settled<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(asError(error));
  }
}

/**
 * EventBridge-semantics buses embedded in the process, durable on local disk: each bus is an
 * engine log of events with a dispatcher matching every rule and archive through one shared
 * pattern index; archives are engine logs with retention; replays, rules, targets and buses live
 * in a catalog log, so a running replay resumes after a restart.
 */
export class EmbeddedEventBus implements EventBusService {
  private readonly buses = new Map<string, DurableBus>();
  /** Names of buses being created (see `createEventBus`). */
  private readonly busesCreated = new Set<string>();
  private readonly deleting = new DeletesInProgress();
  private readonly ruleRecords = new Map<string, RuleRecord>();
  private readonly archiveRecords = new Map<string, ArchiveRecord>();
  private readonly replays = new Map<string, ReplayRecord>();
  private readonly replayRuns = new Map<string, Promise<void>>();
  private readonly schedules = new Map<string, Timer>();
  private readonly handlers = new Map<string, BusHandler>();
  private checkpointTimer: Timer | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  private closed = false;
  readonly addresses: BusAddresses;
  private readonly wiring: TargetWiring;

  private constructor(
    private readonly dir: string,
    private readonly catalog: JsonCatalog<CatalogEntry>,
    private readonly cursors: JsonCatalog<number>,
    private readonly options: EmbeddedEventBusOptions,
    private readonly clock: Clock,
    private readonly fs: FileSystem,
  ) {
    this.addresses = new BusAddresses(options);
    this.wiring = {
      clock,
      queues: options.queues,
      topics: options.topics,
      handlers: this.handlers,
      http: options.http ?? fetchPoster(clock),
      forward: (bus, event) => this.forward(bus, event),
      busName: (arn) => this.addresses.busName(arn),
    };
  }

  /** Opens (creating if needed) the buses stored in `dir`; dispatch and replays resume. */
  static async open(dir: string, options: EmbeddedEventBusOptions = {}): Promise<EmbeddedEventBus> {
    const clock = options.clock ?? systemClock;
    const fs = options.fs ?? nodeFileSystem;
    if (!fs.exists(dir)) fs.mkdir(dir);
    const base = {
      clock,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    };
    const catalog = await JsonCatalog.open(
      join(dir, "catalog"),
      { ...base, fsync: "always", name: "catalog/bus" },
      isCatalogEntry,
    );
    const cursors = await JsonCatalog.open(
      join(dir, "cursors"),
      { ...base, fsync: "always", name: "cursors/bus" },
      isOffset,
    );
    const service = new EmbeddedEventBus(dir, catalog, cursors, options, clock, fs);
    try {
      const entries = [...catalog.entries.values()];
      // Directories of buses and archives deleted just before a crash: a bus created again under
      // the same name must not find the old one's events.
      const wanted = {
        buses: new Set(
          ["default", ...entries.flatMap((e) => (e.kind === "bus" ? [e.name] : []))].map(
            busDirName,
          ),
        ),
        archives: new Set(entries.flatMap((e) => (e.kind === "archive" ? [e.archive.uid] : []))),
      };
      for (const sub of ["buses", "archives"] as const) {
        if (!fs.exists(join(dir, sub))) fs.mkdir(join(dir, sub));
        for (const leftover of fs.list(join(dir, sub)).filter((d) => !wanted[sub].has(d)))
          await fs.removeDir(join(dir, sub, leftover));
      }
      await service.openBus("default");
      for (const e of entries) if (e.kind === "bus") await service.openBus(e.name);
      // Rules and archives of a bus that is gone (made while it was deleted, in an earlier
      // release) go with it: a bus made again under its name starts without them.
      for (const e of entries)
        if (e.kind === "rule" && !service.buses.has(e.rule.bus))
          await catalog.delete(`rule:${service.ruleKey(e.rule.bus, e.rule.name)}`);
        else if (e.kind === "archive" && !service.buses.has(e.archive.bus)) {
          await catalog.delete(`archive:${e.archive.name}`);
          await fs.removeDir(join(dir, "archives", e.archive.uid));
        }
      for (const e of entries) if (e.kind === "archive") await service.openArchive(e.archive);
      for (const e of entries)
        if (e.kind === "rule" && service.buses.has(e.rule.bus)) service.installRule(e.rule);
      for (const e of entries)
        if (e.kind === "replay") service.replays.set(e.replay.name, e.replay);
      for (const bus of service.buses.values()) bus.start();
      for (const replay of service.replays.values())
        if (!FINAL_REPLAY_STATES.has(replay.state)) service.runReplay(replay.name);
      service.scheduleCheckpoint();
    } catch (error) {
      await service.close();
      throw error;
    }
    return service;
  }

  private async openBus(name: string): Promise<DurableBus> {
    const existing = this.buses.get(name);
    if (existing !== undefined) return existing;
    const bus = await DurableBus.open(join(this.dir, "buses", busDirName(name)), name, {
      clock: this.clock,
      fsync: this.options.fsync ?? { intervalMs: 50 },
      wiring: this.wiring,
      cursor: this.cursors.get(`bus:${name}`) ?? 0,
      ...(this.options.fs === undefined ? {} : { fs: this.options.fs }),
      ...(this.options.metrics === undefined ? {} : { metrics: this.options.metrics }),
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
    });
    this.buses.set(name, bus);
    return bus;
  }

  private async openArchive(record: ArchiveRecord): Promise<void> {
    const bus = this.buses.get(record.bus);
    if (bus === undefined) return;
    const archive = await ArchiveLog.open(
      join(this.dir, "archives", record.uid),
      record,
      this.clock,
      this.options.fs,
      this.options.metrics,
    );
    bus.archives.set(record.name, archive);
    this.archiveRecords.set(record.name, record);
    bus.setArchivePattern(
      record.name,
      record.eventPattern === undefined
        ? { conditions: [], anyOf: [] }
        : parseEventPattern(record.eventPattern),
    );
  }

  // ---------------------------------------------------------------- checkpoints

  private scheduleCheckpoint(): void {
    if (this.closed) return;
    this.checkpointTimer = this.clock.setTimer(this.options.checkpointIntervalMs ?? 200, () => {
      this.checkpointing = this.checkpoint()
        .catch(() => undefined)
        .finally(() => this.scheduleCheckpoint());
    });
  }

  /** Saves each bus's safe cursor, then drops the events before it. */
  async checkpoint(): Promise<void> {
    for (const [name, bus] of this.buses) {
      const cursor = bus.safeCursor;
      // No cursor saved reads as 0 (see openBus): an idle bus writes nothing.
      if ((this.cursors.get(`bus:${name}`) ?? 0) !== cursor)
        await this.cursors.put(`bus:${name}`, cursor);
      if (!this.closed) await bus.trimBefore(cursor);
    }
  }

  // ---------------------------------------------------------------- buses

  private ensureOpen(): void {
    if (this.closed) throw new SluiceError("SLUICE_CLOSED", "the event bus service is closed");
  }

  private busOf(nameOrArn: string | undefined, field = "EventBusName"): DurableBus {
    this.ensureOpen();
    const name = this.addresses.busName(nameOrArn);
    // A bus being deleted is gone already: a rule or archive made on it now would outlive it.
    const bus = name === undefined || this.deleting.has(name) ? undefined : this.buses.get(name);
    if (bus === undefined) throw notFound(`Event bus ${String(nameOrArn)}`, field);
    return bus;
  }

  async createEventBus(input: {
    Name: string;
    Tags?: readonly Tag[];
  }): Promise<{ EventBusArn: string }> {
    checkRequest(input);
    this.ensureOpen();
    const name = checkBusName(input?.Name);
    const tags = input.Tags === undefined ? undefined : withTags([], checkTags(input.Tags));
    await this.deleting.finished(name);
    if (name === "default" || this.buses.has(name) || this.busesCreated.has(name))
      throw new BusError(
        "ResourceAlreadyExistsException",
        `Event bus ${name} already exists.`,
        "Name",
      );
    // Claimed in the turn of the check, so a second create meanwhile is refused; stored before
    // the bus is opened and seen, so a tag given as soon as it is seen builds on these.
    this.busesCreated.add(name);
    try {
      await this.catalog.put(`bus:${name}`, {
        kind: "bus",
        name,
        ...(tags === undefined || tags.length === 0 ? {} : { tags }),
      });
      try {
        (await this.openBus(name)).start();
      } catch (error) {
        await this.catalog.delete(`bus:${name}`);
        throw error;
      }
    } finally {
      this.busesCreated.delete(name);
    }
    return { EventBusArn: this.addresses.busArn(name) };
  }

  async deleteEventBus(input: { Name: string }): Promise<void> {
    checkRequest(input);
    this.ensureOpen();
    const name = input?.Name;
    if (name === "default") throw invalidField("Name", "Cannot delete event bus default.");
    const bus = this.buses.get(name);
    if (bus !== undefined) await this.deleting.run(name, () => this.removeBus(name, bus));
    else await this.deleting.finished(name);
  }

  private async removeBus(name: string, bus: DurableBus): Promise<void> {
    for (const [key, rule] of [...this.ruleRecords])
      if (rule.bus === name) await this.dropRule(key);
    for (const [archive, record] of [...this.archiveRecords])
      if (record.bus === name) await this.deleteArchive({ ArchiveName: archive });
    // Gone from the catalog first: if that fails the bus is still here, for a retry.
    await this.catalog.delete(`bus:${name}`);
    this.buses.delete(name);
    await bus.close();
    await this.cursors.delete(`bus:${name}`);
    await this.fs.removeDir(join(this.dir, "buses", busDirName(name)));
  }

  listEventBuses(
    input: { NamePrefix?: string } = {},
  ): Promise<{ EventBuses: { Name: string; Arn: string }[] }> {
    return settled(() => {
      checkRequest(input);
      if (input.NamePrefix !== undefined && typeof input.NamePrefix !== "string")
        throw invalidField("NamePrefix", "a name prefix");
      this.ensureOpen();
      return {
        EventBuses: [...this.buses.keys()]
          .filter((n) => input.NamePrefix === undefined || n.startsWith(input.NamePrefix))
          .sort()
          .map((Name) => ({ Name, Arn: this.addresses.busArn(Name) })),
      };
    });
  }

  // ---------------------------------------------------------------- rules

  private ruleKey(bus: string, rule: string): string {
    return `${bus}\u0000${rule}`;
  }

  private ruleOf(
    input: { Name?: string; Rule?: string; EventBusName?: string },
    field = "Name",
  ): RuleRecord {
    const bus = this.busOf(checkRequest(input).EventBusName);
    const name = input.Name ?? input.Rule ?? "";
    if (typeof name !== "string") throw invalidField(field, "a rule name");
    const rule = this.ruleRecords.get(this.ruleKey(bus.name, name));
    if (rule === undefined) throw notFound(`Rule ${name} on EventBus ${bus.name}`, field);
    return rule;
  }

  async putRule(input: PutRuleInput): Promise<{ RuleArn: string }> {
    checkRequest(input);
    const bus = this.busOf(input?.EventBusName);
    const name = checkRuleName(input.Name);
    if (input.EventPattern === undefined && input.ScheduleExpression === undefined)
      throw invalidField(
        "EventPattern",
        "Parameter(s) EventPattern or ScheduleExpression must be specified.",
      );
    if (input.EventPattern !== undefined) this.parsePattern(input.EventPattern, "EventPattern");
    checkDescription(input.Description);
    if (input.ScheduleExpression !== undefined) {
      if (bus.name !== "default")
        throw invalidField(
          "ScheduleExpression",
          "ScheduleExpression is supported only on the default event bus.",
        );
      parseSchedule(input.ScheduleExpression);
    }
    const state = input.State ?? "ENABLED";
    if (state !== "ENABLED" && state !== "DISABLED")
      throw invalidField("State", "ENABLED or DISABLED");
    const tags = input.Tags === undefined ? undefined : withTags([], checkTags(input.Tags));
    const key = this.ruleKey(bus.name, name);
    const existing = this.ruleRecords.get(key);
    if (
      existing === undefined &&
      [...this.ruleRecords.values()].filter((r) => r.bus === bus.name).length >= MAX_RULES_PER_BUS
    )
      throw new BusError(
        "LimitExceededException",
        `The requested resource exceeds the maximum number allowed (${MAX_RULES_PER_BUS} rules per bus).`,
        "Name",
      );
    const record: RuleRecord = {
      bus: bus.name,
      name,
      ...(input.EventPattern === undefined ? {} : { eventPattern: input.EventPattern }),
      ...(input.ScheduleExpression === undefined
        ? {}
        : {
            scheduleExpression: input.ScheduleExpression,
            // Put again with the same schedule, a rule keeps its beat.
            scheduleAnchorMs:
              existing?.scheduleExpression === input.ScheduleExpression
                ? (existing.scheduleAnchorMs ?? 0)
                : this.clock.now(),
          }),
      state,
      ...(input.Description === undefined ? {} : { description: input.Description }),
      targets: existing?.targets ?? [],
      // A rule keeps its tags when put again; tags given then are ignored, as in EventBridge.
      ...(existing === undefined
        ? tags === undefined || tags.length === 0
          ? {}
          : { tags }
        : existing.tags === undefined
          ? {}
          : { tags: existing.tags }),
    };
    await this.saveRule(record);
    return { RuleArn: this.addresses.ruleArn(bus.name, name) };
  }

  private parsePattern(text: unknown, field: string): ReturnType<typeof parseEventPattern> {
    try {
      return parseEventPattern(text);
    } catch (error) {
      if (error instanceof PatternError)
        throw new BusError(
          "InvalidEventPatternException",
          error.message,
          `${field}${error.path === "" ? "" : `.${error.path}`}`,
          { cause: error },
        );
      throw error;
    }
  }

  /**
   * Installs a rule's new record, then writes it to the catalog. Installed first, in the same
   * turn its record was made from the installed one, so concurrent changes of one rule (its
   * targets, state, tags) each build on the last and are written in that order: none is lost.
   */
  private async saveRule(record: RuleRecord): Promise<void> {
    const key = this.ruleKey(record.bus, record.name);
    const before = this.ruleRecords.get(key);
    this.installRule(record);
    try {
      await this.catalog.put(`rule:${key}`, { kind: "rule", rule: record });
    } catch (error) {
      // Not stored: the rule routes as it did (or not at all), unless a later change replaced
      // this one.
      if (this.ruleRecords.get(key) === record)
        if (before === undefined) this.uninstallRule(key);
        else this.installRule(before);
      throw error;
    }
  }

  /** Puts a rule's compiled form into its bus's index and (re)arms its schedule. */
  private installRule(record: RuleRecord): void {
    const bus = this.buses.get(record.bus)!;
    const arn = this.addresses.ruleArn(record.bus, record.name);
    const compiled: CompiledRule = {
      name: record.name,
      arn,
      enabled: record.state === "ENABLED",
      targets: record.targets.map((target, i) => this.compileTarget(target, `Targets[${i}]`)),
    };
    const key = this.ruleKey(record.bus, record.name);
    this.ruleRecords.set(key, record);
    bus.rules.set(record.name, compiled);
    bus.setRulePattern(
      record.name,
      record.eventPattern === undefined ? undefined : parseEventPattern(record.eventPattern),
    );
    this.schedules.get(key)?.cancel();
    this.schedules.delete(key);
    if (record.scheduleExpression !== undefined && compiled.enabled)
      this.arm(key, record, parseSchedule(record.scheduleExpression), this.clock.now());
  }

  /** Fires the rule's schedule: a "Scheduled Event" straight to its targets, through the bus's log. */
  private arm(key: string, record: RuleRecord, schedule: Schedule, after: number): void {
    const next = schedule.next(after, record.scheduleAnchorMs);
    if (next === undefined || this.closed) return;
    this.schedules.set(
      key,
      this.clock.setTimer(next - this.clock.now(), () => {
        const bus = this.buses.get(record.bus);
        if (bus === undefined || this.closed) return;
        const event: BusEvent = {
          version: "0",
          id: randomUUIDv4(),
          "detail-type": "Scheduled Event",
          source: "aws.events",
          account: this.addresses.accountId,
          time: new Date(next).toISOString().replace(/\.\d{3}Z$/, "Z"),
          region: this.addresses.region,
          resources: [this.addresses.ruleArn(record.bus, record.name)],
          detail: {},
        };
        void bus.append([{ event, directRule: record.name }]).catch(() => undefined);
        this.arm(key, record, schedule, next);
      }),
    );
  }

  private compileTarget(target: Target, field: string): CompiledTarget {
    if (typeof target?.Id !== "string" || !TARGET_ID.test(target.Id))
      throw invalidField(`${field}.Id`, "1-64 of . - _ A-Z a-z 0-9");
    if (typeof target.Arn !== "string" || targetKind(target.Arn) === undefined)
      throw invalidField(
        `${field}.Arn`,
        "an SQS queue, SNS topic, event bus or lambda function ARN, or an http(s) URL",
      );
    const retryPolicy = target.RetryPolicy ?? {};
    const maxRetries = retryPolicy.MaximumRetryAttempts ?? 185;
    const maxAge = retryPolicy.MaximumEventAgeInSeconds ?? 86_400;
    if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 185)
      throw invalidField(`${field}.RetryPolicy.MaximumRetryAttempts`, "an integer from 0 to 185");
    if (!Number.isInteger(maxAge) || maxAge < 60 || maxAge > 86_400)
      throw invalidField(
        `${field}.RetryPolicy.MaximumEventAgeInSeconds`,
        "an integer from 60 to 86400",
      );
    if (
      target.DeadLetterConfig !== undefined &&
      targetKind(target.DeadLetterConfig.Arn ?? "") !== "sqs"
    )
      throw invalidField(`${field}.DeadLetterConfig.Arn`, "the ARN of an SQS queue");
    if (
      target.Arn.endsWith(".fifo") &&
      targetKind(target.Arn) === "sqs" &&
      target.SqsParameters?.MessageGroupId === undefined
    )
      throw invalidField(
        `${field}.SqsParameters.MessageGroupId`,
        "required for a FIFO queue target",
      );
    return {
      target,
      input: compileTargetInput(target, field),
      maxRetries,
      maxAgeMs: maxAge * 1000,
    };
  }

  async deleteRule(input: { Name: string; EventBusName?: string; Force?: boolean }): Promise<void> {
    checkRequest(input);
    const bus = this.busOf(input?.EventBusName);
    const key = this.ruleKey(bus.name, input.Name);
    const rule = this.ruleRecords.get(key);
    if (rule === undefined) return;
    if (rule.targets.length > 0 && input.Force !== true)
      throw invalidField("Name", "Rule can't be deleted since it has targets.");
    await this.dropRule(key);
  }

  private async dropRule(key: string): Promise<void> {
    // Gone from the catalog first: if that fails the rule is still here, for a retry.
    await this.catalog.delete(`rule:${key}`);
    this.uninstallRule(key);
  }

  /** Takes a rule out of its bus's index and cancels its schedule. */
  private uninstallRule(key: string): void {
    const rule = this.ruleRecords.get(key);
    if (rule === undefined) return;
    this.ruleRecords.delete(key);
    this.schedules.get(key)?.cancel();
    this.schedules.delete(key);
    const bus = this.buses.get(rule.bus);
    bus?.rules.delete(rule.name);
    bus?.setRulePattern(rule.name, undefined);
  }

  private view(rule: RuleRecord): Rule {
    return {
      Name: rule.name,
      Arn: this.addresses.ruleArn(rule.bus, rule.name),
      EventBusName: rule.bus,
      ...(rule.eventPattern === undefined ? {} : { EventPattern: rule.eventPattern }),
      ...(rule.scheduleExpression === undefined
        ? {}
        : { ScheduleExpression: rule.scheduleExpression }),
      State: rule.state,
      ...(rule.description === undefined ? {} : { Description: rule.description }),
    };
  }

  describeRule(input: { Name: string; EventBusName?: string }): Promise<Rule> {
    return settled(() => this.view(this.ruleOf(input)));
  }

  listRules(
    input: { EventBusName?: string; NamePrefix?: string } = {},
  ): Promise<{ Rules: Rule[] }> {
    return settled(() => {
      checkRequest(input);
      if (input.NamePrefix !== undefined && typeof input.NamePrefix !== "string")
        throw invalidField("NamePrefix", "a name prefix");
      const bus = this.busOf(input.EventBusName);
      return {
        Rules: [...this.ruleRecords.values()]
          .filter(
            (r) =>
              r.bus === bus.name &&
              (input.NamePrefix === undefined || r.name.startsWith(input.NamePrefix)),
          )
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((r) => this.view(r)),
      };
    });
  }

  private async setState(
    input: { Name: string; EventBusName?: string },
    state: RuleState,
  ): Promise<void> {
    const rule = this.ruleOf(input);
    const record = { ...rule, state };
    await this.saveRule(record);
  }

  enableRule(input: { Name: string; EventBusName?: string }): Promise<void> {
    return this.setState(input, "ENABLED");
  }

  disableRule(input: { Name: string; EventBusName?: string }): Promise<void> {
    return this.setState(input, "DISABLED");
  }

  // ---------------------------------------------------------------- targets

  async putTargets(input: {
    Rule: string;
    EventBusName?: string;
    Targets: readonly Target[];
  }): Promise<{
    FailedEntryCount: number;
    FailedEntries: FailedTargetEntry[];
  }> {
    const rule = this.ruleOf(input, "Rule");
    const targets = input.Targets;
    if (!isList(targets) || targets.length === 0 || targets.length > 10)
      throw invalidField("Targets", "1-10 targets");
    const byId = new Map(rule.targets.map((t) => [t.Id, t]));
    const failed: FailedTargetEntry[] = [];
    targets.forEach((target, i) => {
      try {
        this.compileTarget(target, `Targets[${i}]`);
      } catch (error) {
        failed.push({
          TargetId: String(target?.Id),
          ErrorCode: "ValidationException",
          ErrorMessage: asError(error).message,
        });
        return;
      }
      if (!byId.has(target.Id) && byId.size >= MAX_TARGETS_PER_RULE) {
        failed.push({
          TargetId: target.Id,
          ErrorCode: "LimitExceededException",
          ErrorMessage: `A rule can have at most ${MAX_TARGETS_PER_RULE} targets.`,
        });
        return;
      }
      byId.set(target.Id, target);
    });
    const record = { ...rule, targets: [...byId.values()] };
    await this.saveRule(record);
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  async removeTargets(input: {
    Rule: string;
    EventBusName?: string;
    Ids: readonly string[];
  }): Promise<{
    FailedEntryCount: number;
    FailedEntries: FailedTargetEntry[];
  }> {
    const rule = this.ruleOf(input, "Rule");
    const ids = input.Ids;
    if (
      !isList(ids) ||
      ids.length === 0 ||
      ids.length > 100 ||
      ids.some((id) => typeof id !== "string")
    )
      throw invalidField("Ids", "a list of 1-100 target ids");
    const removed = new Set(ids);
    const record = { ...rule, targets: rule.targets.filter((t) => !removed.has(t.Id)) };
    await this.saveRule(record);
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  listTargetsByRule(input: {
    Rule: string;
    EventBusName?: string;
  }): Promise<{ Targets: Target[] }> {
    return settled(() => ({ Targets: [...this.ruleOf(input, "Rule").targets] }));
  }

  // ---------------------------------------------------------------- events

  async putEvents(input: { Entries: readonly PutEventsRequestEntry[] }): Promise<PutEventsResult> {
    checkRequest(input);
    this.ensureOpen();
    const entries = input?.Entries;
    if (!isList(entries) || entries.length === 0 || entries.length > MAX_PUT_EVENTS_ENTRIES)
      throw invalidField("Entries", `1 to ${MAX_PUT_EVENTS_ENTRIES} entries`);
    const total = entries.reduce((sum, e) => sum + entrySize(e), 0);
    if (total > MAX_PUT_EVENTS_BYTES)
      throw invalidField(
        "Entries",
        `Total size of the entries in the request is over the limit (${total} > ${MAX_PUT_EVENTS_BYTES} bytes).`,
      );
    const results: PutEventsResultEntry[] = [];
    const byBus = new Map<DurableBus, PreparedEvent[]>();
    const now = this.clock.now();
    for (const entry of entries) {
      const name = this.addresses.busName(entry?.EventBusName);
      const bus = name === undefined ? undefined : this.buses.get(name);
      if (bus === undefined) {
        results.push({
          ErrorCode: "ResourceNotFoundException",
          ErrorMessage: `Event bus ${String(entry?.EventBusName)} does not exist.`,
        });
        continue;
      }
      const event = prepareEvent(entry, now, this.addresses.region, this.addresses.accountId);
      if ("ErrorCode" in event) {
        results.push(event);
        continue;
      }
      const list = byBus.get(bus);
      if (list === undefined) byBus.set(bus, [event]);
      else list.push(event);
      results.push({ EventId: event.id });
    }
    await Promise.all([...byBus].map(([bus, events]) => bus.append(events)));
    return {
      FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length,
      Entries: results,
    };
  }

  private async forward(busName: string, event: BusEvent): Promise<void> {
    const bus = this.buses.get(busName);
    if (bus === undefined)
      throw new BusError("ResourceNotFoundException", `Event bus ${busName} does not exist.`);
    await bus.append([{ event }]);
  }

  testEventPattern(input: { EventPattern: string; Event: string }): Promise<{ Result: boolean }> {
    return settled(() => {
      checkRequest(input);
      this.parsePattern(input?.EventPattern, "EventPattern");
      let event: unknown;
      try {
        event = JSON.parse(input.Event);
      } catch {
        throw invalidField("Event", "Parameter Event is not valid: not JSON.");
      }
      for (const field of ["id", "account", "source", "time", "region", "detail-type"])
        if (typeof (event as Record<string, unknown>)?.[field] !== "string")
          throw invalidField("Event", `Parameter Event is not valid: ${field} is required.`);
      return { Result: testEventPattern(input.EventPattern, event) };
    });
  }

  // ---------------------------------------------------------------- archives

  async createArchive(input: {
    ArchiveName: string;
    EventSourceArn: string;
    EventPattern?: string;
    RetentionDays?: number;
    Description?: string;
  }): Promise<{ ArchiveArn: string; State: ArchiveState }> {
    checkRequest(input);
    this.ensureOpen();
    const name = checkArchiveName(input?.ArchiveName, "ArchiveName");
    if (this.archiveRecords.has(name))
      throw new BusError(
        "ResourceAlreadyExistsException",
        `Archive ${name} already exists.`,
        "ArchiveName",
      );
    const bus = this.busOf(input.EventSourceArn, "EventSourceArn");
    this.checkArchiveSettings(input);
    const retentionDays = input.RetentionDays ?? 0;
    const record: ArchiveRecord = {
      name,
      uid: randomBytes(8).toString("hex"),
      bus: bus.name,
      ...(input.EventPattern === undefined ? {} : { eventPattern: input.EventPattern }),
      retentionDays,
      ...(input.Description === undefined ? {} : { description: input.Description }),
      createdMs: this.clock.now(),
    };
    await this.catalog.put(`archive:${name}`, { kind: "archive", archive: record });
    await this.openArchive(record);
    return { ArchiveArn: this.addresses.archiveArn(name), State: "ENABLED" };
  }

  /** The settings CreateArchive and UpdateArchive share, checked the same way for both. */
  private checkArchiveSettings(input: {
    EventPattern?: unknown;
    RetentionDays?: unknown;
    Description?: unknown;
  }): void {
    if (input.EventPattern !== undefined) this.parsePattern(input.EventPattern, "EventPattern");
    const days = input.RetentionDays;
    if (
      days !== undefined &&
      (!Number.isInteger(days) || (days as number) < 0 || (days as number) > MAX_RETENTION_DAYS)
    )
      throw invalidField(
        "RetentionDays",
        `an integer from 0 to ${MAX_RETENTION_DAYS} (0 keeps events forever)`,
      );
    checkDescription(input.Description);
  }

  async updateArchive(input: {
    ArchiveName: string;
    EventPattern?: string;
    RetentionDays?: number;
    Description?: string;
  }): Promise<{ ArchiveArn: string; State: ArchiveState; CreationTime: Date }> {
    checkRequest(input);
    this.ensureOpen();
    const record = this.archiveRecords.get(input?.ArchiveName);
    if (record === undefined) throw notFound(`Archive ${input?.ArchiveName}`, "ArchiveName");
    this.checkArchiveSettings(input);
    const updated: ArchiveRecord = {
      ...record,
      ...(input.EventPattern === undefined ? {} : { eventPattern: input.EventPattern }),
      ...(input.RetentionDays === undefined ? {} : { retentionDays: input.RetentionDays }),
      ...(input.Description === undefined ? {} : { description: input.Description }),
    };
    // Set before the write, as the catalog's own entry is: an update made meanwhile builds on it.
    this.archiveRecords.set(record.name, updated);
    try {
      await this.catalog.put(`archive:${record.name}`, { kind: "archive", archive: updated });
    } catch (error) {
      // Not stored: the archive keeps its settings, unless a later update replaced these.
      if (this.archiveRecords.get(record.name) === updated)
        this.archiveRecords.set(record.name, record);
      throw error;
    }
    const bus = this.buses.get(record.bus);
    if (input.EventPattern !== undefined)
      bus?.setArchivePattern(record.name, parseEventPattern(input.EventPattern));
    if (input.RetentionDays !== undefined)
      await bus?.archives.get(record.name)?.setRetentionDays(input.RetentionDays);
    // EventBridge answers with the time of the update in CreationTime.
    return {
      ArchiveArn: this.addresses.archiveArn(record.name),
      State: "ENABLED",
      CreationTime: new Date(this.clock.now()),
    };
  }

  private archiveView(record: ArchiveRecord): Archive {
    const log = this.buses.get(record.bus)?.archives.get(record.name);
    return {
      ArchiveName: record.name,
      ArchiveArn: this.addresses.archiveArn(record.name),
      EventSourceArn: this.addresses.busArn(record.bus),
      ...(record.eventPattern === undefined ? {} : { EventPattern: record.eventPattern }),
      RetentionDays: record.retentionDays,
      ...(record.description === undefined ? {} : { Description: record.description }),
      State: "ENABLED",
      EventCount: log?.eventCount ?? 0,
      CreationTime: new Date(record.createdMs),
    };
  }

  describeArchive(input: { ArchiveName: string }): Promise<Archive> {
    return settled(() => {
      checkRequest(input);
      this.ensureOpen();
      const record = this.archiveRecords.get(input?.ArchiveName);
      if (record === undefined) throw notFound(`Archive ${input?.ArchiveName}`, "ArchiveName");
      return this.archiveView(record);
    });
  }

  listArchives(input: { EventSourceArn?: string } = {}): Promise<{ Archives: Archive[] }> {
    return settled(() => {
      checkRequest(input);
      this.ensureOpen();
      const bus =
        input.EventSourceArn === undefined
          ? undefined
          : this.addresses.busName(input.EventSourceArn);
      return {
        Archives: [...this.archiveRecords.values()]
          .filter((r) => bus === undefined || r.bus === bus)
          .map((r) => this.archiveView(r)),
      };
    });
  }

  async deleteArchive(input: { ArchiveName: string }): Promise<void> {
    checkRequest(input);
    this.ensureOpen();
    const record = this.archiveRecords.get(input?.ArchiveName);
    if (record === undefined) throw notFound(`Archive ${input?.ArchiveName}`, "ArchiveName");
    // Gone from the catalog first: if that fails the archive is still here, for a retry.
    await this.catalog.delete(`archive:${record.name}`);
    const bus = this.buses.get(record.bus);
    const log = bus?.archives.get(record.name);
    bus?.setArchivePattern(record.name, undefined);
    bus?.archives.delete(record.name);
    this.archiveRecords.delete(record.name);
    await log?.close();
    await this.fs.removeDir(join(this.dir, "archives", record.uid));
  }

  // ---------------------------------------------------------------- replays

  async startReplay(
    input: StartReplayInput,
  ): Promise<{ ReplayArn: string; State: ReplayState; ReplayStartTime: Date }> {
    checkRequest(input);
    this.ensureOpen();
    const name = checkArchiveName(input?.ReplayName, "ReplayName");
    const existing = this.replays.get(name);
    if (existing !== undefined)
      throw new BusError(
        "ResourceAlreadyExistsException",
        `Replay ${name} already exists.`,
        "ReplayName",
      );
    const archiveName = this.addresses.archiveName(input.EventSourceArn ?? "");
    const archive = archiveName === undefined ? undefined : this.archiveRecords.get(archiveName);
    if (archive === undefined)
      throw notFound(`Archive ${String(input.EventSourceArn)}`, "EventSourceArn");
    const destination: unknown = input.Destination;
    if (typeof destination !== "object" || destination === null)
      throw invalidField("Destination", "an object with the Arn of the archive's bus");
    const bus = this.addresses.busName(input.Destination.Arn);
    if (bus !== archive.bus)
      throw invalidField(
        "Destination.Arn",
        `Parameter Destination.Arn is not valid: it must be the archive's event bus ${this.addresses.busArn(archive.bus)}.`,
      );
    const startMs = input.EventStartTime?.getTime?.();
    const endMs = input.EventEndTime?.getTime?.();
    if (startMs === undefined || endMs === undefined || !(startMs < endMs))
      throw invalidField("EventStartTime", "EventStartTime must be before EventEndTime.");
    if (endMs > this.clock.now())
      throw invalidField("EventEndTime", "EventEndTime must not be in the future.");
    const filterArns: unknown = input.Destination.FilterArns;
    if (
      filterArns !== undefined &&
      (!Array.isArray(filterArns) || filterArns.some((a) => typeof a !== "string"))
    )
      throw invalidField("Destination.FilterArns", "a list of rule ARNs");
    const filterRules = input.Destination.FilterArns?.map((arn, i) => {
      const parsed = this.addresses.ruleFromArn(arn);
      if (
        parsed === undefined ||
        parsed.bus !== bus ||
        !this.ruleRecords.has(this.ruleKey(bus, parsed.rule))
      )
        throw invalidField(`Destination.FilterArns[${i}]`, `no rule ${arn} on bus ${bus}`);
      return parsed.rule;
    });
    const log = this.buses.get(bus)!.archives.get(archive.name)!.log;
    const now = this.clock.now();
    const record: ReplayRecord = {
      name,
      archive: archive.name,
      bus,
      ...(filterRules === undefined
        ? {}
        : { filterRules, filterArns: [...(input.Destination.FilterArns ?? [])] }),
      startMs,
      endMs,
      state: "STARTING",
      position: log.offsetForTimestamp(startMs) ?? log.logEndOffset,
      replayStartMs: now,
      ...(input.Description === undefined ? {} : { description: input.Description }),
    };
    await this.saveReplay(record);
    this.runReplay(name);
    return {
      ReplayArn: this.addresses.replayArn(name),
      State: "STARTING",
      ReplayStartTime: new Date(now),
    };
  }

  private async saveReplay(record: ReplayRecord): Promise<void> {
    this.replays.set(record.name, record);
    await this.catalog.put(`replay:${record.name}`, { kind: "replay", replay: record });
  }

  private runReplay(name: string): void {
    if (this.replayRuns.has(name)) return;
    const run = this.replayLoop(name)
      .catch(async (error: unknown) => {
        const current = this.replays.get(name);
        if (current !== undefined && !this.closed)
          await this.saveReplay({
            ...current,
            state: "FAILED",
            reason: asError(error).message,
            replayEndMs: this.clock.now(),
          });
      })
      .catch(() => undefined)
      .finally(() => this.replayRuns.delete(name));
    this.replayRuns.set(name, run);
  }

  /** Sends the archive's events in the time range to the bus again, marked with the replay's name. */
  private async replayLoop(name: string): Promise<void> {
    let record = this.replays.get(name)!;
    if (record.state === "STARTING") {
      record = { ...record, state: "RUNNING" };
      await this.saveReplay(record);
    }
    const bus = this.buses.get(record.bus);
    const log = bus?.archives.get(record.archive)?.log;
    if (bus === undefined || log === undefined)
      throw new SluiceError("SLUICE_NOT_FOUND", `archive ${record.archive} is gone`);
    for (;;) {
      if (this.closed) return;
      record = this.replays.get(name)!;
      if (record.state === "CANCELLING") {
        await this.saveReplay({ ...record, state: "CANCELLED", replayEndMs: this.clock.now() });
        return;
      }
      if (bus.archives.get(record.archive)?.log !== log)
        throw new SluiceError(
          "SLUICE_NOT_FOUND",
          `archive ${record.archive} was deleted while the replay ran`,
        );
      const from = Math.max(record.position, log.logStartOffset);
      const records = from < log.logEndOffset ? log.read(from, { maxRecords: 500 }) : [];
      const inRange = records.filter(
        (r) => r.timestamp >= record.startMs && r.timestamp < record.endMs,
      );
      const done = records.length === 0 || records.some((r) => r.timestamp >= record.endMs);
      await bus.append(
        inRange.map((r) => ({
          event: { ...(JSON.parse(r.value!.toString("utf8")) as BusEvent), "replay-name": name },
          ...(record.filterRules === undefined ? {} : { ruleFilter: record.filterRules }),
        })),
      );
      const last = inRange[inRange.length - 1];
      record = {
        ...this.replays.get(name)!,
        position: records.length === 0 ? from : records[records.length - 1]!.offset + 1,
        ...(last === undefined ? {} : { lastReplayedMs: last.timestamp }),
      };
      if (done && record.state === "RUNNING") {
        await this.saveReplay({ ...record, state: "COMPLETED", replayEndMs: this.clock.now() });
        return;
      }
      await this.saveReplay(record);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private replayView(record: ReplayRecord): Replay {
    return {
      ReplayName: record.name,
      ReplayArn: this.addresses.replayArn(record.name),
      EventSourceArn: this.addresses.archiveArn(record.archive),
      Destination: {
        Arn: this.addresses.busArn(record.bus),
        ...(record.filterArns === undefined ? {} : { FilterArns: [...record.filterArns] }),
      },
      State: record.state,
      ...(record.reason === undefined ? {} : { StateReason: record.reason }),
      EventStartTime: new Date(record.startMs),
      EventEndTime: new Date(record.endMs),
      ...(record.lastReplayedMs === undefined
        ? {}
        : { EventLastReplayedTime: new Date(record.lastReplayedMs) }),
      ReplayStartTime: new Date(record.replayStartMs),
      ...(record.replayEndMs === undefined ? {} : { ReplayEndTime: new Date(record.replayEndMs) }),
    };
  }

  describeReplay(input: { ReplayName: string }): Promise<Replay> {
    return settled(() => {
      checkRequest(input);
      this.ensureOpen();
      const record = this.replays.get(input?.ReplayName);
      if (record === undefined) throw notFound(`Replay ${input?.ReplayName}`, "ReplayName");
      return this.replayView(record);
    });
  }

  listReplays(input: { State?: ReplayState } = {}): Promise<{ Replays: Replay[] }> {
    return settled(() => {
      checkRequest(input);
      this.ensureOpen();
      return {
        Replays: [...this.replays.values()]
          .filter((r) => input.State === undefined || r.state === input.State)
          .map((r) => this.replayView(r)),
      };
    });
  }

  async cancelReplay(input: {
    ReplayName: string;
  }): Promise<{ ReplayArn: string; State: ReplayState }> {
    checkRequest(input);
    this.ensureOpen();
    const record = this.replays.get(input?.ReplayName);
    if (record === undefined) throw notFound(`Replay ${input?.ReplayName}`, "ReplayName");
    if (record.state !== "STARTING" && record.state !== "RUNNING")
      throw new BusError(
        "IllegalStatusException",
        `Replay ${record.name} is ${record.state} and cannot be cancelled.`,
        "ReplayName",
      );
    await this.saveReplay({ ...record, state: "CANCELLING" });
    if (!this.replayRuns.has(record.name)) this.runReplay(record.name);
    return { ReplayArn: this.addresses.replayArn(record.name), State: "CANCELLING" };
  }

  // ---------------------------------------------------------------- tags

  /** The bus or rule an ARN names (a bus or rule ARN of this region and account). */
  private taggable(
    arn: unknown,
  ): { kind: "bus"; name: string } | { kind: "rule"; key: string; rule: RuleRecord } {
    this.ensureOpen();
    if (typeof arn !== "string" || arn.length === 0 || arn.length > MAX_RESOURCE_ARN)
      throw invalidField(
        "ResourceARN",
        `expected the ARN of an event bus or rule (1-${MAX_RESOURCE_ARN} characters), got ${describeValue(arn)}`,
      );
    const busName = this.addresses.busFromArn(arn);
    if (busName !== undefined) {
      if (!this.buses.has(busName) || this.deleting.has(busName))
        throw notFound(`Event bus ${busName}`, "ResourceARN");
      return { kind: "bus", name: busName };
    }
    const ruleName = this.addresses.ruleFromArn(arn);
    if (ruleName !== undefined) {
      const key = this.ruleKey(ruleName.bus, ruleName.rule);
      const rule = this.ruleRecords.get(key);
      if (rule === undefined)
        throw notFound(`Rule ${ruleName.rule} on EventBus ${ruleName.bus}`, "ResourceARN");
      return { kind: "rule", key, rule };
    }
    throw notFound(`Resource ${arn}`, "ResourceARN");
  }

  private busTags(name: string): readonly Tag[] {
    const entry = this.catalog.get(`bus:${name}`);
    return entry?.kind === "bus" ? (entry.tags ?? []) : [];
  }

  /** Stores a bus's or rule's new tags with the rest of its configuration, in the catalog. */
  private async retag(
    arn: unknown,
    change: (current: readonly Tag[]) => readonly Tag[],
  ): Promise<void> {
    const resource = this.taggable(arn);
    if (resource.kind === "bus") {
      const tags = change(this.busTags(resource.name));
      await this.catalog.put(`bus:${resource.name}`, {
        kind: "bus",
        name: resource.name,
        ...(tags.length === 0 ? {} : { tags }),
      });
      return;
    }
    const { tags: current = [], ...rest } = resource.rule;
    const tags = change(current);
    const record: RuleRecord = { ...rest, ...(tags.length === 0 ? {} : { tags }) };
    // Tags do not change routing: the compiled rule stays as it is.
    this.ruleRecords.set(resource.key, record);
    try {
      await this.catalog.put(`rule:${resource.key}`, { kind: "rule", rule: record });
    } catch (error) {
      // Not stored: the rule keeps the tags it had, unless a later change replaced these.
      if (this.ruleRecords.get(resource.key) === record)
        this.ruleRecords.set(resource.key, resource.rule);
      throw error;
    }
  }

  // Input is checked before the resource is looked up: a bad request is a ValidationException
  // whether or not the resource exists.
  async tagResource(input: { ResourceARN: string; Tags: readonly Tag[] }): Promise<void> {
    checkRequest(input);
    const added = checkTags(input?.Tags);
    await this.retag(input.ResourceARN, (current) => withTags(current, added));
  }

  async untagResource(input: { ResourceARN: string; TagKeys: readonly string[] }): Promise<void> {
    checkRequest(input);
    const keys = checkTagKeys(input?.TagKeys);
    await this.retag(input.ResourceARN, (current) => withoutTags(current, keys));
  }

  listTagsForResource(input: { ResourceARN: string }): Promise<{ Tags: Tag[] }> {
    return settled(() => {
      checkRequest(input);
      const resource = this.taggable(input?.ResourceARN);
      const tags = resource.kind === "bus" ? this.busTags(resource.name) : resource.rule.tags;
      return { Tags: (tags ?? []).map((t) => ({ ...t })) };
    });
  }

  // ---------------------------------------------------------------- lifecycle

  registerHandler(name: string, handler: BusHandler): void {
    if (typeof name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(name))
      throw invalidField("name", "a handler name of 1-64 A-Z a-z 0-9 _ -");
    this.handlers.set(name, handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.checkpointTimer?.cancel();
    for (const timer of this.schedules.values()) timer.cancel();
    await this.checkpointing;
    await Promise.all([...this.replayRuns.values()]);
    await Promise.all([...this.buses.values()].map((b) => b.stop()));
    await this.checkpoint().catch(() => undefined);
    for (const bus of this.buses.values()) await bus.close();
    await this.catalog.close();
    await this.cursors.close();
  }
}

function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function randomUUIDv4(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * The directory of a bus under `buses/`: its name with "/" escaped, and the names "." and ".."
 * (valid bus names) with their dots escaped, so that no name is the directory itself or its
 * parent (bus ".." once lived in the bus service's own directory, and deleting it removed
 * every bus).
 */
function busDirName(name: string): string {
  if (name === "." || name === "..") return name.replace(/\./g, "%2E");
  return name.replace(/\//g, "%2F");
}
