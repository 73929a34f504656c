import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { RecordedEvent } from "../../eventstore/event-store.js";
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

async function take(
  iterable: AsyncIterable<RecordedEvent>,
  n: number,
  controller: AbortController,
): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of iterable) {
    out.push(e);
    if (out.length === n) break;
  }
  controller.abort();
  return out;
}

describe.skipIf(unavailable !== undefined)(`postgres ordering ${unavailable ?? ""}`, () => {
  it("a transaction that commits late cannot be overtaken: positions follow commit order", async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const store = await PostgresEventStore.open({ connection: TEST_POSTGRES_URL, schema });
    const slow = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await slow.connect();
    try {
      const controller = new AbortController();
      const seen = take(store.subscribe({ signal: controller.signal }), 2, controller);
      await slow.query("BEGIN");
      await slow.query(
        `SELECT * FROM "${schema}".append_events('slow', 'any', 0, ARRAY['s1'], ARRAY[false], ARRAY['Slow'], ARRAY[1], ARRAY['{}'], ARRAY['{}'], NULL)`,
      );
      let fastDone = false;
      const fast = store.appendToStream("fast", [{ type: "Fast", data: {} }]).then((r) => {
        fastDone = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(fastDone).toBe(false); // waits for the sequencer held by the open transaction
      await slow.query("COMMIT");
      const fastResult = await fast;
      const events = await seen;
      expect(events.map((e) => e.stream)).toEqual(["slow", "fast"]);
      expect(events[0]!.position).toBeLessThan(fastResult.position);
    } finally {
      await slow.end();
      await store.close();
    }
  });

  it("wakes subscribers by polling when LISTEN/NOTIFY is off", async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const store = await PostgresEventStore.open({
      connection: TEST_POSTGRES_URL,
      schema,
      listen: false,
      pollIntervalMs: 50,
    });
    try {
      const controller = new AbortController();
      const seen = take(
        store.subscribe({ after: "end", signal: controller.signal }),
        1,
        controller,
      );
      await new Promise((r) => setTimeout(r, 100));
      await store.appendToStream("s", [{ type: "Late", data: {} }]);
      expect((await seen).map((e) => e.type)).toEqual(["Late"]);
    } finally {
      await store.close();
    }
  });
});
