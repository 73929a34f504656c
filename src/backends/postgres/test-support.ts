import { randomBytes } from "node:crypto";
import pg from "pg";

/** The server the integration tests use; override with SLUICE_TEST_POSTGRES. */
export const TEST_POSTGRES_URL =
  process.env.SLUICE_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * Undefined when the test server answers; otherwise why not. Under CI=true a missing server
 * is an error, not a skip.
 */
export async function postgresUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({
    connectionString: TEST_POSTGRES_URL,
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    const reason = `PostgreSQL at ${TEST_POSTGRES_URL} is not reachable: ${(error as Error).message}`;
    if (process.env.CI === "true")
      throw new Error(`${reason} (CI=true: failing instead of skipping)`);
    return reason;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A schema name no other test run uses, so parallel runs never collide. */
export function uniqueSchema(prefix = "sluice_test"): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** Drops schemas a test run created. */
export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
