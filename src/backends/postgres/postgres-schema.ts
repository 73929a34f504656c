import type { PoolClient } from "pg";
import { invalid } from "../../errors/index.js";

/** Checks a PostgreSQL schema name: lower-case letters, digits and _, at most 63 characters. */
export function checkSchemaName(schema: unknown): string {
  if (typeof schema !== "string" || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw invalid(
      "schema",
      "a schema name of lower-case letters, digits and _ (at most 63)",
      schema,
    );
  return schema;
}

/** Quotes a checked schema name for SQL text. */
export function quoted(schema: string): string {
  return `"${schema}"`;
}

/**
 * Migrations, in order; each runs once per schema, in its own transaction. Never edit one that
 * has shipped: add the next.
 */
function migrations(s: string): readonly string[] {
  return [
    `
    CREATE TABLE ${s}.streams (
      stream_id text PRIMARY KEY,
      version bigint NOT NULL DEFAULT -1,
      deleted_before bigint NOT NULL DEFAULT 0,
      soft_deleted boolean NOT NULL DEFAULT false,
      hard_deleted boolean NOT NULL DEFAULT false,
      metadata jsonb NOT NULL DEFAULT '{}',
      created_order bigserial
    );
    CREATE TABLE ${s}.events (
      global_position bigint PRIMARY KEY,
      stream_id text NOT NULL,
      version bigint NOT NULL,
      event_id text NOT NULL,
      id_given boolean NOT NULL,
      type text NOT NULL,
      schema_version int NOT NULL,
      data jsonb NOT NULL,
      metadata jsonb NOT NULL,
      created_at bigint NOT NULL,
      UNIQUE (stream_id, version)
    );
    CREATE UNIQUE INDEX events_given_id ON ${s}.events (event_id) WHERE id_given;
    CREATE INDEX events_created_at ON ${s}.events (created_at, global_position);
    -- One row: the last global position and timestamp handed out. Updating it is the
    -- sequencing lock (held to commit), so positions follow commit order with no gaps.
    CREATE TABLE ${s}.sequencer (
      id int PRIMARY KEY CHECK (id = 1),
      last_position bigint NOT NULL,
      last_timestamp bigint NOT NULL
    );
    INSERT INTO ${s}.sequencer VALUES (1, -1, 0);
    CREATE TABLE ${s}.read_models (
      model text NOT NULL,
      key text NOT NULL,
      value jsonb NOT NULL,
      PRIMARY KEY (model, key)
    );
    CREATE TABLE ${s}.checkpoints (
      name text PRIMARY KEY,
      position bigint NOT NULL
    );
    CREATE FUNCTION ${s}.append_events(
      p_stream text, p_expected text, p_now bigint, p_ids text[], p_id_given boolean[],
      p_types text[], p_schema_versions int[], p_data text[], p_metadata text[], p_notify text
    ) RETURNS TABLE (status text, first_position bigint, first_version bigint,
                     actual_version bigint, stored_at bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      st ${s}.streams%ROWTYPE;
      n int := cardinality(p_types);
      live boolean;
      dup record;
      last_pos bigint;
      ts bigint;
    BEGIN
      INSERT INTO ${s}.streams (stream_id) VALUES (p_stream) ON CONFLICT DO NOTHING;
      SELECT * INTO st FROM ${s}.streams WHERE stream_id = p_stream FOR UPDATE;
      IF st.hard_deleted THEN
        RETURN QUERY SELECT 'deleted'::text, NULL::bigint, NULL::bigint, st.version, NULL::bigint;
        RETURN;
      END IF;
      IF p_id_given[1] THEN
        SELECT e.global_position, e.version INTO dup FROM ${s}.events e
          WHERE e.event_id = p_ids[1] AND e.id_given;
        IF FOUND THEN
          RETURN QUERY SELECT 'duplicate'::text, dup.global_position, dup.version, st.version, NULL::bigint;
          RETURN;
        END IF;
      END IF;
      live := st.version >= 0 AND NOT st.soft_deleted;
      IF NOT (p_expected = 'any'
              OR (p_expected = 'no_stream' AND NOT live)
              OR (p_expected = 'stream_exists' AND live)
              OR p_expected = st.version::text) THEN
        RETURN QUERY SELECT 'conflict'::text, NULL::bigint, NULL::bigint, st.version, NULL::bigint;
        RETURN;
      END IF;
      UPDATE ${s}.streams SET version = st.version + n, soft_deleted = false
        WHERE stream_id = p_stream;
      UPDATE ${s}.sequencer SET last_position = last_position + n,
                                last_timestamp = greatest(last_timestamp, p_now)
        WHERE id = 1 RETURNING last_position, last_timestamp INTO last_pos, ts;
      INSERT INTO ${s}.events (global_position, stream_id, version, event_id, id_given, type,
                               schema_version, data, metadata, created_at)
        SELECT last_pos - n + i, p_stream, st.version + i, p_ids[i], p_id_given[i], p_types[i],
               p_schema_versions[i], p_data[i]::jsonb, p_metadata[i]::jsonb, ts
        FROM generate_series(1, n) AS i;
      IF p_notify IS NOT NULL THEN
        PERFORM pg_notify(p_notify, last_pos::text);
      END IF;
      RETURN QUERY SELECT 'ok'::text, last_pos - n + 1, st.version + 1, st.version, ts;
    END
    $fn$;
    `,
    `
    -- Persistent subscription groups: settings, checkpoint, events settled above the
    -- checkpoint and retry counts, written whole by each commit of the group.
    CREATE TABLE ${s}.persistent_subscriptions (
      group_name text PRIMARY KEY,
      settings jsonb NOT NULL,
      checkpoint bigint NOT NULL,
      settled bigint[] NOT NULL DEFAULT '{}',
      retries jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE ${s}.parked_events (
      group_name text NOT NULL REFERENCES ${s}.persistent_subscriptions ON DELETE CASCADE,
      seq bigint NOT NULL,
      event jsonb NOT NULL,
      reason text NOT NULL,
      retry_count int NOT NULL,
      parked_at bigint NOT NULL,
      replaying boolean NOT NULL DEFAULT false,
      PRIMARY KEY (group_name, seq)
    );
    `,
    `
    -- Persistent subscription groups settle in the database, so consumers in several
    -- processes can share a group: each event read and not yet settled is a work row that
    -- consumers claim (owner, deadline, claim number). read_position is how far the group's
    -- source has been read into work rows; the checkpoint is derived from it and the oldest
    -- work row. Events settled out of order above an old checkpoint are delivered once more.
    ALTER TABLE ${s}.persistent_subscriptions RENAME COLUMN checkpoint TO read_position;
    ALTER TABLE ${s}.persistent_subscriptions DROP COLUMN settled, DROP COLUMN retries;
    CREATE TABLE ${s}.persistent_work (
      group_name text NOT NULL REFERENCES ${s}.persistent_subscriptions ON DELETE CASCADE,
      seq bigint NOT NULL,
      replayed boolean NOT NULL,
      event jsonb NOT NULL,
      retry_count int NOT NULL DEFAULT 0,
      owner text,
      deadline bigint,
      claim int NOT NULL DEFAULT 0,
      PRIMARY KEY (group_name, seq, replayed)
    );
    `,
    `
    -- Several appends in one transaction (group commit): each append is checked on its own,
    -- as append_events does, and gets its own status; the ones that pass take consecutive
    -- positions from one sequencer update, so the batch pays for one commit and one WAL flush.
    -- Stream rows are created and locked in name order before anything else, so batches
    -- running side by side (and single appends, which lock one stream) never deadlock.
    CREATE FUNCTION ${s}.append_batch(
      p_streams text[], p_expected text[], p_counts int[], p_now bigint,
      p_ids text[], p_id_given boolean[], p_types text[], p_schema_versions int[],
      p_data text[], p_metadata text[], p_notify text
    ) RETURNS TABLE (status text, first_position bigint, first_version bigint,
                     actual_version bigint, stored_at bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      m int := cardinality(p_streams);
      st ${s}.streams%ROWTYPE;
      statuses text[] := array_fill(NULL::text, ARRAY[m]);
      -- ok: events before it in the batch; duplicate: the earlier append's first position
      positions bigint[] := array_fill(NULL::bigint, ARRAY[m]);
      first_versions bigint[] := array_fill(NULL::bigint, ARRAY[m]);
      actual_versions bigint[] := array_fill(NULL::bigint, ARRAY[m]);
      starts int[] := array_fill(0, ARRAY[m]);
      at int := 1;
      n int;
      total int := 0;
      live boolean;
      dup_position bigint;
      dup_version bigint;
      last_pos bigint;
      ts bigint;
    BEGIN
      INSERT INTO ${s}.streams (stream_id)
        SELECT DISTINCT name FROM unnest(p_streams) AS name ORDER BY 1 ON CONFLICT DO NOTHING;
      PERFORM 1 FROM ${s}.streams WHERE stream_id = ANY(p_streams) ORDER BY stream_id FOR UPDATE;
      FOR j IN 1..m LOOP
        n := p_counts[j];
        starts[j] := at;
        SELECT * INTO st FROM ${s}.streams WHERE stream_id = p_streams[j];
        actual_versions[j] := st.version;
        live := st.version >= 0 AND NOT st.soft_deleted;
        dup_position := NULL;
        IF NOT st.hard_deleted AND p_id_given[at] THEN
          SELECT e.global_position, e.version INTO dup_position, dup_version FROM ${s}.events e
            WHERE e.event_id = p_ids[at] AND e.id_given;
        END IF;
        IF st.hard_deleted THEN
          statuses[j] := 'deleted';
        ELSIF dup_position IS NOT NULL THEN
          statuses[j] := 'duplicate';
          positions[j] := dup_position;
          first_versions[j] := dup_version;
        ELSIF NOT (p_expected[j] = 'any'
                   OR (p_expected[j] = 'no_stream' AND NOT live)
                   OR (p_expected[j] = 'stream_exists' AND live)
                   OR p_expected[j] = st.version::text) THEN
          statuses[j] := 'conflict';
        ELSE
          statuses[j] := 'ok';
          positions[j] := total;
          first_versions[j] := st.version + 1;
          UPDATE ${s}.streams SET version = st.version + n, soft_deleted = false
            WHERE stream_id = p_streams[j];
          total := total + n;
        END IF;
        at := at + n;
      END LOOP;
      IF total > 0 THEN
        UPDATE ${s}.sequencer SET last_position = last_position + total,
                                  last_timestamp = greatest(last_timestamp, p_now)
          WHERE id = 1 RETURNING last_position, last_timestamp INTO last_pos, ts;
        INSERT INTO ${s}.events (global_position, stream_id, version, event_id, id_given, type,
                                 schema_version, data, metadata, created_at)
          SELECT last_pos - total + 1 + a.before + i, a.stream, a.version + i,
                 p_ids[a.start + i], p_id_given[a.start + i], p_types[a.start + i],
                 p_schema_versions[a.start + i], p_data[a.start + i]::jsonb,
                 p_metadata[a.start + i]::jsonb, ts
          FROM unnest(statuses, p_streams, positions, first_versions, starts, p_counts)
               AS a(status, stream, before, version, start, n),
               generate_series(0, a.n - 1) AS i
          WHERE a.status = 'ok';
        IF p_notify IS NOT NULL THEN
          PERFORM pg_notify(p_notify, last_pos::text);
        END IF;
        FOR j IN 1..m LOOP
          IF statuses[j] = 'ok' THEN positions[j] := last_pos - total + 1 + positions[j]; END IF;
        END LOOP;
      END IF;
      RETURN QUERY SELECT a.status, a.position, a.version, a.actual,
                          CASE WHEN a.status = 'ok' THEN ts END
        FROM unnest(statuses, positions, first_versions, actual_versions)
             WITH ORDINALITY AS a(status, position, version, actual, k)
        ORDER BY a.k;
    END
    $fn$;
    `,
    // Every metadata change and delete, with the position and time it was made at, so that
    // time travel folds what a read returned then (history reads). Streams changed before this
    // migration get one row each, at the head as it stands.
    `
    CREATE TABLE ${s}.stream_changes (
      stream_id text NOT NULL,
      change_order bigserial,
      position bigint NOT NULL,
      created_at bigint NOT NULL,
      metadata jsonb,
      deleted_before bigint,
      hard boolean,
      PRIMARY KEY (stream_id, change_order)
    );
    INSERT INTO ${s}.stream_changes (stream_id, position, created_at, metadata, deleted_before, hard)
      SELECT stream_id, q.last_position, q.last_timestamp,
             CASE WHEN metadata <> '{}' THEN metadata END,
             CASE WHEN deleted_before > 0 OR soft_deleted OR hard_deleted THEN deleted_before END,
             CASE WHEN deleted_before > 0 OR soft_deleted OR hard_deleted THEN hard_deleted END
        FROM ${s}.streams, ${s}.sequencer q
        WHERE metadata <> '{}' OR soft_deleted OR hard_deleted OR deleted_before > 0;
    `,
  ];
}

/** Creates the schema if needed and applies the migrations it has not seen. */
export async function migrate(client: PoolClient, schema: string): Promise<void> {
  const s = quoted(schema);
  await client.query("BEGIN");
  try {
    // Concurrent opens of the same schema wait for each other here.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`sluice:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations`);
    const applied = new Set(done.rows.map((r) => r.version));
    const all = migrations(s);
    for (let i = 0; i < all.length; i++) {
      if (applied.has(i + 1)) continue;
      await client.query(all[i]!);
      await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [i + 1]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}
