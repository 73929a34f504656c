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

/** Collects events into `seen` until `stop` is called (or the iterable ends). */
function collector(subscribe: (signal: AbortSignal) => AsyncIterable<RecordedEvent>): {
  readonly seen: RecordedEvent[];
  until(last: (e: RecordedEvent) => boolean, timeoutMs: number): Promise<RecordedEvent[]>;
} {
  const seen: RecordedEvent[] = [];
  const controller = new AbortController();
  const done = (async () => {
    for await (const e of subscribe(controller.signal)) seen.push(e);
  })();
  return {
    seen,
    async until(last, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !seen.some(last)) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      await done;
      return seen;
    },
  };
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

  it("live subscribers see every event once, in order, under many writers whose commits are delayed at random", async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    // An inline projection that sleeps a random moment runs after positions are handed out and
    // before commit: with positions taken from a sequence, commits would land out of order and
    // a reader that moved past a late one would skip it.
    let seed = 42;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const store = await PostgresEventStore.open({
      connection: TEST_POSTGRES_URL,
      schema,
      poolSize: 16,
      inline: [
        {
          name: "jitter",
          apply: (event) =>
            event.data !== null && (event.data as { k?: number }).k === 0
              ? new Promise<void>((resolve) => setTimeout(resolve, random() * 3))
              : undefined,
        },
      ],
    });
    try {
      const writers = 8;
      const appends = 20;
      const perAppend = 3;
      const total = writers * appends * perAppend;
      const live = collector((signal) => store.subscribe({ signal }));
      const oneStream = collector((signal) => store.subscribe({ stream: "w-3", signal }));
      let late: ReturnType<typeof collector> | undefined;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < appends; i++) {
            if (w === 0 && i === appends / 2)
              late = collector((signal) => store.subscribe({ signal }));
            await store.appendToStream(
              `w-${w}`,
              Array.from({ length: perAppend }, (_, k) => ({ type: "E", data: { w, i, k } })),
            );
          }
        }),
      );
      const all: RecordedEvent[] = [];
      for (let from: number | undefined = 0; from !== undefined;) {
        const page = await store.readAll({ fromPosition: from, maxCount: 10_000 });
        all.push(...page.events);
        from = page.nextPosition;
      }
      expect(all).toHaveLength(total);
      const expected = all.map((e) => e.position);
      const head = expected[expected.length - 1]!;
      // Wait for the last event, then compare: a skipped event shows as a difference, not a hang.
      for (const subscriber of [live, late!]) {
        const seen = await subscriber.until((e) => e.position === head, 10_000);
        expect(seen.map((e) => e.position)).toEqual(expected);
      }
      const streamVersions = (
        await oneStream.until((e) => e.version === appends * perAppend - 1, 10_000)
      ).map((e) => e.version);
      expect(streamVersions).toEqual(Array.from({ length: appends * perAppend }, (_, v) => v));
    } finally {
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
