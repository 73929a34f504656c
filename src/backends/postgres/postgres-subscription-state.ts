import type { Pool } from "pg";
import { SluiceError } from "../../errors/index.js";
import type { RecordedEvent } from "../../eventstore/event-store.js";
import type {
  GroupCommit,
  GroupRecord,
  GroupSettings,
  ParkedEvent,
  PersistentSubscriptionStateStore,
} from "../../eventstore/persistent/persistent-subscription.js";
import { checkSchemaName, quoted } from "./postgres-schema.js";

interface GroupRow {
  settings: GroupSettings;
  checkpoint: number;
  settled: string[] | number[];
  retries: Record<string, number>;
}

interface ParkedRow {
  group_name: string;
  event: RecordedEvent;
  reason: string;
  retry_count: number;
  parked_at: number;
  replaying: boolean;
}

const toRecord = (row: GroupRow): GroupRecord => ({
  settings: row.settings,
  checkpoint: Number(row.checkpoint),
  settled: row.settled.map(Number),
  retries: row.retries,
});

const toParked = (row: ParkedRow): ParkedEvent => ({
  group: row.group_name,
  event: row.event,
  reason: row.reason,
  retryCount: row.retry_count,
  parkedAt: Number(row.parked_at),
  replaying: row.replaying,
});

function notFound(group: string): SluiceError {
  return new SluiceError("SLUICE_NOT_FOUND", `persistent subscription ${group} does not exist`, {
    field: "group",
    details: { group },
  });
}

/**
 * Persistent subscription state in PostgreSQL tables of the store's schema: a row per group
 * (`persistent_subscriptions`) and a row per parked event (`parked_events`), each commit of a
 * group one transaction.
 */
export class PostgresSubscriptionState implements PersistentSubscriptionStateStore {
  private readonly s: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.s = quoted(checkSchemaName(schema));
  }

  async create(settings: GroupSettings, checkpoint: number): Promise<void> {
    const result = await this.pool.query(
      `INSERT INTO ${this.s}.persistent_subscriptions (group_name, settings, checkpoint)
       VALUES ($1, $2::jsonb, $3) ON CONFLICT DO NOTHING`,
      [settings.group, JSON.stringify(settings), checkpoint],
    );
    if (result.rowCount === 0)
      throw new SluiceError(
        "SLUICE_ALREADY_EXISTS",
        `persistent subscription ${settings.group} already exists`,
        { field: "group", details: { group: settings.group } },
      );
  }

  async delete(group: string): Promise<void> {
    const result = await this.pool.query(
      `DELETE FROM ${this.s}.persistent_subscriptions WHERE group_name = $1`,
      [group],
    );
    if (result.rowCount === 0) throw notFound(group);
  }

  async load(group: string): Promise<GroupRecord | undefined> {
    const result = await this.pool.query<GroupRow>(
      `SELECT settings, checkpoint, settled, retries FROM ${this.s}.persistent_subscriptions
       WHERE group_name = $1`,
      [group],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toRecord(row);
  }

  async list(): Promise<GroupRecord[]> {
    const result = await this.pool.query<GroupRow>(
      `SELECT settings, checkpoint, settled, retries FROM ${this.s}.persistent_subscriptions
       ORDER BY group_name COLLATE "C"`,
    );
    return result.rows.map(toRecord);
  }

  async commit(group: string, commit: GroupCommit): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const updated = await client.query<{ settings: GroupSettings }>(
        `UPDATE ${this.s}.persistent_subscriptions SET checkpoint = $2, settled = $3, retries = $4::jsonb
         WHERE group_name = $1 RETURNING settings`,
        [
          group,
          commit.state.checkpoint,
          commit.state.settled,
          JSON.stringify(commit.state.retries),
        ],
      );
      const settings = updated.rows[0]?.settings;
      // A group deleted while its last settlements were in flight stays deleted.
      if (settings !== undefined) {
        if (commit.unpark.length > 0)
          await client.query(
            `DELETE FROM ${this.s}.parked_events WHERE group_name = $1 AND seq = ANY($2)`,
            [group, commit.unpark],
          );
        for (const parked of commit.park) {
          const seq = settings.stream === null ? parked.event.position : parked.event.version;
          await client.query(
            `INSERT INTO ${this.s}.parked_events (group_name, seq, event, reason, retry_count, parked_at, replaying)
             VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)
             ON CONFLICT (group_name, seq) DO UPDATE SET event = excluded.event, reason = excluded.reason,
               retry_count = excluded.retry_count, parked_at = excluded.parked_at, replaying = excluded.replaying`,
            [
              group,
              seq,
              JSON.stringify(parked.event),
              parked.reason,
              parked.retryCount,
              parked.parkedAt,
              parked.replaying,
            ],
          );
        }
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async listParked(group: string): Promise<ParkedEvent[]> {
    const result = await this.pool.query<ParkedRow>(
      `SELECT group_name, event, reason, retry_count, parked_at, replaying FROM ${this.s}.parked_events
       WHERE group_name = $1 ORDER BY seq`,
      [group],
    );
    return result.rows.map(toParked);
  }

  async markReplaying(group: string): Promise<ParkedEvent[]> {
    const result = await this.pool.query<ParkedRow>(
      `UPDATE ${this.s}.parked_events SET replaying = true WHERE group_name = $1
       RETURNING group_name, event, reason, retry_count, parked_at, replaying, seq`,
      [group],
    );
    return result.rows.map(toParked);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
