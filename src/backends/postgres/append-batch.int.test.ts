import { afterAll, describe, expect, it } from "vitest";
import { isSluiceError } from "../../errors/index.js";
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

async function openStore(): Promise<PostgresEventStore> {
  const schema = uniqueSchema();
  schemas.push(schema);
  return PostgresEventStore.open({ connection: TEST_POSTGRES_URL, schema });
}

/** How many transactions wrote the store's events (rows of one transaction share `xmin`). */
async function transactions(store: PostgresEventStore): Promise<number> {
  const result = await store.pool.query<{ n: number }>(
    `SELECT count(DISTINCT xmin::text)::int AS n FROM "${store.schema}".events`,
  );
  return result.rows[0]!.n;
}

describe.skipIf(unavailable !== undefined)(`postgres group commit ${unavailable ?? ""}`, () => {
  it("concurrent appends share transactions, each with its own versions and positions", async () => {
    const store = await openStore();
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, w) =>
          store.appendToStream(`s-${w}`, [
            { type: "A", data: { w } },
            { type: "B", data: { w } },
          ]),
        ),
      );
      expect(results.map((r) => r.nextExpectedVersion)).toEqual(Array(8).fill(1));
      expect(new Set(results.map((r) => r.position)).size).toBe(8);
      expect(await transactions(store)).toBeLessThan(8);
      const all = await store.readAll();
      expect(all.events.map((e) => e.position)).toEqual(Array.from({ length: 16 }, (_, i) => i));
      for (let w = 0; w < 8; w++) {
        const { events } = await store.readStream(`s-${w}`);
        expect(events.map((e) => [e.type, e.version, e.data])).toEqual([
          ["A", 0, { w }],
          ["B", 1, { w }],
        ]);
        expect(events[1]!.position).toBe(results[w]!.position);
      }
    } finally {
      await store.close();
    }
  });

  it("appends to one stream in one batch are checked in order against each other", async () => {
    const store = await openStore();
    try {
      const [first, second, stale] = await Promise.allSettled([
        store.appendToStream("s", [{ type: "A", data: 1 }], { expectedVersion: "no_stream" }),
        store.appendToStream("s", [{ type: "B", data: 2 }], { expectedVersion: 0 }),
        store.appendToStream("s", [{ type: "C", data: 3 }], { expectedVersion: 0 }),
      ]);
      expect(first).toMatchObject({ status: "fulfilled", value: { nextExpectedVersion: 0 } });
      expect(second).toMatchObject({ status: "fulfilled", value: { nextExpectedVersion: 1 } });
      expect(stale.status).toBe("rejected");
      const error = (stale as PromiseRejectedResult).reason as unknown;
      expect(isSluiceError(error, "SLUICE_CONCURRENCY")).toBe(true);
      expect(error).toMatchObject({ stream: "s", expected: 0, actual: 1 });
      const { events } = await store.readStream("s");
      expect(events.map((e) => e.type)).toEqual(["A", "B"]);
    } finally {
      await store.close();
    }
  });

  it("one append's duplicate id or deleted stream fails only that append", async () => {
    const store = await openStore();
    try {
      const earlier = await store.appendToStream("dup", [
        { id: "e-1", type: "A", data: 1 },
        { id: "e-2", type: "A", data: 2 },
      ]);
      await store.appendToStream("gone", [{ type: "A", data: 1 }]);
      await store.deleteStream("gone", { hard: true });
      const [retried, misused, deleted, fine] = await Promise.allSettled([
        // The same ids as one earlier append: answered with the earlier result.
        store.appendToStream("dup", [
          { id: "e-1", type: "A", data: 1 },
          { id: "e-2", type: "A", data: 2 },
        ]),
        // An id used before, not at the start: the unique index refuses the whole batch.
        store.appendToStream("other", [
          { id: "new", type: "A", data: 1 },
          { id: "e-2", type: "A", data: 2 },
        ]),
        store.appendToStream("gone", [{ type: "A", data: 2 }]),
        store.appendToStream("fine", [{ type: "A", data: 1 }]),
      ]);
      expect(retried).toEqual({ status: "fulfilled", value: earlier });
      expect(misused.status).toBe("rejected");
      expect((misused as PromiseRejectedResult).reason).toMatchObject({
        code: "SLUICE_VALIDATION",
        field: "events[1].id",
      });
      expect(deleted.status).toBe("rejected");
      expect(
        isSluiceError((deleted as PromiseRejectedResult).reason, "SLUICE_STREAM_DELETED"),
      ).toBe(true);
      expect(fine).toMatchObject({ status: "fulfilled", value: { nextExpectedVersion: 0 } });
      await expect(store.readStream("other")).rejects.toMatchObject({ code: "SLUICE_NOT_FOUND" });
      expect((await store.readStream("dup")).events).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it("close waits for appends still queued", async () => {
    const store = await openStore();
    const appends = Array.from({ length: 20 }, (_, i) =>
      store.appendToStream(`q-${i % 3}`, [{ type: "A", data: i }]),
    );
    await store.close();
    const results = await Promise.all(appends);
    expect(results.map((r) => r.position).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
  });
});
