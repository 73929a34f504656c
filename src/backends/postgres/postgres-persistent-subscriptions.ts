import { randomUUID } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import { SluiceError, isSluiceError } from "../../errors/index.js";
import type { EventStore, RecordedEvent } from "../../eventstore/event-store.js";
import { checkStreamName } from "../../eventstore/event-validation.js";
import {
  type ConnectOptions,
  type GroupSettings,
  type NackAction,
  type ParkedEvent,
  type PersistentDelivery,
  type PersistentSubscriptionGroups,
  type PersistentSubscriptionInfo,
  type PersistentSubscriptionSettings,
  groupNotFound,
} from "../../eventstore/persistent/persistent-subscription.js";
import {
  checkGroupSettings,
  checkMaxInFlight,
  startCheckpoint,
} from "../../eventstore/persistent/persistent-subscriptions.js";
import { nackError } from "../../eventstore/persistent/subscription-group.js";
import type { Clock, Timer } from "../../time/index.js";
import { checkSchemaName, quoted } from "./postgres-schema.js";

/** A row of `persistent_work`: an event of a group waiting for, or held by, a consumer. */
interface WorkRow {
  seq: number;
  replayed: boolean;
  event: RecordedEvent;
  retry_count: number;
  claim: number;
}

interface ParkedRow {
  group_name: string;
  event: RecordedEvent;
  reason: string;
  retry_count: number;
  parked_at: number;
  replaying: boolean;
}

/** A delivery this process handed out and has not seen settled. */
interface Held {
  readonly row: WorkRow;
  readonly deadline: number;
  readonly timer: Timer;
}

interface Consumer {
  readonly id: string;
  readonly maxInFlight: number;
  /** Claims not settled, delivered or not. */
  readonly held: Map<string, Held>;
  /** Claimed and not yet handed to the caller. */
  readonly ready: WorkRow[];
  /** The claim in flight, if any (one at a time, so held never passes maxInFlight). */
  refilling: Promise<void> | undefined;
  closed: boolean;
  released: Promise<void> | undefined;
}

/** A group with consumers in this process: its feeder and who waits for a change. */
interface LocalGroup {
  readonly settings: GroupSettings;
  readonly abort: AbortController;
  readonly consumers: Set<Consumer>;
  /** Bumped on every change seen (here or NOTIFYed), so no wake-up is missed between checks. */
  version: number;
  readonly waiters: Set<() => void>;
  feeder: Promise<void> | undefined;
  failure: Error | undefined;
}

const GAVE_UP = (deliveries: number, reason?: string): string =>
  `gave up after ${deliveries} deliveries${reason === undefined ? "" : `: ${reason}`}`;

const keyOf = (row: Pick<WorkRow, "seq" | "replayed">): string =>
  `${row.replayed ? "p" : "e"}${row.seq}`;

const toParked = (row: ParkedRow): ParkedEvent => ({
  group: row.group_name,
  event: row.event,
  reason: row.reason,
  retryCount: row.retry_count,
  parkedAt: Number(row.parked_at),
  replaying: row.replaying,
});

export interface PostgresPersistentOptions {
  readonly clock: Clock;
  /** The store's NOTIFY channel (null: no NOTIFY, polling only). */
  readonly channel: string | null;
  readonly pollIntervalMs: number;
}

/**
 * Persistent subscription groups whose state is the database: every event a group has read
 * and not yet settled is a row of `persistent_work`, and consumers claim rows with
 * `FOR UPDATE SKIP LOCKED`, each claim with a deadline (messageTimeoutMs) and a claim number.
 * Consumers in any number of processes therefore share one group, each event held by one
 * consumer at a time; a settlement names the claim it settles, so one that comes after the
 * event was claimed again changes nothing. Each process with a consumer also feeds the group:
 * it reads the source and inserts events past the group's `read_position`, advancing it in
 * the same statement, so two feeders never insert one event twice (and an event settled and
 * deleted is never inserted again). Changes are NOTIFYed (`g:<group>` on the store's channel)
 * and polled for as a fallback.
 */
export class PostgresPersistentSubscriptions implements PersistentSubscriptionGroups {
  private readonly s: string;
  private readonly local = new Map<string, LocalGroup>();
  private settling: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    schema: string,
    private readonly options: PostgresPersistentOptions,
  ) {
    this.s = quoted(checkSchemaName(schema));
  }

  private ensureOpen(): void {
    if (this.closed) throw new SluiceError("SLUICE_CLOSED", "persistent subscriptions are closed");
  }

  async create(settings: PersistentSubscriptionSettings): Promise<GroupSettings> {
    const checked = checkGroupSettings(settings);
    this.ensureOpen();
    const checkpoint = await startCheckpoint(this.store, checked, settings.startAfter);
    const result = await this.pool.query(
      `INSERT INTO ${this.s}.persistent_subscriptions (group_name, settings, read_position)
       VALUES ($1, $2::jsonb, $3) ON CONFLICT DO NOTHING`,
      [checked.group, JSON.stringify(checked), checkpoint],
    );
    if (result.rowCount === 0)
      throw new SluiceError(
        "SLUICE_ALREADY_EXISTS",
        `persistent subscription ${checked.group} already exists`,
        { field: "group", details: { group: checked.group } },
      );
    return checked;
  }

  async delete(group: string): Promise<void> {
    checkStreamName(group, "group");
    this.ensureOpen();
    const result = await this.pool.query(
      `DELETE FROM ${this.s}.persistent_subscriptions WHERE group_name = $1`,
      [group],
    );
    if (result.rowCount === 0) throw groupNotFound(group);
    await this.changed(group);
    await this.stopLocal(group);
  }

  async list(): Promise<PersistentSubscriptionInfo[]> {
    this.ensureOpen();
    const result = await this.pool.query<{
      settings: GroupSettings;
      read_position: number;
      oldest: number | null;
      parked: number;
    }>(
      `SELECT g.settings, g.read_position,
         (SELECT min(seq) FROM ${this.s}.persistent_work w
           WHERE w.group_name = g.group_name AND NOT w.replayed) AS oldest,
         (SELECT count(*)::int FROM ${this.s}.parked_events p
           WHERE p.group_name = g.group_name) AS parked
       FROM ${this.s}.persistent_subscriptions g ORDER BY g.group_name COLLATE "C"`,
    );
    return result.rows.map((row) => ({
      settings: row.settings,
      // Everything up to the oldest unsettled event, or everything read when none is.
      checkpoint: row.oldest === null ? Number(row.read_position) : Number(row.oldest) - 1,
      parked: row.parked,
      consumers: this.local.get(row.settings.group)?.consumers.size ?? 0,
    }));
  }

  async listParked(group: string): Promise<ParkedEvent[]> {
    checkStreamName(group, "group");
    this.ensureOpen();
    await this.settingsOf(group);
    const result = await this.pool.query<ParkedRow>(
      `SELECT group_name, event, reason, retry_count, parked_at, replaying
       FROM ${this.s}.parked_events WHERE group_name = $1 ORDER BY seq`,
      [group],
    );
    return result.rows.map(toParked);
  }

  async replayParked(group: string): Promise<number> {
    checkStreamName(group, "group");
    this.ensureOpen();
    await this.settingsOf(group);
    const result = await this.pool.query<{ count: number }>(
      `WITH replay AS (
         UPDATE ${this.s}.parked_events SET replaying = true WHERE group_name = $1
         RETURNING seq, event),
       queued AS (
         INSERT INTO ${this.s}.persistent_work (group_name, seq, replayed, event)
         SELECT $1, seq, true, event FROM replay ON CONFLICT DO NOTHING)
       SELECT count(*)::int AS count FROM replay`,
      [group],
    );
    await this.changed(group);
    return result.rows[0]?.count ?? 0;
  }

  connect(group: string, options: ConnectOptions = {}): AsyncIterable<PersistentDelivery> {
    checkStreamName(group, "group");
    const maxInFlight = checkMaxInFlight(options.maxInFlight);
    return {
      [Symbol.asyncIterator]: () => this.consume(group, maxInFlight, options.signal),
    };
  }

  /** Stops this process's consumers and feeders; their unsettled events go back to the group. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const group of [...this.local.keys()]) await this.stopLocal(group);
  }

  /** A NOTIFY from another process (or this one) that the group changed. */
  notified(group: string): void {
    const local = this.local.get(group);
    if (local === undefined) return;
    local.version++;
    for (const wake of [...local.waiters]) wake();
  }

  // ---------------------------------------------------------------- consumers

  private async settingsOf(group: string): Promise<GroupSettings> {
    const result = await this.pool.query<{ settings: GroupSettings }>(
      `SELECT settings FROM ${this.s}.persistent_subscriptions WHERE group_name = $1`,
      [group],
    );
    const row = result.rows[0];
    if (row === undefined) throw groupNotFound(group);
    return row.settings;
  }

  private async localGroup(group: string): Promise<LocalGroup> {
    const settings = await this.settingsOf(group);
    this.ensureOpen();
    let local = this.local.get(group);
    if (local === undefined) {
      local = {
        settings,
        abort: new AbortController(),
        consumers: new Set(),
        version: 0,
        waiters: new Set(),
        feeder: undefined,
        failure: undefined,
      };
      this.local.set(group, local);
      const running = local;
      local.feeder = this.feed(running).catch((error: unknown) => {
        if (running.abort.signal.aborted) return;
        running.failure = error instanceof Error ? error : new Error(String(error));
        this.notified(group);
      });
    }
    return local;
  }

  private async *consume(
    group: string,
    maxInFlight: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<PersistentDelivery, void, undefined> {
    const local = await this.localGroup(group);
    const consumer: Consumer = {
      id: randomUUID(),
      maxInFlight,
      held: new Map(),
      ready: [],
      refilling: undefined,
      closed: false,
      released: undefined,
    };
    local.consumers.add(consumer);
    const stop = AbortSignal.any([local.abort.signal, ...(signal === undefined ? [] : [signal])]);
    try {
      while (!stop.aborted) {
        if (local.failure !== undefined) throw local.failure;
        const seen = local.version;
        if (consumer.ready.length === 0) await this.refill(local, consumer);
        const row = consumer.ready.shift();
        if (row === undefined) {
          await this.waitForChange(local, seen, stop);
          if (!stop.aborted && local.version === seen && !(await this.exists(group))) return;
          continue;
        }
        if (row.retry_count > local.settings.maxRetryCount) {
          // Its earlier claim ran out once too often: park it instead of delivering it.
          const reason = GAVE_UP(row.retry_count, "no ack within messageTimeoutMs");
          await this.settle(local, consumer, row, "park", reason, 0);
          continue;
        }
        yield this.delivery(local, consumer, row);
      }
    } finally {
      consumer.closed = true;
      // Still listed while it releases, so that close() waits for the release.
      await this.release(local, consumer);
      local.consumers.delete(consumer);
    }
  }

  /**
   * Claims what the consumer has room for into its ready rows. It also runs when a settlement
   * frees room, before the settlement resolves, so a consumer that settles and asks again finds
   * its next event claimed already.
   */
  private refill(local: LocalGroup, consumer: Consumer): Promise<void> {
    consumer.refilling ??= (async () => {
      try {
        const now = this.options.clock.now();
        for (const [key, held] of consumer.held)
          if (held.deadline <= now) consumer.held.delete(key);
        const room = consumer.maxInFlight - consumer.held.size;
        if (room > 0 && !consumer.closed)
          consumer.ready.push(...(await this.claim(local, consumer, room)));
      } finally {
        consumer.refilling = undefined;
      }
    })();
    return consumer.refilling;
  }

  private async exists(group: string): Promise<boolean> {
    if (this.closed) return false;
    const result = await this.pool.query(
      `SELECT 1 FROM ${this.s}.persistent_subscriptions WHERE group_name = $1`,
      [group],
    );
    return result.rowCount === 1;
  }

  /**
   * Claims up to `count` events no live claim holds, lowest first; an expired claim counts as
   * a failed delivery (retry_count + 1).
   */
  private async claim(local: LocalGroup, consumer: Consumer, count: number): Promise<WorkRow[]> {
    const now = this.options.clock.now();
    const deadline = now + local.settings.messageTimeoutMs;
    const result = await this.pool.query<WorkRow>(
      `WITH free AS (
         SELECT seq, replayed FROM ${this.s}.persistent_work
         WHERE group_name = $1 AND (owner IS NULL OR deadline <= $3)
         ORDER BY seq, replayed LIMIT $4 FOR UPDATE SKIP LOCKED)
       UPDATE ${this.s}.persistent_work w
         SET owner = $2, deadline = $5, claim = w.claim + 1,
             retry_count = CASE WHEN w.owner IS NULL THEN w.retry_count ELSE w.retry_count + 1 END
       FROM free WHERE w.group_name = $1 AND w.seq = free.seq AND w.replayed = free.replayed
       RETURNING w.seq, w.replayed, w.event, w.retry_count, w.claim`,
      [local.settings.group, consumer.id, now, count, deadline],
    );
    const rows = result.rows
      .map((row) => ({ ...row, seq: Number(row.seq) }))
      .sort((a, b) => a.seq - b.seq);
    for (const row of rows) {
      const timer = this.options.clock.setTimer(local.settings.messageTimeoutMs, () =>
        // Its claim ran out: whoever waits may take it now.
        this.notified(local.settings.group),
      );
      consumer.held.set(keyOf(row), { row, deadline, timer });
    }
    return rows;
  }

  private delivery(local: LocalGroup, consumer: Consumer, row: WorkRow): PersistentDelivery {
    return {
      event: row.event,
      retryCount: row.retry_count,
      replayed: row.replayed,
      ack: () => this.settleAndRefill(local, consumer, row, "ack"),
      nack: (action, reason) => {
        const error = nackError(action, reason);
        if (error !== undefined) return Promise.reject(error);
        return this.settleAndRefill(local, consumer, row, action, reason);
      },
    };
  }

  private async settleAndRefill(
    local: LocalGroup,
    consumer: Consumer,
    row: WorkRow,
    action: NackAction | "ack",
    reason?: string,
  ): Promise<void> {
    // One at a time, in the order consumers settle (as the embedded groups write them): a
    // consumer that settles first gets its next event first.
    const run = this.settling.then(async () => {
      if (await this.settle(local, consumer, row, action, reason))
        if (consumer.ready.length === 0) await this.refill(local, consumer);
    });
    this.settling = run.catch(() => undefined);
    return run;
  }

  /**
   * Settles one claim in one transaction: ack and skip delete the work row (and a replayed
   * event's parked entry), park moves it to the parked events, retry frees it with one more
   * failed delivery, or parks it past maxRetryCount. A claim that is no longer this one (the
   * event was claimed again, or settled) is left alone.
   */
  private async settle(
    local: LocalGroup,
    consumer: Consumer,
    row: WorkRow,
    action: NackAction | "ack",
    reason?: string,
    /** Deliveries this settlement adds to the event's failed ones (1: this one). */
    failed = 1,
  ): Promise<boolean> {
    const key = keyOf(row);
    const held = consumer.held.get(key);
    if (held?.row === row) {
      held.timer.cancel();
      consumer.held.delete(key);
    }
    const { group, maxRetryCount } = local.settings;
    const changed = await this.transaction(async (client) => {
      const current = await client.query<{ retry_count: number }>(
        `SELECT retry_count FROM ${this.s}.persistent_work
         WHERE group_name = $1 AND seq = $2 AND replayed = $3 AND owner = $4 AND claim = $5
         FOR UPDATE`,
        [group, row.seq, row.replayed, consumer.id, row.claim],
      );
      const found = current.rows[0];
      if (found === undefined) return false;
      const deliveries = found.retry_count + failed;
      let parkReason: string | undefined;
      if (action === "park") parkReason = reason ?? "parked by a consumer";
      else if (action === "retry" && deliveries > maxRetryCount)
        parkReason = GAVE_UP(deliveries, reason);
      if (action === "retry" && parkReason === undefined) {
        await client.query(
          `UPDATE ${this.s}.persistent_work SET owner = NULL, deadline = NULL, retry_count = $4
           WHERE group_name = $1 AND seq = $2 AND replayed = $3`,
          [group, row.seq, row.replayed, deliveries],
        );
        return true;
      }
      await client.query(
        `DELETE FROM ${this.s}.persistent_work WHERE group_name = $1 AND seq = $2 AND replayed = $3`,
        [group, row.seq, row.replayed],
      );
      if (parkReason !== undefined)
        await client.query(
          `INSERT INTO ${this.s}.parked_events
             (group_name, seq, event, reason, retry_count, parked_at, replaying)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6, false)
           ON CONFLICT (group_name, seq) DO UPDATE SET event = excluded.event,
             reason = excluded.reason, retry_count = excluded.retry_count,
             parked_at = excluded.parked_at, replaying = false`,
          [
            group,
            row.seq,
            JSON.stringify(row.event),
            parkReason,
            deliveries,
            this.options.clock.now(),
          ],
        );
      else if (row.replayed)
        await client.query(
          `DELETE FROM ${this.s}.parked_events WHERE group_name = $1 AND seq = $2`,
          [group, row.seq],
        );
      return true;
    });
    if (changed) await this.changed(group);
    return changed;
  }

  /** Hands back what a consumer still holds, each counted as a failed delivery. */
  private release(local: LocalGroup, consumer: Consumer): Promise<void> {
    consumer.released ??= (async () => {
      await consumer.refilling?.catch(() => undefined);
      const undelivered = new Set(consumer.ready.splice(0));
      for (const { row } of [...consumer.held.values()])
        // One it never handed out goes back as it was; one it did counts as a failed delivery.
        await this.settle(
          local,
          consumer,
          row,
          "retry",
          "consumer disconnected",
          undelivered.has(row) ? 0 : 1,
        ).catch(() => undefined);
    })();
    return consumer.released;
  }

  // ---------------------------------------------------------------- feeding

  /**
   * Reads the group's source a page at a time and inserts each page past `read_position` in one
   * statement that also moves `read_position` on, if it is still where this feeder read it
   * (another process's feeder may have moved it: then this one continues from there); waits
   * while `bufferSize` events are unsettled, and for appends when caught up.
   */
  private async feed(local: LocalGroup): Promise<void> {
    const { group, stream, filter, bufferSize } = local.settings;
    const signal = local.abort.signal;
    let stored = await this.readPosition(group);
    if (stored === undefined) return;
    // Where reading goes on: past `stored` when a filtered `$all` page matched nothing.
    let scanned = stored;
    let unsettled = await this.unsettled(group);
    while (!signal.aborted) {
      if (unsettled >= bufferSize) {
        const seen = local.version;
        unsettled = await this.unsettled(group);
        if (unsettled >= bufferSize) await this.waitForChange(local, seen, signal);
        continue;
      }
      const head = await this.store.headPosition();
      const max = bufferSize - unsettled;
      let events: RecordedEvent[];
      let next: number;
      if (stream === null) {
        const page = await this.store.readAll({
          fromPosition: scanned + 1,
          maxCount: max,
          ...(filter === null ? {} : { filter }),
        });
        events = page.events;
        // At the end of $all everything up to `head` (read before the page) was scanned.
        next =
          page.nextPosition === undefined
            ? Math.max(scanned, head, events[events.length - 1]?.position ?? -1)
            : page.nextPosition - 1;
      } else {
        events = await this.readStreamFrom(stream, scanned + 1, max);
        next = events[events.length - 1]?.version ?? scanned;
      }
      if (events.length === 0) {
        scanned = next;
        await this.store.waitForAppend(head, signal);
        continue;
      }
      const seqs = events.map((e) => (stream === null ? e.position : e.version));
      const inserted = await this.pool.query(
        `WITH advanced AS (
           UPDATE ${this.s}.persistent_subscriptions SET read_position = $3
           WHERE group_name = $1 AND read_position = $2 RETURNING 1)
         INSERT INTO ${this.s}.persistent_work (group_name, seq, replayed, event)
         SELECT $1, page.seq, false, page.event
         FROM unnest($4::bigint[], $5::jsonb[]) AS page(seq, event), advanced`,
        [group, stored, seqs[seqs.length - 1], seqs, events.map((e) => JSON.stringify(e))],
      );
      if ((inserted.rowCount ?? 0) > 0) {
        stored = seqs[seqs.length - 1]!;
        scanned = next;
        unsettled += inserted.rowCount ?? 0;
        await this.changed(group);
      } else {
        // Another feeder got there first (or the group is gone): go on from where it is.
        const moved = await this.readPosition(group);
        if (moved === undefined) return;
        stored = scanned = moved;
      }
    }
  }

  private async readPosition(group: string): Promise<number | undefined> {
    const result = await this.pool.query<{ read_position: number }>(
      `SELECT read_position FROM ${this.s}.persistent_subscriptions WHERE group_name = $1`,
      [group],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : Number(row.read_position);
  }

  private async readStreamFrom(
    stream: string,
    fromVersion: number,
    maxCount: number,
  ): Promise<RecordedEvent[]> {
    try {
      return (await this.store.readStream(stream, { fromVersion, maxCount })).events;
    } catch (error) {
      if (isSluiceError(error, "SLUICE_NOT_FOUND")) return [];
      throw error;
    }
  }

  private async unsettled(group: string): Promise<number> {
    const result = await this.pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${this.s}.persistent_work
       WHERE group_name = $1 AND NOT replayed`,
      [group],
    );
    return result.rows[0]?.count ?? 0;
  }

  // ---------------------------------------------------------------- waking

  /** Tells this process's waiters and, by NOTIFY, every other process's. */
  private async changed(group: string): Promise<void> {
    this.notified(group);
    if (this.options.channel !== null && !this.closed)
      await this.pool.query("SELECT pg_notify($1, $2)", [this.options.channel, `g:${group}`]);
  }

  /** Waits until the group changes after `seen`, the poll interval passes, or `signal` aborts. */
  private waitForChange(local: LocalGroup, seen: number, signal: AbortSignal): Promise<void> {
    if (local.version !== seen || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        local.waiters.delete(done);
        signal.removeEventListener("abort", done);
        poll.cancel();
        resolve();
      };
      const poll = this.options.clock.setTimer(this.options.pollIntervalMs, done);
      local.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private async stopLocal(group: string): Promise<void> {
    const local = this.local.get(group);
    if (local === undefined) return;
    this.local.delete(group);
    local.abort.abort();
    for (const wake of [...local.waiters]) wake();
    await local.feeder;
    for (const consumer of [...local.consumers]) await this.release(local, consumer);
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
