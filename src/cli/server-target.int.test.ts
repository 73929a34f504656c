import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliMain } from "./test-support/cli-build.js";
import { type CliOutcome, runCli } from "./test-support/run-cli.js";
import { type StartedServer, startServer } from "./test-support/started-server.js";

/**
 * While `sluice start` serves a data directory, no other process may open it: the commands
 * that look into one reach it through the server instead (`--server URL`, or the URL as the
 * event store's target), and pointed at the directory they say so.
 */
const main = cliMain();
const root = mkdtempSync(join(tmpdir(), "sluice-cli-server-"));
const dataDir = join(root, "data");
let server: StartedServer;

beforeAll(async () => {
  server = await startServer(
    [process.execPath, main, "start"],
    ["--data-dir", dataDir, "--no-kafka"],
  );
});
afterAll(async () => {
  server?.child.kill("SIGTERM");
  await server?.exit;
  rmSync(root, { recursive: true, force: true });
});

const sluice = (...args: string[]): Promise<CliOutcome> => runCli(args);
const sluiceWith = (env: Record<string, string>, ...args: string[]): Promise<CliOutcome> =>
  runCli(args, env);

describe("the command line through a running server", () => {
  it("sends to, lists and peeks at the queues it serves", async () => {
    await fetch(`${server.url}/queues`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ QueueName: "jobs" }),
    });
    const sent = await sluice("queues", "send", "--server", server.url, "jobs", "hello");
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toHaveProperty("MessageId");
    const listed = await sluice("queues", "list", "--server", server.url);
    expect(listed.stdout).toMatch(/^jobs\tstandard\t1\t0\t0\t/m);
    const peeked = await sluice("queues", "peek", "--server", server.url, "jobs");
    expect(JSON.parse(peeked.stdout)).toMatchObject({ Body: "hello", State: "visible" });
  });

  it("creates, describes and lists topics, and describes a group's offsets", async () => {
    const created = await sluice(
      "topics",
      "create",
      "--server",
      server.url,
      "orders",
      "--partitions",
      "2",
    );
    expect(created).toMatchObject({ code: 0, stdout: "Created topic orders.\n" });
    expect((await sluice("topics", "list", "--server", server.url)).stdout).toBe("orders\n");
    const described = await sluice("topics", "describe", "--server", server.url, "orders");
    expect(described.stdout).toContain("Topic: orders\tPartitionCount: 2");
    await fetch(`${server.url}/groups/billing/offsets`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ offsets: [{ topic: "orders", partition: 1, offset: 0 }] }),
    });
    expect((await sluice("groups", "list", "--server", server.url)).stdout).toMatch(
      /^billing\s+Empty\s+0$/m,
    );
    const group = await sluice("groups", "describe", "--server", server.url, "billing");
    expect(group.stdout).toMatch(/^billing\s+orders\s+1\s+0\s+0\s+0\s/m);
  });

  it("appends to and reads the event store it serves, given its URL as the target", async () => {
    const appended = await sluice("events", "append", server.url, "cart-1", "Added", '{"sku":"a"}');
    expect(appended.code).toBe(0);
    // In the server's store, not in a directory named after the URL.
    const served = (await (await fetch(`${server.url}/streams/cart-1/events`)).json()) as {
      events: { type: string; data: unknown }[];
    };
    expect(served.events).toMatchObject([{ type: "Added", data: { sku: "a" } }]);
    const read = await sluice("events", "read", server.url, "cart-1");
    expect(read.stdout).toMatch(/\tcart-1@0\tAdded\t\{"sku":"a"\}\n$/);
    expect((await sluice("events", "streams", server.url)).stdout).toContain("cart-1\t0\tno");
  });

  it("pointed at the directory the server holds, says to go through the server", async () => {
    for (const args of [
      ["queues", "list", "--data-dir", dataDir],
      ["queues", "list", dataDir],
      ["topics", "list", "--data-dir", dataDir],
      ["groups", "list", "--data-dir", dataDir],
      ["events", "read", dataDir, "cart-1"],
    ]) {
      const refused = await sluice(...args);
      expect(refused.code, args.join(" ")).toBe(2);
      expect(refused.stderr).toMatch(
        /^sluice: SLUICE_LOCKED: .* already open for writing by process \d+/,
      );
      expect(refused.stderr).toMatch(/reach it through the server: (--server <url>|give its URL)/);
    }
  });

  it("refuses a wrong URL, a server that is not there, and both a directory and a server", async () => {
    const notUrl = await sluice("queues", "list", "--server", "localhost:8080");
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toContain(
      "sluice: SLUICE_VALIDATION: --server: expected an http:// or https:// URL",
    );
    const closed = await freePort();
    const absent = await sluice("topics", "list", "--server", `http://127.0.0.1:${closed}`);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain(`SLUICE_IO`);
    expect(absent.stderr).toContain(`ECONNREFUSED 127.0.0.1:${closed}`);
    const both = await sluice("queues", "list", "--server", server.url, "--data-dir", dataDir);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("give one of --data-dir");
    const neither = await sluice("groups", "list");
    expect(neither.code).toBe(1);
    expect(neither.stderr).toContain("--server <url>");
  });
});

describe("the command line through a server that asks for a token", () => {
  it("sends the token given with --auth-token or SLUICE_AUTH_TOKEN, and says when it is missing", async () => {
    const dir = join(root, "guarded");
    // The server takes its token from the environment too, out of the process list.
    process.env.SLUICE_AUTH_TOKEN = "t0ken";
    let guarded: StartedServer;
    try {
      guarded = await startServer(
        [process.execPath, main, "start"],
        ["--data-dir", dir, "--no-kafka"],
      );
    } finally {
      delete process.env.SLUICE_AUTH_TOKEN;
    }
    try {
      const missing = await sluice("queues", "list", "--server", guarded.url);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("SLUICE_UNAUTHORIZED");
      const wrong = await sluice("topics", "list", "--server", guarded.url, "--auth-token", "nope");
      expect(wrong.stderr).toContain("SLUICE_UNAUTHORIZED");
      const given = await sluice(
        "queues",
        "list",
        "--server",
        guarded.url,
        "--auth-token",
        "t0ken",
      );
      expect(given).toMatchObject({
        code: 0,
        stdout: "queue\ttype\tvisible\tinflight\tdelayed\tarn\n",
      });
      const fromEnvironment = await sluiceWith(
        { SLUICE_AUTH_TOKEN: "t0ken" },
        "events",
        "append",
        guarded.url,
        "cart-9",
        "Added",
      );
      expect(fromEnvironment.code).toBe(0);
      const read = await sluice("events", "--auth-token", "t0ken", "read", guarded.url, "cart-9");
      expect(read.stdout).toContain("\tcart-9@0\tAdded\t{}");
    } finally {
      guarded.child.kill("SIGTERM");
      await guarded.exit;
    }
  });
});

/** A port nothing listens on: one the system just gave out and took back. */
async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
