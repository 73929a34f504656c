import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Log, openLog } from "../../engine/index.js";
import { systemClock } from "../../time/index.js";
import { AppendCoalescer, type CoalescedRecord } from "./append-coalescer.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function tempLog(): Promise<Log> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-coalescer-"));
  dirs.push(dir);
  return openLog(dir, { fsync: "always", maintenanceIntervalMs: 0 });
}

const records = (...values: string[]): CoalescedRecord[] => values.map((value) => ({ value }));

describe("AppendCoalescer", () => {
  it("appends concurrent calls once, in call order, each resolved with its own offsets", async () => {
    const log = await tempLog();
    let appends = 0;
    const counting = {
      get logEndOffset() {
        return log.logEndOffset;
      },
      appendRawBatch: (...args: Parameters<Log["appendRawBatch"]>) => {
        appends++;
        return log.appendRawBatch(...args);
      },
    } as unknown as Log;
    const coalescer = new AppendCoalescer(counting, systemClock);
    const results = await Promise.all([
      coalescer.append(records("a", "b")),
      coalescer.append(records("c")),
      coalescer.append(records("d", "e", "f")),
    ]);
    expect(appends).toBe(1);
    expect(results.map(({ baseOffset, lastOffset }) => ({ baseOffset, lastOffset }))).toEqual([
      { baseOffset: 0, lastOffset: 1 },
      { baseOffset: 2, lastOffset: 2 },
      { baseOffset: 3, lastOffset: 5 },
    ]);
    const stored = log.read(0, { maxRecords: 10 });
    expect(stored.map((r) => r.value!.toString("utf8"))).toEqual(["a", "b", "c", "d", "e", "f"]);
    // Each caller learns the timestamps its records were stored with.
    expect(results.flatMap((r) => r.timestamps)).toEqual(stored.map((r) => r.timestamp));
    await log.close();
  });

  it("gives records the clock's time, never going back, and a record's own time if later", async () => {
    const log = await tempLog();
    const clock = { now: () => 1_000 } as unknown as typeof systemClock;
    const coalescer = new AppendCoalescer(log, clock);
    const [first, second] = await Promise.all([
      coalescer.append([{ value: "a", timestamp: 5_000 }, { value: "b" }]),
      coalescer.append([{ value: "c" }]),
    ]);
    expect([...first.timestamps, ...second.timestamps]).toEqual([5_000, 5_000, 5_000]);
    expect(log.read(0, { maxRecords: 10 }).map((r) => r.timestamp)).toEqual([5_000, 5_000, 5_000]);
    await log.close();
  });

  it("rejects every caller of a failed append", async () => {
    const log = await tempLog();
    await log.close();
    const coalescer = new AppendCoalescer(log, systemClock);
    const outcomes = await Promise.allSettled([
      coalescer.append(records("a")),
      coalescer.append(records("b")),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
  });
});
