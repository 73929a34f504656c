import { type Socket, createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONNECT_TIMEOUT_MS, PostgresEventStore } from "./postgres-event-store.js";
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  postgresUnavailable,
  uniqueSchema,
} from "./test-support.js";

// Opening against a server that takes the connection and never answers (as a host that drops
// packets does, without waiting minutes for the kernel to give up): no PostgreSQL needed.
const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
});
let url = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  url = `postgres://sluice:secret@127.0.0.1:${(silent.address() as AddressInfo).port}/db`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe("PostgresEventStore.open connecting", () => {
  it("gives up after connectTimeoutMs with SLUICE_IO naming the server, not the password", async () => {
    const started = performance.now();
    const error: unknown = await PostgresEventStore.open({
      connection: url,
      connectTimeoutMs: 200,
      listen: false,
    }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5_000);
    const port = (silent.address() as AddressInfo).port;
    expect(error).toMatchObject({
      code: "SLUICE_IO",
      field: "connection",
      message: `connection: cannot connect to PostgreSQL: no answer from 127.0.0.1:${port} within 200 ms`,
      details: { server: `127.0.0.1:${port}`, timeoutMs: 200 },
    });
    expect(DEFAULT_CONNECT_TIMEOUT_MS).toBe(10_000);
  });

  it("keeps the connectionTimeoutMillis of pool settings", async () => {
    const error: unknown = await PostgresEventStore.open({
      connection: { connectionString: url, connectionTimeoutMillis: 150 },
      listen: false,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/no answer from 127\.0\.0\.1:\d+ within 150 ms$/);
  });

  it("refuses a connection string the driver cannot read, and a bad timeout, as bad input", async () => {
    await expect(
      PostgresEventStore.open({ connection: "postgres://sluice:secret@[bad/db" }),
    ).rejects.toMatchObject({
      code: "SLUICE_VALIDATION",
      field: "connection",
      message: expect.not.stringContaining("secret") as unknown,
    });
    await expect(
      PostgresEventStore.open({ connection: url, connectTimeoutMs: 0 }),
    ).rejects.toMatchObject({ code: "SLUICE_VALIDATION", field: "connectTimeoutMs" });
  });

  it("bounds making a connection, not waiting for a free one of a busy pool", async () => {
    const unavailable = await postgresUnavailable();
    if (unavailable !== undefined) {
      console.warn(`skipped: ${unavailable}`);
      return;
    }
    const schema = uniqueSchema();
    const store = await PostgresEventStore.open({
      connection: TEST_POSTGRES_URL,
      schema,
      poolSize: 1,
      connectTimeoutMs: 200,
      listen: false,
    });
    try {
      const held = await store.pool.connect();
      const waiting = store.listStreams();
      await new Promise((resolve) => setTimeout(resolve, 500));
      held.release();
      await expect(waiting).resolves.toEqual([]);
    } finally {
      await store.close();
      await dropSchemas([schema]);
    }
  });
});
