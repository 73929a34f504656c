import pg from "pg";
import type { Pool, PoolClient, PoolConfig } from "pg";
import { SluiceError, asError, invalid } from "../../errors/index.js";
import type { EventSchema } from "../../eventstore/event-schema.js";
import {
  ConcurrencyError,
  ProjectionError,
  StreamDeletedError,
  StreamNotFoundError,
} from "../../eventstore/event-store-error.js";
import type {
  AppendOptions,
  AppendResult,
  DeleteStreamOptions,
  EventData,
  EventMetadata,
  EventStore,
  JsonValue,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  StreamInfo,
  StreamMetadata,
  SubscribeOptions,
} from "../../eventstore/event-store.js";
import {
  type PreparedEvent,
  assertExpectedVersion,
  checkDirection,
  checkExpectedVersion,
  checkEventFilter,
  checkFlag,
  checkHistory,
  checkMaxCount,
  checkOptionalIndex,
  checkOptions,
  checkStreamMetadata,
  checkStreamName,
  prepareEvents,
} from "../../eventstore/event-validation.js";
import {
  BufferedTransaction,
  type Projection,
  readModelName,
} from "../../eventstore/projections/projection.js";
import { expired, firstReadableVersion } from "../../eventstore/stream-index.js";
import { matches, subscribeTo } from "../../eventstore/subscription.js";
import { type Clock, type Timer, systemClock } from "../../time/index.js";
import { type AppendRow, AppendBatcher, type QueuedAppend } from "./append-batcher.js";
import { PostgresReadModel } from "./postgres-read-model.js";
import { PostgresPersistentSubscriptions } from "./postgres-persistent-subscriptions.js";
import { checkSchemaName, migrate, quoted } from "./postgres-schema.js";

export interface PostgresEventStoreOptions {
  /** A connection string or `pg` pool settings; or pass `pool` to share one. */
  readonly connection?: string | PoolConfig;
  /** An existing pool (the store does not end it on close). */
  readonly pool?: Pool;
  /** The schema holding the store's tables, created and migrated on open (default "sluice"). */
  readonly schema?: string;
  readonly clock?: Clock;
  /** Largest event, data + metadata as JSON (default 1 MiB). */
  readonly maxEventBytes?: number;
  /** Upcasters applied on read; with a schema, unknown event types are refused on read. */
  readonly eventSchema?: EventSchema;
  /** Projections committed in the append's own transaction, into PostgreSQL read models. */
  readonly inline?: readonly Projection[];
  /** Connections in the pool the store creates (default 10). */
  readonly poolSize?: number;
  /** Wake subscribers with LISTEN/NOTIFY (default true); polling runs either way. */
  readonly listen?: boolean;
  /** How often waiting subscribers poll for new events (default 500 ms). */
  readonly pollIntervalMs?: number;
  /**
   * How long making a connection may take until the server is ready (default 10 000 ms): a
   * host that drops packets fails the open with SLUICE_IO then instead of hanging it. Waiting
   * for a free connection of the pool is not bounded by it. Pool settings in `connection` that
   * set `connectionTimeoutMillis` keep theirs (which in pg bounds both).
   */
  readonly connectTimeoutMs?: number;
}

/** How long connecting may take unless the options say otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

interface EventRow {
  global_position: number;
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: JsonValue;
  metadata: EventMetadata;
  created_at: number;
}

interface StreamRow {
  version: number;
  deleted_before: number;
  soft_deleted: boolean;
  hard_deleted: boolean;
  metadata: StreamMetadata;
}

interface Waiter {
  readonly position: number;
  readonly wake: () => void;
}

const EVENT_COLUMNS =
  "global_position, stream_id, version, event_id, type, schema_version, data, metadata, created_at";

// bigint columns come back as numbers: positions and versions stay far below 2^53.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary"): unknown =>
    oid === INT8_OID
      ? Number
      : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(
          oid,
          format,
        )) as typeof pg.types.getTypeParser,
};

/**
 * The event store on PostgreSQL: `events` with UNIQUE(stream_id, version), a one-row sequencer
 * whose update (the last step of every append, held to commit) hands out global positions in
 * commit order, so `$all` has no gaps to detect and a reader never sees a lower position
 * commit after a higher one. LISTEN/NOTIFY wakes subscribers; polling is the fallback.
 */
export class PostgresEventStore implements EventStore {
  private readonly s: string;
  private readonly channel: string;
  private readonly waiters = new Set<Waiter>();
  private readonly readModels = new Map<string, PostgresReadModel>();
  private listener: pg.Client | undefined;
  private pollTimer: Timer | undefined;
  private closed = false;
  private persistent: PostgresPersistentSubscriptions | undefined;
  private readonly batcher = new AppendBatcher(
    (appends) => this.appendBatch(appends),
    (append) => this.appendOne(append),
  );

  private constructor(
    readonly pool: Pool,
    private readonly ownsPool: boolean,
    readonly schema: string,
    private readonly clock: Clock,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.s = quoted(schema);
    this.channel = `sluice_${schema}`.slice(0, 63);
  }

  /** Connects, creates or migrates the schema, and starts listening for appends. */
  static async open(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const schema = checkSchemaName(options.schema ?? "sluice");
    if (options.pool === undefined && options.connection === undefined)
      throw invalid("connection", "a connection string, pool settings or a pool");
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!Number.isSafeInteger(connectTimeoutMs) || connectTimeoutMs < 1)
      throw invalid("connectTimeoutMs", "an integer >= 1 (milliseconds)", connectTimeoutMs);
    const settings: PoolConfig =
      typeof options.connection === "string"
        ? { connectionString: options.connection }
        : (options.connection ?? {});
    const config: PoolConfig = {
      ...settings,
      connectionTimeoutMillis: settings.connectionTimeoutMillis ?? connectTimeoutMs,
    };
    const server = options.pool === undefined ? serverOf(config) : undefined;
    const pool =
      options.pool ??
      new pg.Pool({
        ...settings,
        max: options.poolSize ?? 10,
        types,
        Client: clientConnectingWithin(config.connectionTimeoutMillis!),
      });
    const store = new PostgresEventStore(
      pool,
      options.pool === undefined,
      schema,
      options.clock ?? systemClock,
      options,
    );
    try {
      const connecting = performance.now();
      const client = await pool.connect().catch((error: unknown) => {
        // Said as Sluice says a failed open, not as the driver's error (which `sluice events` on
        // a postgres:// URL printed as a stack trace).
        const limit = config.connectionTimeoutMillis ?? 0;
        const timedOut =
          server !== undefined && limit > 0 && performance.now() - connecting >= limit - 1;
        throw new SluiceError(
          "SLUICE_IO",
          timedOut
            ? `connection: cannot connect to PostgreSQL: no answer from ${server} within ${limit} ms`
            : `connection: cannot connect to PostgreSQL: ${(error as Error).message}`,
          {
            field: "connection",
            cause: error,
            ...(timedOut ? { details: { server, timeoutMs: limit } } : {}),
          },
        );
      });
      try {
        await migrate(client, schema);
      } finally {
        client.release();
      }
      if (options.listen !== false) await store.startListening(config);
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  private async startListening(config: PoolConfig): Promise<void> {
    const client = new pg.Client({ ...config, types });
    client.on("error", () => {
      // The connection dropped: polling keeps subscribers going.
      this.listener = undefined;
    });
    await client.connect();
    client.on("notification", (message) => {
      const payload = message.payload ?? "";
      // "g:<group>": a persistent subscription group changed in some process.
      if (payload.startsWith("g:")) return this.persistent?.notified(payload.slice(2));
      const head = Number(payload);
      if (Number.isFinite(head)) this.wake(head);
    });
    await client.query(`LISTEN "${this.channel}"`);
    this.listener = client;
  }

  /** The read model of `projection` (or of the model name) in this store's schema. */
  readModel(projection: Pick<Projection, "name" | "version"> | string): PostgresReadModel {
    const name = typeof projection === "string" ? projection : readModelName(projection);
    let model = this.readModels.get(name);
    if (model === undefined) {
      model = new PostgresReadModel(this.pool, this.schema, name);
      this.readModels.set(name, model);
    }
    return model;
  }

  /** Persistent subscription groups of this store, their state in this schema's tables. */
  persistentSubscriptions(): PostgresPersistentSubscriptions {
    this.ensureOpen();
    this.persistent ??= new PostgresPersistentSubscriptions(this, this.pool, this.schema, {
      clock: this.clock,
      channel: this.options.listen === false ? null : this.channel,
      pollIntervalMs: this.options.pollIntervalMs ?? 500,
    });
    return this.persistent;
  }

  private ensureOpen(): void {
    if (this.closed) throw new SluiceError("SLUICE_CLOSED", "the event store is closed");
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------- append

  async appendToStream(
    stream: string,
    events: readonly EventData[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    this.ensureOpen();
    checkStreamName(stream);
    if (stream.startsWith("$$") || stream === "$all")
      throw invalid("stream", "a name not starting with $$ and not $all (reserved)", stream);
    const expected = checkExpectedVersion(checkOptions(options).expectedVersion ?? "any");
    const prepared = prepareEvents(events, this.options.maxEventBytes);
    const inline = this.options.inline ?? [];
    let row: AppendRow;
    try {
      if (inline.length === 0)
        row = await this.batcher.append({ stream, expected, events: prepared });
      else
        row = await this.appendWithInline(
          this.appendSql,
          this.appendArgs({ stream, expected, events: prepared }),
          stream,
          prepared,
          inline,
        );
    } catch (error) {
      if ((error as { code?: string }).code === "23505")
        throw await this.duplicateIdError(prepared);
      throw error;
    }
    switch (row.status) {
      case "ok":
        return {
          nextExpectedVersion: row.first_version! + prepared.length - 1,
          position: row.first_position! + prepared.length - 1,
        };
      case "conflict":
        throw new ConcurrencyError(stream, expected, row.actual_version);
      case "deleted":
        throw new StreamDeletedError(stream);
      case "duplicate":
        return this.earlierAppend(stream, prepared);
    }
  }

  private get appendSql(): string {
    return `SELECT * FROM ${this.s}.append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;
  }

  private appendArgs({ stream, expected, events }: QueuedAppend): unknown[] {
    return [
      stream,
      String(expected),
      this.clock.now(),
      events.map((e) => e.id),
      events.map((e) => e.idGiven),
      events.map((e) => e.type),
      events.map((e) => e.schemaVersion),
      events.map((e) => e.dataJson),
      events.map((e) => e.metadataJson),
      this.options.listen === false ? null : this.channel,
    ];
  }

  /** One append in its own transaction (`append_events`). */
  private async appendOne(append: QueuedAppend): Promise<AppendRow> {
    return (await this.pool.query<AppendRow>(this.appendSql, this.appendArgs(append))).rows[0]!;
  }

  /** Several appends in one transaction (`append_batch`): one answer per append, in order. */
  private async appendBatch(appends: readonly QueuedAppend[]): Promise<AppendRow[]> {
    const streams: string[] = [];
    const expected: string[] = [];
    const counts: number[] = [];
    const ids: string[] = [];
    const idGiven: boolean[] = [];
    const types: string[] = [];
    const schemaVersions: number[] = [];
    const data: string[] = [];
    const metadata: string[] = [];
    for (const append of appends) {
      streams.push(append.stream);
      expected.push(String(append.expected));
      counts.push(append.events.length);
      for (const e of append.events) {
        ids.push(e.id);
        idGiven.push(e.idGiven);
        types.push(e.type);
        schemaVersions.push(e.schemaVersion);
        data.push(e.dataJson);
        metadata.push(e.metadataJson);
      }
    }
    const result = await this.pool.query<AppendRow>(
      `SELECT * FROM ${this.s}.append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        streams,
        expected,
        counts,
        this.clock.now(),
        ids,
        idGiven,
        types,
        schemaVersions,
        data,
        metadata,
        this.options.listen === false ? null : this.channel,
      ],
    );
    return result.rows;
  }

  private async appendWithInline(
    sql: string,
    args: unknown[],
    stream: string,
    prepared: readonly PreparedEvent[],
    inline: readonly Projection[],
  ): Promise<AppendRow> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const row = (await client.query<AppendRow>(sql, args)).rows[0]!;
      if (row.status === "ok") {
        const recorded = prepared.map((e, i) =>
          this.upcast({
            id: e.id,
            stream,
            type: e.type,
            schemaVersion: e.schemaVersion,
            data: JSON.parse(e.dataJson) as JsonValue,
            metadata: JSON.parse(e.metadataJson) as EventMetadata,
            version: row.first_version! + i,
            position: row.first_position! + i,
            timestamp: row.stored_at!,
          }),
        );
        const last = row.first_position! + prepared.length - 1;
        for (const projection of inline) {
          const model = this.readModel(projection);
          const tx = new BufferedTransaction((key) => model.getIn(client, key));
          for (const event of recorded) {
            if (!matches(event, projection.filter)) continue;
            try {
              await projection.apply(event, tx);
            } catch (error) {
              throw new ProjectionError(projection.name, event.position, error);
            }
          }
          await model.commitIn(client, tx.writes, last);
        }
      }
      await client.query("COMMIT");
      return row;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async givenIds(
    prepared: readonly PreparedEvent[],
  ): Promise<Map<string, { position: number; stream: string; version: number }>> {
    const ids = prepared.filter((e) => e.idGiven).map((e) => e.id);
    const result = await this.pool.query<{
      event_id: string;
      global_position: number;
      stream_id: string;
      version: number;
    }>(
      `SELECT event_id, global_position, stream_id, version FROM ${this.s}.events WHERE id_given AND event_id = ANY($1)`,
      [ids],
    );
    return new Map(
      result.rows.map((r) => [
        r.event_id,
        { position: r.global_position, stream: r.stream_id, version: r.version },
      ]),
    );
  }

  /** The result of the earlier append that stored these very ids, or a validation error. */
  private async earlierAppend(
    stream: string,
    prepared: readonly PreparedEvent[],
  ): Promise<AppendResult> {
    const found = await this.givenIds(prepared);
    const first = found.get(prepared[0]!.id)!;
    for (let i = 0; i < prepared.length; i++) {
      const at = found.get(prepared[i]!.id);
      if (at?.position !== first.position + i || at.stream !== stream)
        throw invalid(
          `events[${i}].id`,
          "ids of one earlier append to this stream (all of them, in order) or new ids",
          prepared[i]!.id,
        );
    }
    return {
      nextExpectedVersion: first.version + prepared.length - 1,
      position: first.position + prepared.length - 1,
    };
  }

  private async duplicateIdError(prepared: readonly PreparedEvent[]): Promise<SluiceError> {
    const found = await this.givenIds(prepared);
    const i = prepared.findIndex((e) => found.has(e.id));
    return invalid(
      `events[${Math.max(i, 0)}].id`,
      "ids of one earlier append to this stream (all of them, in order) or new ids",
      prepared[Math.max(i, 0)]!.id,
    );
  }

  // ---------------------------------------------------------------- read

  private upcast(event: RecordedEvent): RecordedEvent {
    return this.options.eventSchema === undefined ? event : this.options.eventSchema.upcast(event);
  }

  private decode(row: EventRow): RecordedEvent {
    return this.upcast({
      id: row.event_id,
      stream: row.stream_id,
      type: row.type,
      schemaVersion: row.schema_version,
      data: row.data,
      metadata: row.metadata,
      version: row.version,
      position: row.global_position,
      timestamp: row.created_at,
    });
  }

  private async streamRow(stream: string): Promise<StreamRow | undefined> {
    const result = await this.pool.query<StreamRow>(
      `SELECT version, deleted_before, soft_deleted, hard_deleted, metadata FROM ${this.s}.streams WHERE stream_id = $1`,
      [stream],
    );
    return result.rows[0];
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    this.ensureOpen();
    checkStreamName(stream);
    const { direction: way, maxCount: count, fromVersion: from } = checkOptions(options);
    const direction = checkDirection(way);
    const maxCount = checkMaxCount(count);
    const fromVersion = checkOptionalIndex(from, "fromVersion");
    if (checkHistory(options.history, direction))
      return this.readHistory(stream, fromVersion ?? 0, maxCount);
    const state = await this.streamRow(stream);
    if (state?.hard_deleted === true) throw new StreamDeletedError(stream);
    if (state === undefined || state.version < 0 || state.soft_deleted)
      throw new StreamNotFoundError(stream);
    const last = state.version;
    const first = firstReadableVersion(last, state.deleted_before, state.metadata);
    let lo: number;
    let hi: number;
    let nextVersion: number | undefined;
    if (direction === "forward") {
      lo = Math.max(fromVersion ?? first, first);
      hi = Math.min(last, lo + maxCount - 1);
      nextVersion = hi < last ? hi + 1 : undefined;
    } else {
      hi = Math.min(fromVersion ?? last, last);
      lo = Math.max(first, hi - maxCount + 1);
      nextVersion = lo > first ? lo - 1 : undefined;
    }
    if (lo > hi) return { events: [], streamVersion: last, nextVersion: undefined };
    const result = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events WHERE stream_id = $1 AND version BETWEEN $2 AND $3
       ORDER BY version ${direction === "forward" ? "ASC" : "DESC"}`,
      [stream, lo, hi],
    );
    const now = this.clock.now();
    const events = result.rows
      .map((r) => this.decode(r))
      .filter((e) => !expired(e.timestamp, state.metadata, now));
    return { events, streamVersion: last, nextVersion };
  }

  /** A history read (see `ReadStreamOptions.history`): every version as appended, and the changes. */
  private async readHistory(
    stream: string,
    fromVersion: number,
    maxCount: number,
  ): Promise<ReadStreamResult> {
    const state = await this.streamRow(stream);
    if (state === undefined || state.version < 0) throw new StreamNotFoundError(stream);
    const last = state.version;
    const to = Math.min(last, fromVersion + maxCount - 1);
    const [events, changes] = await Promise.all([
      this.pool.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events WHERE stream_id = $1 AND version BETWEEN $2 AND $3
         ORDER BY version ASC`,
        [stream, fromVersion, to],
      ),
      this.pool.query<{
        position: number;
        created_at: number;
        metadata: StreamMetadata | null;
        deleted_before: number | null;
        hard: boolean | null;
      }>(
        `SELECT position, created_at, metadata, deleted_before, hard FROM ${this.s}.stream_changes
         WHERE stream_id = $1 ORDER BY change_order`,
        [stream],
      ),
    ]);
    return {
      events: events.rows.map((r) => this.decode(r)),
      streamVersion: last,
      nextVersion: to < last ? to + 1 : undefined,
      changes: changes.rows.map((r) => ({
        position: r.position,
        time: r.created_at,
        ...(r.metadata === null ? {} : { metadata: r.metadata }),
        ...(r.deleted_before === null
          ? {}
          : { deletedBefore: r.deleted_before, hard: r.hard === true }),
      })),
    };
  }

  async readAll(options: ReadAllOptions = {}): Promise<ReadAllResult> {
    this.ensureOpen();
    const direction = checkDirection(checkOptions(options).direction);
    const maxCount = checkMaxCount(options.maxCount);
    const fromPosition = checkOptionalIndex(options.fromPosition, "fromPosition");
    const filter = checkEventFilter(options.filter);
    const includeSystem = checkFlag(options.includeSystem, "includeSystem");
    const where: string[] = [];
    const args: unknown[] = [];
    if (fromPosition !== undefined) {
      args.push(fromPosition);
      where.push(`global_position ${direction === "forward" ? ">=" : "<="} $${args.length}`);
    }
    if (!includeSystem) where.push(`NOT starts_with(stream_id, '$')`);
    if (filter?.types !== undefined) {
      args.push(filter.types);
      where.push(`type = ANY($${args.length})`);
    }
    if (filter?.streamPrefixes !== undefined) {
      const parts = filter.streamPrefixes.map((p) => {
        args.push(p);
        return `starts_with(stream_id, $${args.length})`;
      });
      where.push(parts.length === 0 ? "false" : `(${parts.join(" OR ")})`);
    }
    args.push(maxCount);
    const result = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events
       ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
       ORDER BY global_position ${direction === "forward" ? "ASC" : "DESC"} LIMIT $${args.length}`,
      args,
    );
    const events = result.rows.map((r) => this.decode(r));
    const last = events[events.length - 1];
    let nextPosition: number | undefined;
    if (events.length === maxCount && last !== undefined)
      nextPosition = direction === "forward" ? last.position + 1 : last.position - 1;
    if (nextPosition !== undefined && nextPosition < 0) nextPosition = undefined;
    return { events, nextPosition };
  }

  subscribe(options: SubscribeOptions = {}): AsyncIterable<RecordedEvent> {
    return subscribeTo(this, options);
  }

  /** Resolves once the head may be past `position` (a NOTIFY or a poll), or on close/abort. */
  waitForAppend(position: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        wake: () => {
          this.waiters.delete(waiter);
          signal?.removeEventListener("abort", waiter.wake);
          resolve();
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener("abort", waiter.wake, { once: true });
      this.armPoll();
      // Registered first, checked second: an append in between cannot be missed.
      this.headPosition().then(
        (head) => this.wake(head),
        () => undefined,
      );
    });
  }

  private wake(head: number): void {
    for (const waiter of [...this.waiters]) if (head > waiter.position) waiter.wake();
  }

  private armPoll(): void {
    if (this.pollTimer !== undefined || this.closed) return;
    this.pollTimer = this.clock.setTimer(this.options.pollIntervalMs ?? 500, () => {
      this.pollTimer = undefined;
      if (this.waiters.size === 0 || this.closed) return;
      this.headPosition().then(
        (head) => {
          this.wake(head);
          if (this.waiters.size > 0) this.armPoll();
        },
        () => this.armPoll(),
      );
    });
  }

  async headPosition(): Promise<number> {
    this.ensureOpen();
    const result = await this.pool.query<{ last_position: number }>(
      `SELECT last_position FROM ${this.s}.sequencer WHERE id = 1`,
    );
    return result.rows[0]!.last_position;
  }

  async positionAt(timestampMs: number): Promise<number> {
    this.ensureOpen();
    if (!Number.isFinite(timestampMs))
      throw invalid("timestampMs", "a number of milliseconds", timestampMs);
    const result = await this.pool.query<{ global_position: number }>(
      `SELECT global_position FROM ${this.s}.events WHERE created_at <= $1
       ORDER BY created_at DESC, global_position DESC LIMIT 1`,
      [Math.floor(timestampMs)],
    );
    return result.rows[0]?.global_position ?? -1;
  }

  // ---------------------------------------------------------------- lifecycle of streams

  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    this.ensureOpen();
    checkStreamName(stream);
    return (await this.streamRow(stream))?.metadata ?? {};
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    this.ensureOpen();
    checkStreamName(stream);
    const checked = checkStreamMetadata(metadata);
    const metadataJson = JSON.stringify(checked);
    await this.transaction(async (client) => {
      const result = await client.query(
        `INSERT INTO ${this.s}.streams (stream_id, metadata) VALUES ($1, $2::jsonb)
         ON CONFLICT (stream_id) DO UPDATE SET metadata = excluded.metadata
         WHERE NOT ${this.s}.streams.hard_deleted RETURNING stream_id`,
        [stream, metadataJson],
      );
      if (result.rowCount === 0) throw new StreamDeletedError(stream);
      await this.recordChange(client, stream, { metadataJson });
    });
  }

  /**
   * Records a metadata change or a delete for history reads. The stream's row is locked, so no
   * append to it is in flight: the sequencer's head, read now, has every event of the stream
   * appended before the change and none after.
   */
  private async recordChange(
    client: PoolClient,
    stream: string,
    change: { metadataJson?: string; hard?: boolean },
  ): Promise<void> {
    await client.query(
      `INSERT INTO ${this.s}.stream_changes (stream_id, position, created_at, metadata, deleted_before, hard)
       SELECT $1, q.last_position, $2, $3::jsonb,
              CASE WHEN $4::boolean IS NOT NULL THEN st.deleted_before END, $4::boolean
         FROM ${this.s}.sequencer q, ${this.s}.streams st WHERE q.id = 1 AND st.stream_id = $1`,
      [stream, this.clock.now(), change.metadataJson ?? null, change.hard ?? null],
    );
  }

  async deleteStream(stream: string, options: DeleteStreamOptions = {}): Promise<void> {
    this.ensureOpen();
    checkStreamName(stream);
    const expected = checkExpectedVersion(checkOptions(options).expectedVersion ?? "any");
    const hard = checkFlag(options.hard, "hard");
    await this.transaction(async (client) => {
      const result = await client.query<StreamRow>(
        `SELECT version, deleted_before, soft_deleted, hard_deleted, metadata FROM ${this.s}.streams WHERE stream_id = $1 FOR UPDATE`,
        [stream],
      );
      const state = result.rows[0];
      if (state?.hard_deleted === true) throw new StreamDeletedError(stream);
      if (state === undefined || state.version < 0 || (state.soft_deleted && !hard))
        throw new StreamNotFoundError(stream);
      assertExpectedVersion(stream, expected, state.version, !state.soft_deleted);
      await client.query(
        `UPDATE ${this.s}.streams SET deleted_before = version + 1,
           soft_deleted = NOT $2, hard_deleted = $2 WHERE stream_id = $1`,
        [stream, hard],
      );
      await this.recordChange(client, stream, { hard });
    });
  }

  private async transaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await work(client);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw asError(error);
    } finally {
      client.release();
    }
  }

  async listStreams(options: { readonly includeSystem?: boolean } = {}): Promise<StreamInfo[]> {
    this.ensureOpen();
    const includeSystem = checkFlag(checkOptions(options).includeSystem, "includeSystem");
    const result = await this.pool.query<{
      stream_id: string;
      version: number;
      soft_deleted: boolean;
      hard_deleted: boolean;
    }>(
      `SELECT stream_id, version, soft_deleted, hard_deleted FROM ${this.s}.streams
       WHERE version >= 0 ${includeSystem ? "" : "AND NOT starts_with(stream_id, '$')"}
       ORDER BY created_order`,
    );
    return result.rows.map((r) => ({
      stream: r.stream_id,
      version: r.version,
      deleted: r.hard_deleted ? "hard" : r.soft_deleted ? "soft" : "no",
    }));
  }

  /** Stops polling and listening, wakes waiting subscribers, and ends the pool if it owns it. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.persistent?.close();
    this.closed = true;
    await this.batcher.drain();
    this.pollTimer?.cancel();
    for (const waiter of [...this.waiters]) waiter.wake();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    if (this.ownsPool) await this.pool.end();
  }

  /** Drops the store's schema and everything in it (tests, and `sluice events` teardown). */
  static async dropSchema(pool: Pool, schema: string): Promise<void> {
    await pool.query(`DROP SCHEMA IF EXISTS ${quoted(checkSchemaName(schema))} CASCADE`);
  }
}

/**
 * "host:port" of the server `config` names (with the driver's defaults and PG* environment
 * variables applied), for messages; never the password. A connection string the driver cannot
 * parse is bad input.
 */
function serverOf(config: PoolConfig): string {
  let client: pg.Client;
  try {
    client = new pg.Client(config);
  } catch (cause) {
    // The driver's own error repeats no part of the string (it may hold a password): neither do we.
    throw new SluiceError(
      "SLUICE_VALIDATION",
      "connection: expected a PostgreSQL connection string such as postgres://user@host:5432/db",
      { field: "connection", cause },
    );
  }
  return `${client.host}:${client.port}`;
}

/**
 * pg's client, giving up on connecting after `ms`. Given to the pool as its client rather than
 * as the pool's own `connectionTimeoutMillis`, which would also fail a query that waits longer
 * than that for a free connection of a busy pool.
 */
function clientConnectingWithin(ms: number): typeof pg.Client {
  return class extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(
        typeof config === "string"
          ? { connectionString: config, connectionTimeoutMillis: ms }
          : { ...config, connectionTimeoutMillis: config?.connectionTimeoutMillis ?? ms },
      );
    }
  };
}
