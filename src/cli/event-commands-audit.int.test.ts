import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open } from "../sluice/index.js";
import { cliMain } from "./test-support/cli-build.js";
import type { CliOutcome } from "./test-support/run-cli.js";

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), "sluice-cli-audit-"));
const dataDir = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `sluice events audit <dataDir> ...args`, run in `root` as a user would, in a child process. */
async function audit(...args: string[]): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [cliMain(), "events", "audit", dataDir, ...args],
      { cwd: root },
    );
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as CliOutcome;
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const NOTE = 'a "quoted", | piped\nline';

/** The aggregate the modules export, as JavaScript: a balance and the last note. */
const AGGREGATE = `{
  initialState: () => ({ balance: 0, last: null }),
  evolve: (state, event) => ({
    balance: state.balance + (event.type === "Deposited" ? event.data.amount : -event.data.amount),
    last: event.data.note ?? state.last,
  }),
}`;

beforeAll(async () => {
  const opened = await open(dataDir);
  const store = opened.eventStore;
  await store.appendToStream("acc-1", [
    { type: "Deposited", data: { amount: 10 }, metadata: { user: "ada" } },
  ]);
  await store.appendToStream("acc-2", [{ type: "Deposited", data: { amount: 5 } }]);
  await store.appendToStream("acc-1", [{ type: "Withdrawn", data: { amount: 3, note: NOTE } }]);
  await opened.close();
  // The same aggregate as each kind of module: ES module, a .js one with no package.json
  // around it (ES syntax, named export), TypeScript (which tsx, with no package.json saying
  // otherwise, runs as CommonJS: its default export is under module.exports.default), CommonJS.
  writeFileSync(join(root, "account.mjs"), `export default ${AGGREGATE};\n`);
  writeFileSync(join(root, "named.js"), `export const account = ${AGGREGATE};\n`);
  writeFileSync(
    join(root, "account.ts"),
    `interface State { readonly balance: number; readonly last: string | null }\n` +
      `interface Event { readonly type: string; readonly data: { amount: number; note?: string } }\n` +
      `const account = {\n` +
      `  initialState: (): State => ({ balance: 0, last: null }),\n` +
      `  evolve: (state: State, event: Event): State => ({\n` +
      `    balance: state.balance + (event.type === "Deposited" ? event.data.amount : -event.data.amount),\n` +
      `    last: event.data.note ?? state.last,\n` +
      `  }),\n` +
      `};\n` +
      `export default account;\n`,
  );
  writeFileSync(join(root, "account.cjs"), `module.exports = ${AGGREGATE};\n`);
  writeFileSync(
    join(root, "no-evolve.mjs"),
    `export default { initialState: () => ({}) };\nexport const account = ${AGGREGATE};\n`,
  );
  writeFileSync(
    join(root, "throws.mjs"),
    `export default { initialState: () => ({}), evolve() { throw new Error("no such account"); } };\n`,
  );
});

/** Each event over $all: stream, version, the state before and after it. */
const CHANGES = [
  ["acc-1", 0, { balance: 0, last: null }, { balance: 10, last: null }],
  ["acc-2", 0, { balance: 0, last: null }, { balance: 5, last: null }],
  ["acc-1", 1, { balance: 10, last: null }, { balance: 7, last: NOTE }],
];

/** Each record of a CSV text (RFC 4180: quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      records.push([...record, field]);
      record = [];
      field = "";
      i++;
    } else field += c;
  }
  return records;
}

/** Stream, version, before and after of each row of a table whose first row names the columns. */
function changes(table: string[][]): unknown[][] {
  const [header, ...body] = table;
  const at = (name: string): number => header!.indexOf(name);
  return body.map((row) => [
    row[at("stream")],
    Number(row[at("version")]),
    JSON.parse(row[at("before")]!) as unknown,
    JSON.parse(row[at("after")]!) as unknown,
  ]);
}

describe("sluice events audit --aggregate", () => {
  it("shows the state before and after each event as JSON, CSV and Markdown", async () => {
    const json = await audit("--format", "json", "--aggregate", "./account.mjs");
    expect(json.code, json.stderr).toBe(0);
    const entries = JSON.parse(json.stdout) as {
      stream: string;
      version: number;
      who: string | null;
      before: unknown;
      after: unknown;
    }[];
    expect(entries.map((e) => [e.stream, e.version, e.before, e.after])).toEqual(CHANGES);
    expect(entries.map((e) => e.who)).toEqual(["ada", null, null]);

    const csv = await audit("--format", "csv", "--aggregate", join(root, "account.mjs"));
    expect(csv.code, csv.stderr).toBe(0);
    const records = parseCsv(csv.stdout);
    expect(records[0]).toEqual([
      "position",
      "time",
      "stream",
      "version",
      "type",
      "who",
      "data",
      "metadata",
      "before",
      "after",
    ]);
    expect(changes(records)).toEqual(CHANGES);

    const markdown = await audit("--aggregate", "account.mjs");
    expect(markdown.code, markdown.stderr).toBe(0);
    const rows = markdown.stdout
      .trimEnd()
      .split("\n")
      .filter((_, i) => i !== 1)
      .map((row) =>
        row
          .slice(2, -2)
          .split(/ (?<!\\)\| /)
          .map((cell) => cell.replace(/\\\|/g, "|")),
      );
    expect(changes(rows)).toEqual(CHANGES);
  });

  it("takes a named export with --aggregate-export, from .js, .ts and CommonJS modules, and filters as without", async () => {
    const named = await audit(
      "--format",
      "json",
      "--aggregate",
      "named.js",
      "--aggregate-export",
      "account",
    );
    const typescript = await audit(
      "--format",
      "json",
      "--stream",
      "acc-1",
      "--aggregate",
      "account.ts",
    );
    const commonJs = await audit(
      "--format",
      "json",
      "--type",
      "Withdrawn",
      "--aggregate",
      "account.cjs",
    );
    const states = (outcome: CliOutcome): unknown[][] => {
      expect(outcome.code, outcome.stderr).toBe(0);
      return (
        JSON.parse(outcome.stdout) as {
          stream: string;
          version: number;
          before: unknown;
          after: unknown;
        }[]
      ).map((e) => [e.stream, e.version, e.before, e.after]);
    };
    expect(states(named)).toEqual(CHANGES);
    expect(states(typescript)).toEqual([CHANGES[0], CHANGES[2]]);
    // The state before the one Withdrawn event is folded from the events before it.
    expect(states(commonJs)).toEqual([CHANGES[2]]);
  });

  it("leaves the state columns out without --aggregate", async () => {
    const json = await audit("--format", "json");
    expect(json.code, json.stderr).toBe(0);
    for (const entry of JSON.parse(json.stdout) as object[]) {
      expect(entry).not.toHaveProperty("before");
      expect(entry).not.toHaveProperty("after");
    }
    const csv = await audit("--format", "csv");
    expect(csv.stdout.split("\r\n")[0]).toBe("position,time,stream,version,type,who,data,metadata");
  });

  it("refuses a module it cannot load or that exports no aggregate in one line naming --aggregate", async () => {
    const outcomes = await Promise.all([
      audit("--aggregate", "missing.mjs"),
      audit("--aggregate", "no-evolve.mjs"),
      audit("--aggregate", "account.mjs", "--aggregate-export", "nope"),
      audit("--aggregate", "throws.mjs"),
      audit("--aggregate-export", "account"),
    ]);
    expect(outcomes.map((o) => [o.code, o.stdout, o.stderr])).toEqual([
      [2, "", `sluice: SLUICE_NOT_FOUND: --aggregate: no module at ${join(root, "missing.mjs")}\n`],
      [
        2,
        "",
        `sluice: SLUICE_VALIDATION: --aggregate: expected an aggregate (initialState and evolve functions) as the default export of ${join(root, "no-evolve.mjs")}, but it has no evolve function; --aggregate-export account names one it has\n`,
      ],
      [
        2,
        "",
        `sluice: SLUICE_VALIDATION: --aggregate: expected an aggregate (initialState and evolve functions) as the export "nope" of ${join(root, "account.mjs")}, but there is none\n`,
      ],
      [
        2,
        "",
        `sluice: SLUICE_VALIDATION: --aggregate: evolve, on Deposited at acc-1@0, of ${join(root, "throws.mjs")} threw: no such account\n`,
      ],
      [
        1,
        "",
        "sluice: error: --aggregate-export names an export of --aggregate <module>: give both\n",
      ],
    ]);
  });
});
