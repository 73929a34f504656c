import { asError } from "../../errors/index.js";
import {
  type FileSystem,
  type FsyncPolicy,
  type Log,
  type LogRecord,
  type RecordHeader,
  openLog,
} from "../../engine/index.js";
import type { Counter, MetricsRegistry } from "../../observability/index.js";
import { type Backoff, exponentialBackoff } from "../../resilience/index.js";
import type { Clock } from "../../time/index.js";
import { superviseLoop } from "../supervised-loop.js";
import { AppendCoalescer, type CoalescedAppend } from "./append-coalescer.js";
import type { ArchiveLog } from "./archive-log.js";
import type { BusEvent, Target } from "./event-bus-service.js";
import { type TargetInput, transformInput } from "./input-transformer.js";
import { JsonWalk, PatternIndex } from "./patterns/index.js";
import { type SendMessageInput, sendInBulk } from "../queues/index.js";
import {
  type TargetKind,
  type TargetWiring,
  TargetError,
  queueEntryFor,
  queueUrlOf,
  sendToQueue,
  sendToTarget,
  targetKind,
  textOf,
} from "./target-sender.js";

/** A target ready to deliver: its compiled input and retry limits. */
export interface CompiledTarget {
  readonly target: Target;
  readonly input: TargetInput;
  readonly maxRetries: number;
  readonly maxAgeMs: number;
}

/** A rule ready to route: enabled or not, and its targets. */
export interface CompiledRule {
  readonly name: string;
  readonly arn: string;
  readonly enabled: boolean;
  readonly targets: readonly CompiledTarget[];
}

/** Header naming the one rule a scheduled event goes to, whatever the patterns say. */
export const DIRECT_RULE_HEADER = "direct-rule";
/** Header naming the rules a replayed event may go to (its replay's FilterArns). */
export const RULE_FILTER_HEADER = "rule-filter";

const READ_BATCH = 500;
/** First and longest wait before an archive write the disk refused is tried again. */
const ARCHIVE_RETRY_MS = 100;
const ARCHIVE_RETRY_MAX_MS = 5_000;
/** Pause before a dispatcher that failed unexpectedly runs again. */
const LOOP_RESTART_MS = 1000;
/**
 * Most appended events held in memory for a dispatcher that has caught up; past this (a
 * dispatcher that falls behind) the rest is read back from the log.
 */
const MAX_LIVE_EVENTS = 10_000;
/** Most characters of event text held so (events may be up to 256 KB each). */
const MAX_LIVE_CHARS = 32 * 1024 * 1024;

/** An event to append: the event, or its JSON text as `JSON.stringify` writes it. */
export type EventToAppend = (
  | { readonly event: BusEvent }
  | {
      readonly text: string;
      /** Where the detail, the text's last member, begins (-1: not known). */
      readonly detailStart: number;
    }
) & { readonly directRule?: string; readonly ruleFilter?: readonly string[] };

/** A durable event as the dispatcher takes it: read from the log, or handed over on append. */
interface DurableEvent {
  readonly offset: number;
  readonly timestamp: number;
  readonly text: string;
  readonly detailStart: number;
  readonly directRule: string | undefined;
  readonly ruleFilter: readonly string[] | undefined;
}

/**
 * An event as the dispatcher has it: its JSON text (as `JSON.stringify` wrote it), parsed only
 * when a target needs the object. Matching walks the text, and queue targets that get the event
 * or a part of it get that text as it is.
 */
class LoggedEvent {
  private parsed: BusEvent | undefined;

  constructor(
    readonly text: string,
    /** Where the detail, the text's last member, begins (-1: not known). */
    readonly detailStart: number,
  ) {}

  get event(): BusEvent {
    return (this.parsed ??= JSON.parse(this.text) as BusEvent);
  }
}

/** The retry limit that ran out, as EventBridge names it on a dead-lettered event. */
type ExhaustedRetryCondition = "MaximumRetryAttempts" | "MaximumEventAgeInSeconds";

/** One event's delivery to one target, as the dispatcher tracks it. */
interface Delivery {
  readonly offset: number;
  readonly ingestedMs: number;
  readonly logged: LoggedEvent;
  readonly rule: CompiledRule;
  readonly target: CompiledTarget;
}

/** An event read from the log, with its headers decoded. */
function fromLog(record: LogRecord): DurableEvent {
  let directRule: string | undefined;
  let ruleFilter: string[] | undefined;
  for (const header of record.headers) {
    if (header.key === DIRECT_RULE_HEADER) directRule = header.value?.toString("utf8");
    else if (header.key === RULE_FILTER_HEADER && header.value != null)
      ruleFilter = JSON.parse(header.value.toString("utf8")) as string[];
  }
  return {
    offset: record.offset,
    timestamp: record.timestamp,
    text: record.value!.toString("utf8"),
    detailStart: -1,
    directRule,
    ruleFilter,
  };
}

/**
 * One event bus: an engine log of put events (acknowledged once durable) and a dispatcher that
 * reads it in order, matches each event against every rule and archive at once through one
 * shared pattern index, writes archives, and delivers to targets. A failed delivery retries in
 * the background (exponential backoff with jitter, up to the target's attempts and event age)
 * and then goes to the dead-letter queue; the saved cursor never passes an event that still has
 * a delivery pending, so a crash re-delivers (at least once) rather than loses.
 *
 * The log is the source of truth. A dispatcher that has taken every durable event is handed
 * the events of each append as they become durable (the text just written, no read back from
 * the log and no decoding), in offset order; one that is behind (after opening, or past
 * MAX_LIVE_EVENTS or MAX_LIVE_CHARS) reads the log until it has caught up.
 */
export class DurableBus {
  readonly rules = new Map<string, CompiledRule>();
  readonly archives = new Map<string, ArchiveLog>();
  private readonly index = new PatternIndex<string>();
  private readonly walk = new JsonWalk();
  /** Concurrent putEvents calls share one log append (one write). */
  private readonly appender: AppendCoalescer;
  private acknowledgedEnd: number;
  private waiters: (() => void)[] = [];
  /** Next event to dispatch: every event before it has had its first attempts. */
  private position: number;
  /** Next event for the dispatcher to take (past `position` while a batch is in dispatch). */
  private fetched: number;
  /** Durable events handed over in memory, from `live[liveHead]` (at offset `fetched`) on. */
  private live: DurableEvent[] = [];
  private liveHead = 0;
  /** Characters of text in `live` from `liveHead` on. */
  private liveChars = 0;
  /** Offset -> deliveries still retrying. */
  private readonly pending = new Map<number, number>();
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly retrying = new Set<Promise<void>>();
  private readonly queueUrls = new Map<string, string>();
  private readonly kinds = new Map<string, TargetKind | undefined>();
  private readonly backoff: Backoff;
  private readonly delivered: Counter | undefined;
  private readonly failedAttempts: Counter | undefined;
  private readonly deadLettered: Counter | undefined;
  private readonly dropped: Counter | undefined;
  private readonly matchedEvents: Counter | undefined;
  private readonly archiveFailures: Counter | undefined;
  private readonly archiveSkipped: Counter | undefined;
  private readonly dispatchFailures: Counter | undefined;

  private constructor(
    readonly name: string,
    readonly log: Log,
    private readonly clock: Clock,
    private readonly wiring: TargetWiring,
    cursor: number,
    metrics: MetricsRegistry | undefined,
    random: (() => number) | undefined,
  ) {
    this.appender = new AppendCoalescer(log, clock);
    this.acknowledgedEnd = log.logEndOffset;
    this.position = Math.max(cursor, log.logStartOffset);
    this.fetched = this.position;
    this.backoff = exponentialBackoff({
      initialDelayMs: 1000,
      maxDelayMs: 300_000,
      jitter: "full",
      ...(random === undefined ? {} : { random }),
    });
    const labels = { bus: name };
    this.delivered = metrics?.counter(
      "sluice_bus_delivered_total",
      "Events delivered to targets.",
      labels,
    );
    this.failedAttempts = metrics?.counter(
      "sluice_bus_delivery_failures_total",
      "Failed delivery attempts.",
      labels,
    );
    this.deadLettered = metrics?.counter(
      "sluice_bus_dead_lettered_total",
      "Events sent to a target's dead-letter queue.",
      labels,
    );
    this.dropped = metrics?.counter(
      "sluice_bus_dropped_total",
      "Events given up with no dead-letter queue (as EventBridge does).",
      labels,
    );
    this.matchedEvents = metrics?.counter("sluice_bus_matched_total", "Rule matches.", labels);
    this.archiveFailures = metrics?.counter(
      "sluice_bus_archive_write_failures_total",
      "Archive writes the disk refused (each is tried again).",
      labels,
    );
    this.dispatchFailures = metrics?.counter(
      "sluice_bus_dispatch_failures_total",
      "Dispatcher loops that failed unexpectedly (a read the disk refused) and ran again.",
      labels,
    );
    this.archiveSkipped = metrics?.counter(
      "sluice_bus_archive_skipped_total",
      "Events not archived because the archive's log stopped after an I/O failure.",
      labels,
    );
  }

  static async open(
    dir: string,
    name: string,
    options: {
      clock: Clock;
      fsync: FsyncPolicy;
      fs?: FileSystem;
      wiring: TargetWiring;
      cursor: number;
      metrics?: MetricsRegistry;
      random?: () => number;
    },
  ): Promise<DurableBus> {
    const log = await openLog(dir, {
      fsync: options.fsync,
      clock: options.clock,
      segmentBytes: 16 * 1024 * 1024,
      maintenanceIntervalMs: 0,
      name: `bus/${name}`,
      ...(options.fs === undefined ? {} : { fs: options.fs }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    });
    return new DurableBus(
      name,
      log,
      options.clock,
      options.wiring,
      options.cursor,
      options.metrics,
      options.random,
    );
  }

  /** Where the dispatcher may resume after a crash: no earlier event has a delivery pending. */
  get safeCursor(): number {
    for (const offset of this.pending.keys()) return Math.min(offset, this.position);
    return this.position;
  }

  get endOffset(): number {
    return this.acknowledgedEnd;
  }

  setRulePattern(
    rule: string,
    pattern: Parameters<PatternIndex<string>["set"]>[1] | undefined,
  ): void {
    if (pattern === undefined) this.index.delete(`r:${rule}`);
    else this.index.set(`r:${rule}`, pattern);
  }

  setArchivePattern(
    archive: string,
    pattern: Parameters<PatternIndex<string>["set"]>[1] | undefined,
  ): void {
    if (pattern === undefined) this.index.delete(`a:${archive}`);
    else this.index.set(`a:${archive}`, pattern);
  }

  /** Appends events; resolves once durable, when the dispatcher may deliver them. */
  async append(events: readonly EventToAppend[]): Promise<void> {
    if (events.length === 0) return;
    const texts = events.map((e) => ("text" in e ? e.text : JSON.stringify(e.event)));
    const result = await this.appender.append(
      events.map(({ directRule, ruleFilter }, i) => {
        const value = texts[i]!;
        // Most events have no headers: no arrays are built for them.
        if (directRule === undefined && ruleFilter === undefined) return { value };
        const headers: RecordHeader[] = [];
        if (directRule !== undefined)
          headers.push({ key: DIRECT_RULE_HEADER, value: Buffer.from(directRule, "utf8") });
        if (ruleFilter !== undefined)
          headers.push({
            key: RULE_FILTER_HEADER,
            value: Buffer.from(JSON.stringify(ruleFilter), "utf8"),
          });
        return { value, headers };
      }),
    );
    this.handOver(events, texts, result);
    if (result.lastOffset + 1 > this.acknowledgedEnd) {
      this.acknowledgedEnd = result.lastOffset + 1;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Gives the dispatcher the events of an append that has just become durable, if they are the
   * next it would read from the log: it has taken every durable event before them (or they
   * follow the events already handed over) and the hand-over buffer has room.
   */
  private handOver(
    events: readonly EventToAppend[],
    texts: readonly string[],
    result: CoalescedAppend,
  ): void {
    const base = result.baseOffset;
    const liveEnd =
      this.liveHead < this.live.length ? this.live[this.live.length - 1]!.offset + 1 : this.fetched;
    if (base !== this.acknowledgedEnd || base !== liveEnd) return;
    if (this.live.length - this.liveHead + events.length > MAX_LIVE_EVENTS) return;
    let chars = 0;
    for (const text of texts) chars += text.length;
    if (this.liveChars + chars > MAX_LIVE_CHARS) return;
    this.liveChars += chars;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      this.live.push({
        offset: base + i,
        timestamp: result.timestamps[i]!,
        text: texts[i]!,
        detailStart: "detailStart" in e ? e.detailStart : -1,
        directRule: e.directRule,
        ruleFilter: e.ruleFilter,
      });
    }
  }

  /** The next events to dispatch, from the hand-over buffer if they are there, else the log. */
  private take(): DurableEvent[] {
    const live = this.live;
    if (this.liveHead < live.length && live[this.liveHead]!.offset === this.fetched) {
      const end = Math.min(live.length, this.liveHead + READ_BATCH);
      const taken = live.slice(this.liveHead, end);
      for (const e of taken) this.liveChars -= e.text.length;
      if (end === live.length) {
        this.live = [];
        this.liveHead = 0;
      } else if (end >= 4 * READ_BATCH) {
        // A buffer never drained to the end is cut, so the events taken are not kept.
        this.live = live.slice(end);
        this.liveHead = 0;
      } else this.liveHead = end;
      return taken;
    }
    this.live = [];
    this.liveHead = 0;
    this.liveChars = 0;
    const records = this.log.read(this.fetched, {
      maxRecords: Math.min(READ_BATCH, this.acknowledgedEnd - this.fetched),
    });
    const taken: DurableEvent[] = [];
    for (const record of records)
      if (record.offset < this.acknowledgedEnd) taken.push(fromLog(record));
    return taken;
  }

  /**
   * Dispatches until stopped; a dispatcher that fails is run again from the last event it
   * finished (see superviseLoop).
   */
  start(): void {
    this.running ??= superviseLoop(
      () => {
        this.fetched = this.position;
        return this.run();
      },
      {
        clock: this.clock,
        signal: this.abort.signal,
        restartDelayMs: LOOP_RESTART_MS,
        onFailure: () => this.dispatchFailures?.inc(),
      },
    );
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (this.fetched >= this.acknowledgedEnd) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            signal.removeEventListener("abort", done);
            resolve();
          };
          this.waiters.push(done);
          signal.addEventListener("abort", done, { once: true });
        });
        continue;
      }
      const events = this.take();
      if (events.length === 0) break;
      this.fetched = events[events.length - 1]!.offset + 1;
      await this.dispatch(events);
      if (signal.aborted) return;
      this.position = this.fetched;
    }
  }

  /**
   * Matches a batch, writes archives, then delivers: queue targets get all of the batch's events
   * for them in one bulk send each (one durable write per queue), other targets one by one.
   * First attempts are awaited; failures retry in the background.
   */
  private async dispatch(records: readonly DurableEvent[]): Promise<void> {
    const toArchive = new Map<string, { text: string; ingestedMs: number }[]>();
    const toQueues = new Map<string, Delivery[]>();
    const deliveries: Promise<void>[] = [];
    for (const record of records) {
      const logged = new LoggedEvent(record.text, record.detailStart);
      const direct = record.directRule;
      const ruleFilter = record.ruleFilter === undefined ? undefined : new Set(record.ruleFilter);
      const matched = direct === undefined ? this.index.matchJson(logged.text) : [`r:${direct}`];
      for (const id of matched) {
        if (id.startsWith("a:")) {
          // Replays are not archived again.
          if (this.walk.textAt(logged.text, ["replay-name"]) !== undefined) continue;
          const list = toArchive.get(id.slice(2)) ?? [];
          list.push({ text: logged.text, ingestedMs: record.timestamp });
          toArchive.set(id.slice(2), list);
          continue;
        }
        const rule = this.rules.get(id.slice(2));
        if (rule === undefined || !rule.enabled) continue;
        if (ruleFilter !== undefined && !ruleFilter.has(rule.name)) continue;
        this.matchedEvents?.inc();
        for (const target of rule.targets) {
          const delivery: Delivery = {
            offset: record.offset,
            ingestedMs: record.timestamp,
            logged,
            rule,
            target,
          };
          const arn = target.target.Arn;
          if (this.kindOf(arn) === "sqs" && this.wiring.queues !== undefined) {
            const list = toQueues.get(arn);
            if (list === undefined) toQueues.set(arn, [delivery]);
            else list.push(delivery);
          } else deliveries.push(this.deliverFirst(delivery));
        }
      }
    }
    await Promise.all([...toArchive].map(([name, events]) => this.archive(name, events)));
    for (const [arn, list] of toQueues) deliveries.push(this.deliverToQueue(arn, list));
    await Promise.all(deliveries);
  }

  /**
   * Writes events to an archive. A write the disk refuses (full, failing) is tried again, and the
   * bus waits for it: an archive skips no event for a passing disk problem. An archive whose log
   * a failed fsync stopped (until a restart reopens it; /healthz names it) skips them, counted,
   * rather than stop the bus's deliveries too. Stopping (close) leaves the batch unarchived and
   * the bus's cursor before it, so the next open archives it.
   */
  private async archive(
    name: string,
    events: readonly { text: string; ingestedMs: number }[],
  ): Promise<void> {
    for (let delayMs = ARCHIVE_RETRY_MS; ; delayMs = Math.min(2 * delayMs, ARCHIVE_RETRY_MAX_MS)) {
      const archive = this.archives.get(name);
      if (archive === undefined) return; // deleted meanwhile
      try {
        await archive.append(events);
        return;
      } catch {
        this.archiveFailures?.inc();
        if (archive.hasFailed) {
          this.archiveSkipped?.inc(events.length);
          return;
        }
      }
      try {
        await this.clock.sleep(delayMs, this.abort.signal, { keepAlive: false });
      } catch {
        return; // stopping
      }
    }
  }

  private kindOf(arn: string): TargetKind | undefined {
    let kind = this.kinds.get(arn);
    if (kind === undefined && !this.kinds.has(arn)) {
      kind = targetKind(arn);
      this.kinds.set(arn, kind);
    }
    return kind;
  }

  /** First attempt of many deliveries to one queue, in order, in one bulk send. */
  private async deliverToQueue(arn: string, list: readonly Delivery[]): Promise<void> {
    const entries: Omit<SendMessageInput, "QueueUrl">[] = [];
    const sent: Delivery[] = [];
    for (const d of list) {
      try {
        entries.push(queueEntryFor(d.target.target, this.queueBody(d), () => d.logged.event.id));
        sent.push(d);
      } catch (error) {
        this.fail(d, asError(error));
      }
    }
    let failed: readonly { index: number; error: Error }[];
    try {
      const url = await queueUrlOf(this.wiring, arn, this.queueUrls);
      failed = (await sendInBulk(this.wiring.queues!, url, entries)).failed;
    } catch (error) {
      this.queueUrls.delete(arn);
      const reason = new TargetError(
        "SQS_SEND_FAILED",
        `queue ${arn}: ${asError(error).message}`,
        error,
      );
      for (const d of sent) this.fail(d, reason);
      return;
    }
    this.delivered?.inc(sent.length - failed.length);
    for (const { index, error } of failed)
      this.fail(
        sent[index]!,
        new TargetError("SQS_SEND_FAILED", `queue ${arn}: ${error.message}`, error),
      );
  }

  private payloadFor(d: Delivery): unknown {
    return transformInput(d.target.input, d.logged.event, {
      ruleArn: d.rule.arn,
      ruleName: d.rule.name,
      ingestionTime: new Date(d.ingestedMs).toISOString(),
    });
  }

  /**
   * A queue message's body: the stored text of the event, or of the part an InputPath names,
   * as it is (it is what serialising the parsed value gives); other inputs are built.
   */
  private queueBody(d: Delivery): string | undefined {
    const input = d.target.input;
    if (input.kind === "event") return d.logged.text;
    if (input.kind === "path") {
      const { text, detailStart } = d.logged;
      const path = input.path;
      let part: string | undefined;
      if (detailStart >= 0 && path[0] === "detail")
        part =
          path.length === 1
            ? text.slice(detailStart, text.length - 1)
            : this.walk.textAt(text, path, detailStart, 1);
      else part = this.walk.textAt(text, path);
      // A string goes as its text, unquoted, as `textOf` sends it.
      if (part !== undefined) return part.startsWith('"') ? (JSON.parse(part) as string) : part;
    }
    return textOf(this.payloadFor(d));
  }

  private async deliverFirst(d: Delivery): Promise<void> {
    try {
      await sendToTarget(
        this.wiring,
        d.target.target,
        this.payloadFor(d),
        d.logged.event,
        this.queueUrls,
      );
      this.delivered?.inc();
    } catch (error) {
      this.fail(d, asError(error));
    }
  }

  /** A first attempt failed: the event stays pending while retries run in the background. */
  private fail(d: Delivery, error: Error): void {
    this.failedAttempts?.inc();
    const offset = d.offset;
    this.pending.set(offset, (this.pending.get(offset) ?? 0) + 1);
    const retrying = this.retry(d, error).finally(() => {
      this.retrying.delete(retrying);
      // Stopped mid-retry: the event stays pending, so the saved cursor does not pass it.
      if (this.abort.signal.aborted) return;
      const left = (this.pending.get(offset) ?? 1) - 1;
      if (left <= 0) this.pending.delete(offset);
      else this.pending.set(offset, left);
    });
    this.retrying.add(retrying);
  }

  private async retry(d: Delivery, firstError: Error): Promise<void> {
    const { ingestedMs, logged, rule, target } = d;
    const signal = this.abort.signal;
    let lastError = firstError;
    let previousDelay = 0;
    let retries = 0;
    let exhausted: ExhaustedRetryCondition = "MaximumRetryAttempts";
    for (let attempt = 1; attempt <= target.maxRetries; attempt++) {
      const delay = this.backoff.delayMs(attempt, previousDelay);
      previousDelay = delay;
      // The next try would come after the event's maximum age: it is given up now.
      if (this.clock.now() + delay - ingestedMs > target.maxAgeMs) {
        exhausted = "MaximumEventAgeInSeconds";
        break;
      }
      try {
        await this.clock.sleep(delay, signal);
      } catch {
        return; // closing: the event stays pending and is delivered again after reopening
      }
      retries++;
      try {
        await sendToTarget(
          this.wiring,
          target.target,
          this.payloadFor(d),
          logged.event,
          this.queueUrls,
        );
        this.delivered?.inc();
        return;
      } catch (error) {
        this.failedAttempts?.inc();
        lastError = asError(error);
      }
    }
    await this.deadLetter(logged, rule, target, lastError, exhausted, retries);
  }

  /**
   * Gives an event up: to the target's dead-letter queue, with EventBridge's attributes saying
   * why (which retry limit ran out, after how many retries, the last error), or dropped.
   */
  private async deadLetter(
    logged: LoggedEvent,
    rule: CompiledRule,
    target: CompiledTarget,
    error: Error,
    exhausted: ExhaustedRetryCondition,
    retries: number,
  ): Promise<void> {
    const dlq = target.target.DeadLetterConfig?.Arn;
    if (dlq === undefined) {
      this.dropped?.inc();
      return;
    }
    const attributes = {
      RULE_ARN: { DataType: "String", StringValue: rule.arn },
      TARGET_ARN: { DataType: "String", StringValue: target.target.Arn },
      ERROR_CODE: {
        DataType: "String",
        StringValue: error instanceof TargetError ? error.targetCode : "UNKNOWN",
      },
      ERROR_MESSAGE: { DataType: "String", StringValue: error.message.slice(0, 1000) || "failed" },
      EXHAUSTED_RETRY_CONDITION: { DataType: "String", StringValue: exhausted },
      RETRY_ATTEMPTS: { DataType: "String", StringValue: String(retries) },
    };
    // The dead-letter queue itself may be briefly unavailable: keep trying until it takes the event.
    for (;;) {
      try {
        await sendToQueue(this.wiring, dlq, logged.text, this.queueUrls, {
          MessageAttributes: attributes,
        });
        this.deadLettered?.inc();
        return;
      } catch {
        try {
          await this.clock.sleep(5_000, this.abort.signal);
        } catch {
          return;
        }
      }
    }
  }

  /** Drops events the dispatcher has safely passed. */
  async trimBefore(offset: number): Promise<void> {
    if (offset > this.log.logStartOffset && offset <= this.log.logEndOffset)
      await this.log.deleteRecordsBefore(offset);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    await this.running;
    await Promise.all([...this.retrying]);
  }

  async close(): Promise<void> {
    await this.stop();
    for (const archive of this.archives.values()) await archive.close();
    await this.log.close();
  }
}
