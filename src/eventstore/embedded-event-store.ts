import { join } from "node:path";
import { crc32c } from "@node-rs/crc32";
import {
  type FileSystem,
  type FsyncPolicy,
  type Log,
  type RecordInput,
  type RecordView,
  nodeFileSystem,
  openLog,
} from "../engine/index.js";
import { SluiceError, asError, invalid } from "../errors/index.js";
import type { Counter, MetricsRegistry } from "../observability/index.js";
import { type Clock, systemClock } from "../time/index.js";
import { EventPageDecoder, EventRecordDecoder, encodeEvent } from "./event-record.js";
import type { EventSchema } from "./event-schema.js";
import { ProjectionError, StreamDeletedError, StreamNotFoundError } from "./event-store-error.js";
import type {
  AppendOptions,
  AppendResult,
  DeleteStreamOptions,
  EventData,
  EventStore,
  JsonValue,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  StreamChange,
  StreamInfo,
  StreamMetadata,
  SubscribeOptions,
} from "./event-store.js";
import {
  DEFAULT_MAX_EVENT_BYTES,
  type PreparedEvent,
  assertExpectedVersion,
  checkDirection,
  checkEventFilter,
  checkExpectedVersion,
  checkFlag,
  checkHistory,
  checkMaxCount,
  checkOptionalIndex,
  checkOptions,
  checkStreamMetadata,
  checkStreamName,
  prepareEvents,
} from "./event-validation.js";
import { PersistentSubscriptions } from "./persistent/persistent-subscriptions.js";
import { ReadModelSubscriptionState } from "./persistent/read-model-subscription-state.js";
import { EmbeddedReadModel } from "./projections/embedded-read-model.js";
import { BufferedTransaction, type Projection, type ReadModel } from "./projections/projection.js";
import {
  type StreamState,
  StreamIndex,
  expired,
  firstReadableVersion,
  lastVersion,
  metadataStreamOf,
  streamExists,
} from "./stream-index.js";
import { matches, subscribeTo } from "./subscription.js";

/** A projection updated with every append, its read model never behind an acknowledged event. */
export interface InlineProjection {
  readonly projection: Projection;
  readonly readModel: ReadModel;
}

export interface EmbeddedEventStoreOptions {
  readonly clock?: Clock;
  /** Durability of appends (default: fsync every 50 ms). */
  readonly fsync?: FsyncPolicy;
  readonly metrics?: MetricsRegistry;
  readonly fs?: FileSystem;
  /** Segment size of the event log (default 128 MiB). */
  readonly segmentBytes?: number;
  /** Largest event, data + metadata as JSON (default 1 MiB). */
  readonly maxEventBytes?: number;
  /** Upcasters applied on read; with a schema, unknown event types are refused on read. */
  readonly eventSchema?: EventSchema;
  /** Projections committed with each append. */
  readonly inline?: readonly InlineProjection[];
}

const INDEX_FILE = "stream-index.json";

/** The CRC-32C of the index file's JSON, as 8 hex digits: its first line. */
function checksumOf(json: string): string {
  return crc32c(Buffer.from(json)).toString(16).padStart(8, "0");
}

/**
 * The JSON of an index file whose checksum line matches it; throws for a file whose bytes
 * changed (a damaged digit may still parse, and would point reads at the wrong events). A file
 * without the line, as releases before it wrote, is taken as it is.
 */
function checkedIndexText(text: string): string {
  if (text.startsWith("{")) return text;
  const newline = text.indexOf("\n");
  const json = text.slice(newline + 1);
  if (newline !== 8 || text.slice(0, 8) !== checksumOf(json))
    throw new Error("stream index: checksum mismatch");
  return json;
}
const PERSISTENT_SUBSCRIPTIONS_DIR = "persistent-subscriptions";
const SCAN_BATCH = 5_000;
/** Appends made in one turn are written as one batch, up to about this many bytes. */
const GROUP_BYTES = 1024 * 1024;

interface PendingWrites {
  readonly writes: ReadonlyMap<string, JsonValue | null>;
  readonly checkpoint: number;
}

/** Records of appends made in one turn, written to the log together (see `addToGroup`). */
interface AppendGroup {
  readonly records: RecordInput[];
  bytes: number;
  /**
   * What its appends changed in the index when each was made, for `rollBack`: the streams they
   * appended to, those of them they revived from a soft delete, and the ids they gave.
   */
  readonly streams: StreamState[];
  readonly revived: StreamState[];
  readonly ids: string[];
  /** The log refused it whole and the index forgot it (see `rollBack`). */
  rolledBack: boolean;
  readonly written: Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface InlineState extends InlineProjection {
  /** Staged by appends whose events are written but not yet durable, in position order. */
  readonly pending: PendingWrites[];
}

/**
 * The event store embedded in the process, on one engine log: the log is `$all` (offset =
 * global position), each record one event keyed by its stream and version. A per-stream index
 * lives in memory, is saved on close and brought up to date from the log on open.
 */
export class EmbeddedEventStore implements EventStore {
  private readonly index = new StreamIndex();
  /** Reads run synchronously, one at a time, so they share one decoder (and its string caches). */
  private readonly decoder = new EventRecordDecoder();
  private readonly page = new EventPageDecoder(this.decoder);
  private readonly inline: InlineState[];
  private lastTimestamp = 0;
  private failure: Error | undefined;
  /** Groups the log refused and the index forgot; an append checked before one of them fails. */
  private rollbacks = 0;
  private serial: Promise<unknown> = Promise.resolve();
  private group: AppendGroup | undefined;
  private closing: Promise<void> | undefined;
  private persistent: PersistentSubscriptions | undefined;
  private readonly appended: Counter | undefined;
  private readonly eventsAppended: Counter | undefined;

  private constructor(
    private readonly dir: string,
    private readonly log: Log,
    private readonly fs: FileSystem,
    private readonly clock: Clock,
    private readonly options: EmbeddedEventStoreOptions,
  ) {
    this.inline = (options.inline ?? []).map((i) => ({ ...i, pending: [] }));
    this.appended = options.metrics?.counter(
      "sluice_eventstore_appends_total",
      "appends acknowledged",
      { backend: "embedded" },
    );
    this.eventsAppended = options.metrics?.counter(
      "sluice_eventstore_events_total",
      "events appended",
      { backend: "embedded" },
    );
  }

  /** Opens (creating if needed) the event store in `dir`, recovering its index and inline projections. */
  static async open(
    dir: string,
    options: EmbeddedEventStoreOptions = {},
  ): Promise<EmbeddedEventStore> {
    const fs = options.fs ?? nodeFileSystem;
    const clock = options.clock ?? systemClock;
    if (!fs.exists(dir)) fs.mkdir(dir);
    const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    const log = await openLog(join(dir, "log"), {
      clock,
      fs,
      name: "eventstore",
      maxRecordBytes: maxEventBytes + 4096,
      maintenanceIntervalMs: 0,
      ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
    });
    const store = new EmbeddedEventStore(dir, log, fs, clock, options);
    try {
      store.recoverIndex();
      for (const inline of store.inline) await store.catchUpInline(inline);
    } catch (error) {
      await log.close();
      throw error;
    }
    return store;
  }

  // ---------------------------------------------------------------- recovery

  private recoverIndex(): void {
    const file = join(this.dir, INDEX_FILE);
    let from = this.log.logStartOffset;
    if (this.fs.exists(file)) {
      try {
        const saved = JSON.parse(checkedIndexText(this.fs.readFile(file).toString())) as unknown;
        const position = (saved as { position?: unknown }).position;
        if (
          typeof position === "number" &&
          position < this.log.logEndOffset &&
          this.index.load(saved)
        ) {
          from = position + 1;
          this.lastTimestamp = saved.lastTimestamp;
        } else this.index.streams.clear();
      } catch {
        // An unreadable checkpoint only costs a full scan.
        this.index.streams.clear();
        this.index.ids.clear();
      }
    }
    let at = from;
    const visit = (view: RecordView): boolean => {
      this.indexRecord(view);
      at = view.offset + 1;
      return true;
    };
    while (at < this.log.logEndOffset) {
      const visited = this.log.scan(
        at,
        { maxRecords: SCAN_BATCH, maxBytes: 8 * 1024 * 1024 },
        visit,
      );
      if (visited === 0) break;
    }
  }

  private indexRecord(view: RecordView): void {
    const key = this.decoder.readKey(view);
    const state = this.index.ensure(key.stream);
    if (key.version !== state.positions.length)
      throw new SluiceError(
        "SLUICE_CORRUPT",
        `event at position ${view.offset}: stream ${JSON.stringify(key.stream)} version ${key.version}, expected ${state.positions.length}`,
        { details: { position: view.offset, stream: key.stream } },
      );
    this.track(state, view.offset, key.idGiven ? this.decoder.id(view) : undefined);
    if (key.type.startsWith("$")) this.applySystemEvent(this.decoder.readEvent(view));
    this.lastTimestamp = Math.max(this.lastTimestamp, view.timestamp);
  }

  /** Records the event at `position` as the stream's next version (and its id, if chosen). */
  private track(state: StreamState, position: number, givenId: string | undefined): void {
    state.positions.push(position);
    if (!state.name.startsWith("$$")) state.softDeleted = false;
    if (givenId !== undefined) this.index.ids.set(givenId, position);
  }

  /** Metadata and deletes live as `$metadata` / `$deleted` events in the stream `$$name`. */
  private applySystemEvent(event: RecordedEvent): void {
    if (!event.stream.startsWith("$$")) return;
    const target = this.index.ensure(event.stream.slice(2));
    if (event.type === "$metadata") target.metadata = event.data as StreamMetadata;
    else if (event.type === "$deleted") {
      const { hard, version } = event.data as { hard: boolean; version: number };
      target.deletedBefore = version + 1;
      if (hard) target.hardDeleted = true;
      else target.softDeleted = true;
    }
  }

  private async catchUpInline(inline: InlineState): Promise<void> {
    let next = (await inline.readModel.checkpoint()) + 1;
    const end = this.log.logEndOffset;
    while (next < end) {
      const page = await this.readAll({
        fromPosition: next,
        maxCount: 10_000,
        includeSystem: true,
      });
      const tx = new BufferedTransaction((key) => inline.readModel.get(key));
      let last = next - 1;
      for (const event of page.events) {
        last = event.position;
        if (event.stream.startsWith("$") || !matches(event, inline.projection.filter)) continue;
        try {
          await inline.projection.apply(event, tx);
        } catch (error) {
          throw new ProjectionError(inline.projection.name, event.position, error);
        }
      }
      next = page.nextPosition ?? end;
      await inline.readModel.commit(tx.writes, Math.max(last, next - 1));
    }
  }

  // ---------------------------------------------------------------- append

  private ensureUsable(): void {
    if (this.closing !== undefined || this.log.isClosed)
      throw new SluiceError("SLUICE_CLOSED", "the event store is closed");
    if (this.failure !== undefined)
      throw new SluiceError("SLUICE_IO", "the event store failed and must be reopened", {
        cause: this.failure,
      });
  }

  /** Appends `events` atomically (all or none) if the stream is as `expectedVersion` says. */
  appendToStream(
    stream: string,
    events: readonly EventData[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    try {
      this.ensureUsable();
      checkStreamName(stream);
      if (stream.startsWith("$$") || stream === "$all")
        throw invalid("stream", "a name not starting with $$ and not $all (reserved)", stream);
      const expected = checkExpectedVersion(checkOptions(options).expectedVersion ?? "any");
      const prepared = prepareEvents(events, this.options.maxEventBytes);
      return this.exclusive(() =>
        this.write(stream, prepared, (state) => {
          if (state?.hardDeleted === true) throw new StreamDeletedError(stream);
          const duplicate = this.duplicateOf(stream, prepared);
          if (duplicate !== undefined) return duplicate;
          assertExpectedVersion(stream, expected, lastVersion(state), streamExists(state));
          return undefined;
        }),
      );
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  /** Runs `task` alone when inline projections need appends in order; otherwise at once. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.inline.length === 0) return task();
    const run = this.serial.then(task, task);
    this.serial = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** The earlier result when every event's id was appended before, as one append, to `stream`. */
  private duplicateOf(stream: string, events: readonly PreparedEvent[]): AppendResult | undefined {
    const first = events[0]!;
    const firstPosition = first.idGiven ? this.index.ids.get(first.id) : undefined;
    let matched = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const at = e.idGiven ? this.index.ids.get(e.id) : undefined;
      if (at === undefined) continue;
      if (firstPosition === undefined || at !== firstPosition + i)
        throw invalid(
          `events[${i}].id`,
          "ids of one earlier append (all of them, in order) or new ids",
          e.id,
        );
      matched++;
    }
    if (matched === 0 || firstPosition === undefined) return undefined;
    if (matched !== events.length)
      throw invalid("events", "ids of one earlier append (all of them, in order) or new ids");
    const state = this.index.streams.get(stream);
    const version = state === undefined ? -1 : binarySearch(state.positions, firstPosition);
    if (version < 0)
      throw invalid("events[0].id", `an id not already used in another stream`, first.id);
    return {
      nextExpectedVersion: version + events.length - 1,
      position: firstPosition + events.length - 1,
    };
  }

  /**
   * Checks, stages inline projections, writes one batch (the engine writes it synchronously, so
   * no other append can interleave between the check and the write), then waits for durability.
   */
  private async write(
    stream: string,
    events: readonly PreparedEvent[],
    check: (state: StreamState | undefined) => AppendResult | undefined,
  ): Promise<AppendResult> {
    this.ensureUsable();
    const rollbacks = this.rollbacks;
    let state = this.index.streams.get(stream);
    const earlier = check(state);
    if (earlier !== undefined) return earlier;
    const base = lastVersion(state) + 1;
    const firstPosition = this.log.logEndOffset + (this.group?.records.length ?? 0);
    const timestamp = Math.max(this.clock.now(), this.lastTimestamp);
    if (this.inline.length > 0) {
      await this.stageInline(stream, events, base, firstPosition, timestamp);
      // Staging awaited handlers; the state could only change through this same queue.
      state = this.index.streams.get(stream);
    }
    const records: RecordInput[] = [];
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const record = encodeEvent(stream, base + i, events[i]!, timestamp);
      bytes += record.key!.length + record.value!.length;
      records.push(record);
    }
    let done: Promise<unknown>;
    let group: AppendGroup | undefined;
    if (bytes <= GROUP_BYTES) {
      group = this.addToGroup(records, bytes, rollbacks);
      if (group === undefined) throw this.refusedBefore(firstPosition);
      done = group.written;
    } else {
      // A big append goes alone, so that only it is refused if the log will not take it.
      this.flushGroup();
      if (this.rollbacks !== rollbacks) throw this.refusedBefore(firstPosition);
      this.ensureUsable();
      done = this.log.append(records);
      if (this.log.logEndOffset === firstPosition) {
        this.dropStaged(firstPosition);
        await done; // refused before writing: rethrows the engine's error
        throw new SluiceError("SLUICE_INTERNAL", "append was neither written nor refused");
      }
    }
    state ??= this.index.ensure(stream);
    if (group !== undefined) {
      group.streams.push(state);
      if (state.softDeleted) group.revived.push(state);
    }
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      this.track(state, firstPosition + i, e.idGiven ? e.id : undefined);
      if (e.idGiven) group?.ids.push(e.id);
    }
    this.lastTimestamp = timestamp;
    try {
      await done;
    } catch (error) {
      // A group the index forgot leaves the store as it was; any other failure (an fsync's,
      // which takes back what was written) leaves the index ahead of the log.
      if (group?.rolledBack !== true) this.failure ??= error as Error;
      throw error;
    }
    const position = firstPosition + events.length - 1;
    if (this.inline.length > 0) await this.commitInline(position);
    this.appended?.inc();
    this.eventsAppended?.inc(events.length);
    return { nextExpectedVersion: base + events.length - 1, position };
  }

  /**
   * Group commit: the records of appends made in one turn (concurrent writers, woken by the same
   * write) go to the log as one batch at the end of the turn: one write and one batch header
   * instead of one each. Each append was checked and indexed when it was made, in order; it is
   * acknowledged when the batch holding it is durable, as before.
   */
  private addToGroup(
    records: readonly RecordInput[],
    bytes: number,
    rollbacks: number,
  ): AppendGroup | undefined {
    let group = this.group;
    if (group !== undefined && group.bytes + bytes > GROUP_BYTES) {
      this.flushGroup();
      group = undefined;
    }
    // Checked (at `rollbacks`) against appends of a group the log has refused since.
    if (this.rollbacks !== rollbacks) return undefined;
    if (group === undefined) {
      let resolve!: (value: unknown) => void;
      let reject!: (error: unknown) => void;
      const written = new Promise((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const created: AppendGroup = {
        records: [],
        bytes: 0,
        streams: [],
        revived: [],
        ids: [],
        rolledBack: false,
        written,
        resolve,
        reject,
      };
      this.group = group = created;
      queueMicrotask(() => {
        if (this.group === created) this.flushGroup();
      });
    }
    for (const record of records) group.records.push(record);
    group.bytes += bytes;
    return group;
  }

  /** Writes the pending group now (before anything else is written, to keep positions). */
  private flushGroup(): void {
    const group = this.group;
    if (group === undefined) return;
    this.group = undefined;
    const first = this.log.logEndOffset;
    const done = this.log.append(group.records);
    if (this.log.logEndOffset === first) {
      // Its write failed and was undone (a full disk, an I/O error): the index forgets these
      // appends and the store goes on. A log that closed or stopped cannot be written again:
      // the index lists events it does not hold, so this store cannot go on.
      if (this.log.isClosed || this.log.hasFailed)
        this.failure ??= new SluiceError("SLUICE_IO", "the event log refused a write");
      else this.rollBack(group, first);
    }
    done.then(group.resolve, group.reject);
  }

  /** Refuses an append checked against appends the log has refused since (see `rollbacks`). */
  private refusedBefore(firstPosition: number): SluiceError {
    this.dropStaged(firstPosition);
    return new SluiceError(
      "SLUICE_IO",
      "the event log refused the appends made just before this one, which it was checked " +
        "against: retry it",
    );
  }

  /**
   * Forgets the appends of a group the log refused: their index entries (made when each append
   * was made) and the read-model writes staged for them. Appends checked since, against them,
   * are refused as well (see `rollbacks`).
   */
  private rollBack(group: AppendGroup, first: number): void {
    const index = this.index;
    for (const state of group.streams) {
      const positions = state.positions;
      while (positions.length > 0 && positions[positions.length - 1]! >= first) positions.pop();
    }
    for (const state of group.revived) state.softDeleted = true;
    for (const id of group.ids) if ((index.ids.get(id) ?? -1) >= first) index.ids.delete(id);
    // A stream left as `ensure` makes one is one these appends created.
    for (const state of group.streams)
      if (isUntouched(state) && index.streams.get(state.name) === state)
        index.streams.delete(state.name);
    for (const inline of this.inline)
      while (inline.pending.length > 0 && inline.pending.at(-1)!.checkpoint >= first)
        inline.pending.pop();
    group.rolledBack = true;
    this.rollbacks++;
  }

  private async stageInline(
    stream: string,
    events: readonly PreparedEvent[],
    base: number,
    firstPosition: number,
    timestamp: number,
  ): Promise<void> {
    if (stream.startsWith("$")) {
      for (const inline of this.inline)
        inline.pending.push({ writes: new Map(), checkpoint: firstPosition + events.length - 1 });
      return;
    }
    const recorded: RecordedEvent[] = events.map((e, i) => {
      const event: RecordedEvent = {
        id: e.id,
        stream,
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: JSON.parse(e.dataJson) as JsonValue,
        metadata: JSON.parse(e.metadataJson) as RecordedEvent["metadata"],
        version: base + i,
        position: firstPosition + i,
        timestamp,
      };
      return this.options.eventSchema?.upcast(event) ?? event;
    });
    const staged: [InlineState, PendingWrites][] = [];
    for (const inline of this.inline) {
      const tx = new BufferedTransaction((key) => this.inlineLookup(inline, key));
      for (const event of recorded) {
        if (!matches(event, inline.projection.filter)) continue;
        try {
          await inline.projection.apply(event, tx);
        } catch (error) {
          throw new ProjectionError(inline.projection.name, event.position, error);
        }
      }
      staged.push([inline, { writes: tx.writes, checkpoint: firstPosition + events.length - 1 }]);
    }
    for (const [inline, pending] of staged) inline.pending.push(pending);
  }

  /** A key as an inline handler sees it: staged writes of earlier appends, then the read model. */
  private inlineLookup(inline: InlineState, key: string): Promise<JsonValue | undefined> {
    for (let i = inline.pending.length - 1; i >= 0; i--) {
      const value = inline.pending[i]!.writes.get(key);
      if (value !== undefined) return Promise.resolve(value === null ? undefined : value);
    }
    return inline.readModel.get(key);
  }

  private dropStaged(firstPosition: number): void {
    for (const inline of this.inline) {
      const last = inline.pending[inline.pending.length - 1];
      if (last !== undefined && last.checkpoint >= firstPosition) inline.pending.pop();
    }
  }

  /** Commits staged read-model writes of every durable append up to `position`, in order. */
  private async commitInline(position: number): Promise<void> {
    for (const inline of this.inline)
      while (inline.pending.length > 0 && inline.pending[0]!.checkpoint <= position) {
        const next = inline.pending.shift()!;
        await inline.readModel.commit(next.writes, next.checkpoint);
      }
  }

  /** Appends a system event (`$metadata`, `$deleted`) to the metadata stream of `stream`. */
  private writeSystem(stream: string, type: string, data: JsonValue): Promise<AppendResult> {
    const dataJson = JSON.stringify(data);
    const event: PreparedEvent = {
      id: crypto.randomUUID(),
      idGiven: false,
      type,
      schemaVersion: 1,
      dataJson,
      metadataJson: "{}",
    };
    return this.exclusive(() =>
      this.write(metadataStreamOf(stream), [event], () => {
        const target = this.index.streams.get(stream);
        if (target?.hardDeleted === true) throw new StreamDeletedError(stream);
        return undefined;
      }).then((result) => {
        this.applySystemEvent({
          id: event.id,
          stream: metadataStreamOf(stream),
          type,
          schemaVersion: 1,
          data,
          metadata: {},
          version: result.nextExpectedVersion,
          position: result.position,
          timestamp: this.lastTimestamp,
        });
        return result;
      }),
    );
  }

  // ---------------------------------------------------------------- read

  private readableState(stream: string): StreamState {
    const state = this.index.streams.get(stream);
    if (state?.hardDeleted === true) throw new StreamDeletedError(stream);
    if (state === undefined || state.positions.length === 0 || state.softDeleted)
      throw new StreamNotFoundError(stream);
    return state;
  }

  /** Reads a page of one stream; resume with `nextVersion`. */
  readStream(stream: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    try {
      this.ensureOpen();
      checkStreamName(stream);
      const { direction: way, maxCount: count, fromVersion: from } = checkOptions(options);
      const direction = checkDirection(way);
      const maxCount = checkMaxCount(count);
      const fromVersion = checkOptionalIndex(from, "fromVersion");
      if (checkHistory(options.history, direction))
        return Promise.resolve(this.readHistory(stream, fromVersion ?? 0, maxCount));
      const state = this.readableState(stream);
      const last = state.positions.length - 1;
      const first = firstReadableVersion(last, state.deletedBefore, state.metadata);
      let events: RecordedEvent[];
      let nextVersion: number | undefined;
      if (direction === "forward") {
        const from = Math.max(fromVersion ?? first, first);
        const to = Math.min(last, from + maxCount - 1);
        events = this.readVersions(state.positions, from, to);
        nextVersion = to < last ? to + 1 : undefined;
      } else {
        const from = Math.min(fromVersion ?? last, last);
        const to = Math.max(first, from - maxCount + 1);
        events = this.readVersions(state.positions, to, from).reverse();
        nextVersion = to > first ? to - 1 : undefined;
      }
      if (state.metadata.maxAgeMs !== undefined) {
        const now = this.clock.now();
        events = events.filter((e) => !expired(e.timestamp, state.metadata, now));
      }
      return Promise.resolve({ events, streamVersion: last, nextVersion });
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  /** A history read (see `ReadStreamOptions.history`): every version as appended, and the changes. */
  private readHistory(stream: string, fromVersion: number, maxCount: number): ReadStreamResult {
    const state = this.index.streams.get(stream);
    if (state === undefined || state.positions.length === 0) throw new StreamNotFoundError(stream);
    const last = state.positions.length - 1;
    const to = Math.min(last, fromVersion + maxCount - 1);
    const events = fromVersion > last ? [] : this.readVersions(state.positions, fromVersion, to);
    const system = this.index.streams.get(metadataStreamOf(stream));
    const changes: StreamChange[] = [];
    if (system !== undefined)
      for (const event of this.readVersions(system.positions, 0, system.positions.length - 1)) {
        // The change is the record at its own position: everything before it came first.
        const at = { position: event.position - 1, time: event.timestamp };
        if (event.type === "$metadata")
          changes.push({ ...at, metadata: event.data as StreamMetadata });
        else if (event.type === "$deleted") {
          const { hard, version } = event.data as { hard: boolean; version: number };
          changes.push({ ...at, deletedBefore: version + 1, hard });
        }
      }
    return { events, streamVersion: last, nextVersion: to < last ? to + 1 : undefined, changes };
  }

  /**
   * The events of versions `from..to` (ascending) of a stream with these `positions`: one engine
   * scan per run of consecutive positions, the whole page parsed at once (see EventPageDecoder).
   */
  private readVersions(positions: readonly number[], from: number, to: number): RecordedEvent[] {
    const page = this.page;
    page.begin();
    const out = this.scanVersions(positions, from, to, (view) => {
      this.decoder.readKey(view);
      return page.add(view);
    });
    if (!page.finish()) return this.scanVersions(positions, from, to, (view) => this.decode(view));
    const schema = this.options.eventSchema;
    if (schema !== undefined) for (let i = 0; i < out.length; i++) out[i] = schema.upcast(out[i]!);
    return out;
  }

  private scanVersions(
    positions: readonly number[],
    from: number,
    to: number,
    decode: (view: RecordView) => RecordedEvent,
  ): RecordedEvent[] {
    const out: RecordedEvent[] = [];
    const end = this.log.highWatermark;
    const visit = (view: RecordView): boolean => {
      out.push(decode(view));
      return true;
    };
    for (let v = from; v <= to;) {
      let runEnd = v;
      while (runEnd < to && positions[runEnd + 1] === positions[runEnd]! + 1) runEnd++;
      const runFirst = positions[v]!;
      const runLast = Math.min(positions[runEnd]!, end - 1);
      for (let at = runFirst; at <= runLast;) {
        const visited = this.log.scan(
          at,
          { maxRecords: runLast - at + 1, maxBytes: 4 * 1024 * 1024 },
          visit,
        );
        if (visited === 0) break;
        at = out[out.length - 1]!.position + 1;
      }
      v = runEnd + 1;
    }
    return out;
  }

  private decode(view: RecordView): RecordedEvent {
    this.decoder.readKey(view);
    const event = this.decoder.readEvent(view);
    return this.options.eventSchema === undefined ? event : this.options.eventSchema.upcast(event);
  }

  /** Reads a page of `$all`; resume with `nextPosition`. */
  readAll(options: ReadAllOptions = {}): Promise<ReadAllResult> {
    try {
      this.ensureOpen();
      checkOptions(options);
      checkEventFilter(options.filter);
      checkFlag(options.includeSystem, "includeSystem");
      const page = this.readAllPage(options, true);
      // A page that does not parse at once is decoded event by event, naming the record at fault.
      return Promise.resolve(page ?? this.readAllPage(options, false)!);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  /** One page of `$all`, parsed at once (`paged`, undefined if it does not parse) or event by event. */
  private readAllPage(options: ReadAllOptions, paged: boolean): ReadAllResult | undefined {
    const direction = checkDirection(options.direction);
    const maxCount = checkMaxCount(options.maxCount);
    const fromPosition = checkOptionalIndex(options.fromPosition, "fromPosition");
    const start = this.log.logStartOffset;
    const end = this.log.highWatermark;
    let events: RecordedEvent[] = [];
    const { filter } = options;
    const types = filter?.types;
    const prefixes = filter?.streamPrefixes;
    const includeSystem = options.includeSystem === true;
    let lastVisited = -1;
    const keep = (view: RecordView): boolean => {
      lastVisited = view.offset;
      const key = this.decoder.readKey(view);
      if (!includeSystem && key.stream.startsWith("$")) return true;
      if (types !== undefined && !types.includes(key.type)) return true;
      if (prefixes !== undefined && !prefixes.some((p) => key.stream.startsWith(p))) return true;
      events.push(paged ? this.page.add(view) : this.decoder.readEvent(view));
      return true;
    };
    const finish = (result: ReadAllResult): ReadAllResult | undefined => {
      if (paged && !this.page.finish()) return undefined;
      const schema = this.options.eventSchema;
      if (schema !== undefined)
        for (let i = 0; i < result.events.length; i++)
          result.events[i] = schema.upcast(result.events[i]!);
      return result;
    };
    if (paged) this.page.begin();
    if (direction === "forward") {
      let at = Math.max(fromPosition ?? start, start);
      while (at < end && events.length < maxCount) {
        const visited = this.log.scan(
          at,
          { maxRecords: Math.min(SCAN_BATCH, maxCount - events.length) },
          keep,
        );
        if (visited === 0) break;
        at = lastVisited + 1;
      }
      return finish({ events, nextPosition: at < end ? at : undefined });
    }
    const found: RecordedEvent[] = [];
    let at = Math.min(fromPosition ?? end - 1, end - 1);
    while (at >= start && found.length < maxCount) {
      const chunk = Math.min(SCAN_BATCH, maxCount - found.length, at - start + 1);
      events = [];
      // A byte limit may end a scan early: go on until the whole chunk was seen.
      for (let next = at - chunk + 1; next <= at;) {
        if (this.log.scan(next, { maxRecords: at - next + 1 }, keep) === 0) break;
        next = lastVisited + 1;
      }
      for (let i = events.length - 1; i >= 0; i--) found.push(events[i]!);
      at -= chunk;
    }
    return finish({ events: found, nextPosition: at >= start ? at : undefined });
  }

  /** Catch-up then live: every matching event once, in order, until the signal aborts. */
  subscribe(options: SubscribeOptions = {}): AsyncIterable<RecordedEvent> {
    return subscribeTo(this, options);
  }

  /** Resolves once the head may be past `position`, or the store closes, or `signal` aborts. */
  waitForAppend(position: number, signal?: AbortSignal): Promise<void> {
    return this.log.waitForAppend(position + 1, signal);
  }

  get isClosed(): boolean {
    return this.closing !== undefined || this.log.isClosed;
  }

  private ensureOpen(): void {
    if (this.isClosed) throw new SluiceError("SLUICE_CLOSED", "the event store is closed");
  }

  /**
   * Persistent subscription groups of this store; their state lives in a compacted log beside
   * the event log (opened on first use).
   */
  persistentSubscriptions(): PersistentSubscriptions {
    this.ensureOpen();
    this.persistent ??= new PersistentSubscriptions(
      this,
      async () =>
        new ReadModelSubscriptionState(
          await EmbeddedReadModel.open(join(this.dir, PERSISTENT_SUBSCRIPTIONS_DIR), {
            clock: this.clock,
            fs: this.fs,
            ...(this.options.fsync === undefined ? {} : { fsync: this.options.fsync }),
          }),
        ),
      this.clock,
    );
    return this.persistent;
  }

  // ---------------------------------------------------------------- lifecycle of streams

  getStreamMetadata(stream: string): Promise<StreamMetadata> {
    try {
      this.ensureOpen();
      checkStreamName(stream);
      return Promise.resolve(this.index.streams.get(stream)?.metadata ?? {});
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    this.ensureUsable();
    checkStreamName(stream);
    const checked = checkStreamMetadata(metadata);
    await this.writeSystem(stream, "$metadata", checked as JsonValue);
  }

  async deleteStream(stream: string, options: DeleteStreamOptions = {}): Promise<void> {
    this.ensureUsable();
    checkStreamName(stream);
    const expected = checkExpectedVersion(checkOptions(options).expectedVersion ?? "any");
    const hard = checkFlag(options.hard, "hard");
    const state = this.index.streams.get(stream);
    if (state?.hardDeleted === true) throw new StreamDeletedError(stream);
    if (state === undefined || state.positions.length === 0 || (state.softDeleted && !hard))
      throw new StreamNotFoundError(stream);
    assertExpectedVersion(stream, expected, lastVersion(state), streamExists(state));
    await this.writeSystem(stream, "$deleted", { hard, version: lastVersion(state) });
  }

  listStreams(options: { readonly includeSystem?: boolean } = {}): Promise<StreamInfo[]> {
    let includeSystem: boolean;
    try {
      includeSystem = checkFlag(checkOptions(options).includeSystem, "includeSystem");
    } catch (error) {
      return Promise.reject(asError(error));
    }
    const out: StreamInfo[] = [];
    for (const s of this.index.streams.values()) {
      if (s.name.startsWith("$") && !includeSystem) continue;
      if (s.positions.length === 0) continue;
      out.push({
        stream: s.name,
        version: s.positions.length - 1,
        deleted: s.hardDeleted ? "hard" : s.softDeleted ? "soft" : "no",
      });
    }
    return Promise.resolve(out);
  }

  /** The last global position with a timestamp at or before `timestampMs` (O(log n) via the time index). */
  positionAt(timestampMs: number): Promise<number> {
    if (!Number.isFinite(timestampMs))
      return Promise.reject(invalid("timestampMs", "a number of milliseconds", timestampMs));
    const end = this.log.highWatermark;
    const after = this.log.offsetForTimestamp(Math.floor(timestampMs) + 1);
    return Promise.resolve(Math.min(after ?? end, end) - 1);
  }

  headPosition(): Promise<number> {
    return Promise.resolve(this.log.highWatermark - 1);
  }

  /** Waits for appends in flight, closes the log and saves the stream index. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.persistent?.close();
    await this.serial;
    this.flushGroup();
    const position = this.log.logEndOffset - 1;
    await this.log.close();
    if (this.failure === undefined) {
      const checkpoint = JSON.stringify(this.index.toCheckpoint(position, this.lastTimestamp));
      await this.fs.writeFileAtomic(
        join(this.dir, INDEX_FILE),
        Buffer.from(`${checksumOf(checkpoint)}\n${checkpoint}`),
      );
    }
    for (const inline of this.inline) await inline.readModel.close();
  }

  /** Stops as a killed process would (no index save), for crash simulations. */
  kill(): void {
    this.closing ??= Promise.resolve();
    this.log.kill();
  }
}

/** A stream state as `StreamIndex.ensure` makes it: nothing appended, set or deleted. */
function isUntouched(state: StreamState): boolean {
  return (
    state.positions.length === 0 &&
    !state.softDeleted &&
    !state.hardDeleted &&
    state.deletedBefore === 0 &&
    Object.keys(state.metadata).length === 0
  );
}

/** Index of `value` in the ascending array, or -1. */
function binarySearch(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
