import type { Pool, PoolClient } from "pg";
import type { JsonValue } from "../../eventstore/event-store.js";
import type { ReadModel, ReadModelWrites } from "../../eventstore/projections/projection.js";
import { checkSchemaName, quoted } from "./postgres-schema.js";

/**
 * A read model in PostgreSQL: documents in the `read_models` table of the store's schema and
 * the checkpoint in `checkpoints`, written in one transaction (or in the append's own
 * transaction when the projection is inline).
 */
export class PostgresReadModel implements ReadModel {
  private readonly s: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
    /** The model's name (a projection's `readModelName`). */
    readonly name: string,
  ) {
    this.s = quoted(checkSchemaName(schema));
  }

  /** Whether this read model lives in `schema` of `pool` (inline projections must). */
  livesIn(pool: Pool, schema: string): boolean {
    return pool === this.pool && quoted(schema) === this.s;
  }

  async get(key: string): Promise<JsonValue | undefined> {
    return this.getIn(this.pool, key);
  }

  /** Reads a document through `client` (inside its transaction). */
  async getIn(client: Pool | PoolClient, key: string): Promise<JsonValue | undefined> {
    const result = await client.query<{ value: JsonValue }>(
      `SELECT value FROM ${this.s}.read_models WHERE model = $1 AND key = $2`,
      [this.name, key],
    );
    return result.rows[0]?.value;
  }

  async entries(): Promise<[string, JsonValue][]> {
    const result = await this.pool.query<{ key: string; value: JsonValue }>(
      `SELECT key, value FROM ${this.s}.read_models WHERE model = $1 ORDER BY key COLLATE "C"`,
      [this.name],
    );
    return result.rows.map((r) => [r.key, r.value]);
  }

  async checkpoint(): Promise<number> {
    const result = await this.pool.query<{ position: number }>(
      `SELECT position FROM ${this.s}.checkpoints WHERE name = $1`,
      [this.name],
    );
    return result.rows[0]?.position ?? -1;
  }

  async commit(writes: ReadModelWrites, checkpoint: number): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await this.commitIn(client, writes, checkpoint);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    } finally {
      client.release();
    }
  }

  /** Writes documents and the checkpoint through `client`, inside the caller's transaction. */
  async commitIn(client: PoolClient, writes: ReadModelWrites, checkpoint: number): Promise<void> {
    const putKeys: string[] = [];
    const putValues: string[] = [];
    const deleted: string[] = [];
    for (const [key, value] of writes)
      if (value === null) deleted.push(key);
      else {
        putKeys.push(key);
        putValues.push(JSON.stringify(value));
      }
    if (deleted.length > 0)
      await client.query(`DELETE FROM ${this.s}.read_models WHERE model = $1 AND key = ANY($2)`, [
        this.name,
        deleted,
      ]);
    if (putKeys.length > 0)
      await client.query(
        `INSERT INTO ${this.s}.read_models (model, key, value)
         SELECT $1, k, v::jsonb FROM unnest($2::text[], $3::text[]) AS u(k, v)
         ON CONFLICT (model, key) DO UPDATE SET value = excluded.value`,
        [this.name, putKeys, putValues],
      );
    await client.query(
      `INSERT INTO ${this.s}.checkpoints (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
      [this.name, checkpoint],
    );
  }

  async reset(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`DELETE FROM ${this.s}.read_models WHERE model = $1`, [this.name]);
      await client.query(`DELETE FROM ${this.s}.checkpoints WHERE name = $1`, [this.name]);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    } finally {
      client.release();
    }
  }

  /** The pool belongs to the store; nothing to release here. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
