import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { aggregateStream } from "../../eventstore/aggregates/aggregate-stream.js";
import type { Aggregate } from "../../eventstore/aggregates/aggregate.js";
import { VirtualClock } from "../../time/virtual-clock.js";
import { PostgresEventStore } from "./postgres-event-store.js";
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  postgresUnavailable,
  uniqueSchema,
} from "./test-support.js";

const unavailable = await postgresUnavailable();
const schemas: string[] = [];

afterAll(async () => {
  await dropSchemas(schemas.splice(0));
});

async function sql(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

const open = (schema: string, clock = new VirtualClock()) =>
  PostgresEventStore.open({ connection: TEST_POSTGRES_URL, schema, clock, poolSize: 4 });

const count: Aggregate<number, never> = {
  initialState: () => 0,
  evolve: (n) => n + 1,
  decide: () => [],
};

describe.skipIf(unavailable !== undefined)(
  `PostgreSQL schema migrations${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`,
  () => {
    it("upgrades a schema from the release before stream changes: they are filled in from the streams", async () => {
      const schema = uniqueSchema();
      schemas.push(schema);
      const clock = new VirtualClock();
      let store = await open(schema, clock);
      await store.appendToStream("kept", [
        { type: "E", data: {} },
        { type: "E", data: {} },
      ]);
      await store.setStreamMetadata("kept", { maxCount: 1 });
      await store.appendToStream("gone", [{ type: "E", data: {} }]);
      await store.deleteStream("gone");
      await store.close();
      // The schema as the release before this migration left it.
      const { rows } = await sql(`SELECT max(version) AS last FROM "${schema}".migrations`);
      const last = Number((rows[0] as { last: number }).last);
      await sql(`DROP TABLE "${schema}".stream_changes`);
      await sql(`DELETE FROM "${schema}".migrations WHERE version = ${last}`);

      await clock.advance(60_000);
      store = await open(schema, clock);
      try {
        const kept = await store.readStream("kept", { history: true });
        expect(kept.events).toHaveLength(2);
        expect(kept.changes).toHaveLength(1);
        expect(kept.changes![0]).toMatchObject({ metadata: { maxCount: 1 } });
        expect(kept.changes![0]!.time).toBeLessThanOrEqual(clock.now());
        expect(kept.changes![0]!.position).toBeGreaterThanOrEqual(kept.events[1]!.position);
        const gone = await store.readStream("gone", { history: true });
        expect(gone.changes).toMatchObject([{ deletedBefore: 1, hard: false }]);
        // Time travel reads the filled-in changes as made at the head of the upgrade.
        expect((await aggregateStream(store, "kept", count)).state).toBe(1);
        expect((await aggregateStream(store, "kept", count, { asOf: { version: 1 } })).state).toBe(
          2,
        );
        const migrated = await sql(`SELECT count(*) AS n FROM "${schema}".migrations`);
        expect(Number((migrated.rows[0] as { n: number }).n)).toBe(last);
      } finally {
        await store.close();
      }
    });

    it("opens of one new schema at once wait for each other: every one works, each migration runs once", async () => {
      const schema = uniqueSchema();
      schemas.push(schema);
      const stores = await Promise.all(Array.from({ length: 4 }, () => open(schema)));
      try {
        await Promise.all(
          stores.map((store, i) => store.appendToStream(`s-${i}`, [{ type: "E", data: { i } }])),
        );
        const { rows } = await sql(
          `SELECT version, count(*) AS n FROM "${schema}".migrations GROUP BY version ORDER BY version`,
        );
        expect(rows.length).toBeGreaterThanOrEqual(5);
        for (const [i, row] of (rows as { version: number; n: number }[]).entries()) {
          expect(Number(row.version)).toBe(i + 1);
          expect(Number(row.n)).toBe(1);
        }
        expect((await stores[0]!.readAll()).events).toHaveLength(4);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    });
  },
);
