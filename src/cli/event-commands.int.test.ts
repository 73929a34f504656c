import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  postgresUnavailable,
  uniqueSchema,
} from "../backends/postgres/test-support.js";
import { EmbeddedEventStore } from "../eventstore/embedded-event-store.js";
import { MemoryReadModel } from "../eventstore/projections/memory-read-model.js";
import { ProjectionRunner } from "../eventstore/projections/projection-runner.js";
import { open } from "../sluice/index.js";
import { type CliOutcome, runCli } from "./test-support/run-cli.js";

const root = mkdtempSync(join(tmpdir(), "sluice-cli-events-"));
const schemas: string[] = [];
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await dropSchemas(schemas.splice(0));
});

const sluice = (...args: string[]): Promise<CliOutcome> => runCli(args);

const rows = (stdout: string): string[][] =>
  stdout
    .trim()
    .split("\n")
    .map((l) => l.split("\t"));

describe("sluice events CLI", () => {
  it("appends, reads a stream and $all, lists streams, audits and shows projections", async () => {
    const dir = join(root, "store");
    const first = await sluice(
      "events",
      "append",
      dir,
      "acc-1",
      "Deposited",
      '{"amount":10}',
      "--metadata",
      '{"user":"ada"}',
      "--expected-version",
      "no_stream",
    );
    expect(first).toMatchObject({ code: 0, stdout: "acc-1@0 position 0\n" });
    expect(
      (
        await sluice(
          "events",
          "append",
          dir,
          "acc-1",
          "Withdrawn",
          '{"amount":3}',
          "--expected-version",
          "0",
        )
      ).stdout,
    ).toBe("acc-1@1 position 1\n");
    expect((await sluice("events", "append", dir, "acc-2", "Deposited", '{"amount":5}')).code).toBe(
      0,
    );

    const read = await sluice("events", "read", dir, "acc-1");
    expect(read.code).toBe(0);
    expect(rows(read.stdout).map((r) => [r[0], r[2], r[3], r[4]])).toEqual([
      ["0", "acc-1@0", "Deposited", '{"amount":10}'],
      ["1", "acc-1@1", "Withdrawn", '{"amount":3}'],
    ]);
    const newest = await sluice(
      "events",
      "read",
      dir,
      "acc-1",
      "--backward",
      "--max",
      "1",
      "--json",
    );
    expect(JSON.parse(newest.stdout)).toMatchObject({ type: "Withdrawn", version: 1, position: 1 });
    const all = await sluice("events", "read", dir, "--from", "1");
    expect(rows(all.stdout).map((r) => r[2])).toEqual(["acc-1@1", "acc-2@0"]);

    const streams = await sluice("events", "streams", dir);
    expect(rows(streams.stdout)).toEqual([
      ["stream", "version", "deleted"],
      ["acc-1", "1", "no"],
      ["acc-2", "0", "no"],
    ]);

    const csv = await sluice("events", "audit", dir, "--stream", "acc-1", "--format", "csv");
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/ada/);
    expect(lines[1]).toMatch(/Deposited/);
    const markdown = await sluice("events", "audit", dir, "--type", "Deposited");
    expect(markdown.stdout).toMatch(/^\|/m);
    expect(markdown.stdout).toMatch(/acc-2/);

    // An async projection that saved a snapshot, then one more event: it is 1 behind. The
    // appends above made `dir` a data directory, as `sluice start` and `open(dir)` keep one.
    const opened = await open(dir);
    const runner = new ProjectionRunner(
      opened.eventStore,
      { name: "totals", apply: () => undefined },
      new MemoryReadModel(),
      { snapshotEvery: 1 },
    );
    await runner.rebuild();
    await runner.stop();
    await opened.close();
    await sluice("events", "append", dir, "acc-2", "Deposited", '{"amount":1}');
    const projections = await sluice("events", "projections", dir);
    expect(projections.code).toBe(0);
    const table = rows(projections.stdout);
    expect(table[0]).toEqual(["projection", "snapshot checkpoint", "lag (events)"]);
    expect(table[1]?.[0]).toBe("totals");
    expect(Number(table[1]?.[2])).toBeGreaterThanOrEqual(1);
  });

  it("refuses wrong paths, unknown streams, conflicts and bad arguments with the reason", async () => {
    const dir = join(root, "errors");
    await sluice("events", "append", dir, "s", "A");
    const missing = join(root, "no-such-store");
    const file = join(root, "a-file");
    writeFileSync(file, "not a store");
    // Commands on other paths run beside those on `dir`; these run one at a time, as each one
    // takes the store's lock.
    const elsewhere = Promise.all([
      sluice("events", "read", missing, "s"),
      sluice("events", "streams", file),
    ]);
    const unknownStream = await sluice("events", "read", dir, "nope");
    const conflict = await sluice(
      "events",
      "append",
      dir,
      "s",
      "A",
      "{}",
      "--expected-version",
      "5",
    );
    const badJson = await sluice("events", "append", dir, "s", "A", "{not json");
    const badFormat = await sluice("events", "audit", dir, "--format", "xml");
    const reserved = await sluice("events", "append", dir, "$all", "A");
    // An append that fails on a new path leaves no data directory there.
    const unmet = join(root, "unmet", "store");
    const onNew = await sluice(
      "events",
      "append",
      unmet,
      "s",
      "A",
      "--expected-version",
      "stream_exists",
    );
    const [noStore, notADir] = await elsewhere;
    expect(onNew.stderr).toMatch(/SLUICE_CONCURRENCY: .*expected version stream_exists, actual -1/);
    expect(existsSync(join(root, "unmet"))).toBe(false);
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toMatch(/SLUICE_NOT_FOUND: target: no event store/);
    expect(existsSync(missing)).toBe(false);
    expect(notADir.stderr).toMatch(/SLUICE_VALIDATION: target: expected a data directory/);
    expect(unknownStream.stderr).toMatch(/SLUICE_NOT_FOUND: stream "nope" does not exist/);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toMatch(/SLUICE_CONCURRENCY: .*expected version 5, actual 0/);
    expect(badJson.code).not.toBe(0);
    expect(badJson.stderr).toMatch(/expected JSON/);
    expect(badFormat.stderr).toMatch(/expected json, csv or markdown/);
    expect(reserved.stderr).toMatch(/SLUICE_VALIDATION: stream/);
    // Nothing of the refused appends was stored.
    expect(rows((await sluice("events", "read", dir, "s")).stdout)).toHaveLength(1);
  });

  it("reads the event store of a data directory, as sluice start keeps it, and writes nothing beside it", async () => {
    const dataDir = join(root, "data-dir");
    const opened = await open(dataDir);
    await opened.eventStore.appendToStream("cart-1", [{ type: "ItemAdded", data: { sku: "a" } }], {
      expectedVersion: "no_stream",
    });
    await opened.close();
    const before = readdirSync(dataDir).sort();
    const read = await sluice("events", "read", dataDir, "cart-1");
    expect(read.code).toBe(0);
    expect(rows(read.stdout).map((r) => r.slice(2))).toEqual([
      ["cart-1@0", "ItemAdded", '{"sku":"a"}'],
    ]);
    await sluice("events", "append", dataDir, "cart-1", "ItemRemoved", '{"sku":"a"}');
    expect(readdirSync(dataDir).sort()).toEqual(before);
    const reopened = await open(dataDir);
    const { events } = await reopened.eventStore.readStream("cart-1");
    await reopened.close();
    expect(events.map((e) => e.type)).toEqual(["ItemAdded", "ItemRemoved"]);

    // A store opened on its own keeps its log at the top of its directory: read there.
    const bare = join(root, "bare-store");
    const store = await EmbeddedEventStore.open(bare);
    await store.appendToStream("s", [{ type: "A", data: {} }], { expectedVersion: "any" });
    await store.close();
    expect(rows((await sluice("events", "read", bare, "s")).stdout).map((r) => r[2])).toEqual([
      "s@0",
    ]);
  });

  it("takes --data-dir as every other command does, and says what is wrong with its arguments in one line", async () => {
    const dataDir = mkdtempSync(join(root, "by-option-"));
    const appended = await sluice(
      "events",
      "append",
      "--data-dir",
      dataDir,
      "order-1",
      "Placed",
      '{"total":3}',
    );
    expect(appended.code, appended.stderr).toBe(0);
    expect(appended.stdout).toBe("order-1@0 position 0\n");
    // The same store, named by --data-dir or by the target argument.
    for (const args of [
      ["read", "--data-dir", dataDir, "order-1"],
      ["read", dataDir, "order-1"],
    ])
      expect(rows((await sluice("events", ...args)).stdout).map((r) => r[2])).toEqual([
        "order-1@0",
      ]);
    expect(rows((await sluice("events", "streams", "--data-dir", dataDir)).stdout)).toEqual([
      ["stream", "version", "deleted"],
      ["order-1", "0", "no"],
    ]);
    const missing = await sluice("events", "streams", "--data-dir", join(root, "none"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/SLUICE_NOT_FOUND: --data-dir: no event store/);

    writeFileSync(join(dataDir, "x"), "a file");
    // Usage errors an action finds: one line each, the exit code of commander's own.
    const usage = await Promise.all([
      sluice("events", "streams"),
      sluice("events", "streams", dataDir, "--data-dir", dataDir),
      sluice("events", "append", "--data-dir", dataDir, "order-1"),
      sluice("events", "append", dataDir),
      sluice("events", "append", "--data-dir", dataDir, "order-1", "Placed", "{}", "extra"),
      sluice("events", "append", "--data-dir", dataDir, "order-1", "Placed", "{oops"),
      sluice("queues", "list"),
      // A database out of reach, a URL the driver cannot read and a path under a file: one
      // line, no stack trace, naming the argument (or option) that gave it.
      sluice("events", "streams", "postgres://sluice@127.0.0.1:1/none"),
      sluice("events", "streams", "--data-dir", "postgres://sluice@127.0.0.1:1/none"),
      sluice("events", "streams", "postgres://sluice:secret@[bad/none"),
      sluice("events", "append", join(dataDir, "x", "y"), "s", "A"),
    ]);
    const said = usage.map((u) => [u.code, u.stderr]);
    expect(said).toEqual([
      [
        1,
        expect.stringMatching(
          /^sluice: error: give the store: --data-dir <dir>, or a data directory/,
        ),
      ],
      [1, expect.stringMatching(/^sluice: error: give the store once/)],
      // A missing argument is named as the help names it (commander, which sees them all
      // optional since --data-dir shifts them, would have said 'args').
      [1, "sluice: error: missing required argument 'type'\n"],
      [1, "sluice: error: missing required argument 'stream'\n"],
      [
        1,
        "sluice: error: too many arguments after the store: expected at most stream type data, got order-1 Placed {} extra\n",
      ],
      [1, "sluice: error: data: expected JSON, got {oops\n"],
      [
        1,
        "sluice: error: give the data directory (first argument or --data-dir <dir>) or the URL of the server serving it (--server <url>)\n",
      ],
      [
        2,
        "sluice: SLUICE_IO: target: cannot connect to PostgreSQL: connect ECONNREFUSED 127.0.0.1:1\n",
      ],
      [
        2,
        "sluice: SLUICE_IO: --data-dir: cannot connect to PostgreSQL: connect ECONNREFUSED 127.0.0.1:1\n",
      ],
      [
        2,
        "sluice: SLUICE_VALIDATION: target: expected a PostgreSQL connection string such as postgres://user@host:5432/db\n",
      ],
      [
        2,
        `sluice: SLUICE_VALIDATION: target: ${join(dataDir, "x", "y")} cannot be made: ${join(dataDir, "x")} is not a directory\n`,
      ],
    ]);
    expect(rows((await sluice("events", "read", dataDir, "order-1")).stdout)).toHaveLength(1);

    // What the library refuses is named as the command line gave it.
    const refused = [];
    for (const args of [
      ["append", dataDir, "order-1", "$Reserved"],
      ["append", dataDir, "order-1", "Placed", "--metadata", "[1]"],
      ["append", dataDir, "order-1", "Placed", "--expected-version", "-1"],
      ["read", dataDir, "order-1", "--max", "0"],
      ["read", dataDir, "--max", "0"],
    ])
      refused.push(await sluice("events", ...args));
    expect(refused.map((r) => [r.code, r.stderr.replace(/, got .*\n$/, "")])).toEqual(
      [
        "type: expected a type name of 1-255 characters, no control characters, not starting with $",
        "--metadata: expected a plain JSON object",
        '--expected-version: expected "any", "no_stream", "stream_exists" or an integer >= 0',
        "--max: expected an integer from 1 to 10000",
        "--max: expected an integer from 1 to 10000",
      ].map((message) => [2, `sluice: SLUICE_VALIDATION: ${message}`]),
    );
  });

  it("works on a postgres:// target with a schema", async () => {
    const unavailable = await postgresUnavailable();
    if (unavailable !== undefined) {
      console.warn(`skipped: ${unavailable}`);
      return;
    }
    const schema = uniqueSchema();
    schemas.push(schema);
    const appended = await sluice(
      "events",
      "--schema",
      schema,
      "append",
      TEST_POSTGRES_URL,
      "pg-1",
      "Opened",
      '{"x":1}',
    );
    expect(appended).toMatchObject({ code: 0, stdout: "pg-1@0 position 0\n" });
    const read = await sluice(
      "events",
      "--schema",
      schema,
      "read",
      TEST_POSTGRES_URL,
      "pg-1",
      "--json",
    );
    expect(JSON.parse(read.stdout)).toMatchObject({
      stream: "pg-1",
      type: "Opened",
      data: { x: 1 },
    });
    const streams = await sluice("events", "--schema", schema, "streams", TEST_POSTGRES_URL);
    expect(rows(streams.stdout)[1]).toEqual(["pg-1", "0", "no"]);
    const wrong = await sluice("events", "--schema", "Bad-Schema", "streams", TEST_POSTGRES_URL);
    expect(wrong.stderr).toMatch(/SLUICE_VALIDATION: --schema: expected a schema name/);
  });
});
