import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { VirtualClock } from "../time/virtual-clock.js";
import { auditTrail, formatAudit } from "./audit.js";
import { EmbeddedEventStore } from "./embedded-event-store.js";
import { bankAccount } from "./test-support/bank-account.js";

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
