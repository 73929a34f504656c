import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { VirtualClock } from "../time/virtual-clock.js";
import type { Aggregate } from "./aggregates/aggregate.js";
import { type AuditEntry, auditTrail, formatAudit } from "./audit.js";
import { EmbeddedEventStore } from "./embedded-event-store.js";
import { bankAccount } from "./test-support/bank-account.js";

const COLUMNS_WITHOUT_STATE = [
  "position",
  "time",
  "stream",
  "version",
  "type",
  "who",
  "data",
  "metadata",
];

let dir: string;
let clock: VirtualClock;
let store: EmbeddedEventStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-audit-"));
  clock = new VirtualClock(Date.UTC(2026, 2, 1));
  store = await EmbeddedEventStore.open(dir, { clock, fsync: "never" });
  await store.appendToStream("acc-1", [
    { type: "Deposited", data: { amount: 10 }, metadata: { user: "ada" } },
  ]);
  await clock.advance(60_000);
  await store.appendToStream("acc-2", [
    { type: "Deposited", data: { amount: 5 }, metadata: { actor: "bob" } },
  ]);
  await clock.advance(60_000);
  await store.appendToStream("acc-1", [
    { type: "Withdrawn", data: { amount: 3, note: 'a "quoted", | piped\nline' } },
  ]);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it("reports who, what, when and the state change for a stream", async () => {
  const entries = await auditTrail(store, { stream: "acc-1", aggregate: bankAccount });
  expect(entries.map((e) => [e.type, e.who, e.time])).toEqual([
    ["Deposited", "ada", "2026-03-01T00:00:00.000Z"],
    ["Withdrawn", null, "2026-03-01T00:02:00.000Z"],
  ]);
  expect(entries[1]!.before).toMatchObject({ balance: 10 });
  expect(entries[1]!.after).toMatchObject({ balance: 7 });
});

it("filters by type and by time range over $all", async () => {
  expect((await auditTrail(store, { type: "Deposited" })).map((e) => e.stream)).toEqual([
    "acc-1",
    "acc-2",
  ]);
  const t = Date.UTC(2026, 2, 1, 0, 1);
  expect((await auditTrail(store, { fromTime: t, toTime: t })).map((e) => e.who)).toEqual(["bob"]);
});

it("renders JSON, CSV and Markdown that survive quotes, commas, pipes and newlines", async () => {
  const entries = await auditTrail(store, { stream: "acc-1" });
  expect(JSON.parse(formatAudit(entries, "json"))).toEqual(JSON.parse(JSON.stringify(entries)));
  const csv = formatAudit(entries, "csv");
  expect(csv.split("\r\n")[0]).toBe("position,time,stream,version,type,who,data,metadata");
  expect(csv).toContain('"{""amount"":3,""note"":""a \\""quoted\\"", | piped\\nline""}"');
  const md = formatAudit(entries, "markdown").split("\n");
  expect(md[0]).toBe("| position | time | stream | version | type | who | data | metadata |");
  expect(md).toHaveLength(5);
  expect(md[3]).toContain("\\|");
});

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

/** The cells of a Markdown table row, unescaped. */
const markdownCells = (row: string): string[] =>
  row
    .slice(2, -2)
    .split(/ (?<!\\)\| /)
    .map((cell) => cell.replace(/\\\|/g, "|"));

/** A balance and the last note: a state whose JSON holds commas, quotes, a pipe and a newline. */
const noted: Aggregate<{ balance: number; last: string | null }, never> = {
  initialState: () => ({ balance: 0, last: null }),
  evolve(state, event) {
    const data = event.data as { amount: number; note?: string };
    return {
      balance: state.balance + (event.type === "Deposited" ? data.amount : -data.amount),
      last: data.note ?? state.last,
    };
  },
  decide: () => [],
};

const NOTE = 'a "quoted", | piped\nline';
/** Each event of the store above (over $all) with the state before and after it. */
const CHANGES = [
  ["acc-1", 0, { balance: 0, last: null }, { balance: 10, last: null }],
  ["acc-2", 0, { balance: 0, last: null }, { balance: 5, last: null }],
  ["acc-1", 1, { balance: 10, last: null }, { balance: 7, last: NOTE }],
];

it("renders the state before and after each event in JSON, CSV and Markdown", async () => {
  const entries = await auditTrail(store, { aggregate: noted });

  const json = JSON.parse(formatAudit(entries, "json")) as AuditEntry[];
  expect(json.map((e) => [e.stream, e.version, e.before, e.after])).toEqual(CHANGES);

  const csv = parseCsv(formatAudit(entries, "csv"));
  expect(csv[0]).toEqual([...COLUMNS_WITHOUT_STATE, "before", "after"]);
  expect(csv).toHaveLength(4);
  expect(
    csv
      .slice(1)
      .map((r) => [r[2], Number(r[3]), JSON.parse(r[8]!) as unknown, JSON.parse(r[9]!) as unknown]),
  ).toEqual(CHANGES);
  // A state's JSON is quoted, its quotes doubled.
  expect(formatAudit(entries, "csv").split("\r\n")[3]).toMatch(
    /,"{""balance"":10,""last"":null}","{""balance"":7,""last"":""a \\""quoted\\"", \| piped\\nline""}"$/,
  );

  const md = formatAudit(entries, "markdown").trimEnd().split("\n");
  expect(md[0]).toBe(`| ${[...COLUMNS_WITHOUT_STATE, "before", "after"].join(" | ")} |`);
  expect(md).toHaveLength(5);
  expect(
    md
      .slice(2)
      .map(markdownCells)
      .map((r) => [r[2], Number(r[3]), JSON.parse(r[8]!) as unknown, JSON.parse(r[9]!) as unknown]),
  ).toEqual(CHANGES);
});

it("shows a state of undefined as null, and refuses an aggregate without evolve or a state that is not JSON", async () => {
  const lazy: Aggregate<{ n: number } | undefined, never> = {
    initialState: () => undefined,
    evolve: (state) => ({ n: (state?.n ?? 0) + 1 }),
    decide: () => [],
  };
  const [first] = await auditTrail(store, { stream: "acc-1", aggregate: lazy });
  expect([first!.before, first!.after]).toEqual([null, { n: 1 }]);

  await expect(
    auditTrail(store, { aggregate: { initialState: () => 0 } as never }),
  ).rejects.toMatchObject({
    code: "SLUICE_VALIDATION",
    field: "aggregate",
    message:
      "aggregate: expected an aggregate with initialState and evolve functions, got an object",
  });
  const bigint: Aggregate<unknown, never> = {
    initialState: () => ({}),
    evolve: () => ({ big: 1n }),
    decide: () => [],
  };
  const notJson = await auditTrail(store, { stream: "acc-1", aggregate: bigint }).catch(
    (error: unknown) => error,
  );
  expect(notJson).toMatchObject({ code: "SLUICE_VALIDATION", field: "aggregate" });
  expect((notJson as Error).message).toMatch(
    /^aggregate: the state after acc-1@0 is not JSON \(.*BigInt/,
  );
});
