import { describe, expect, it } from "vitest";
import { VirtualClock } from "../time/index.js";
import { compactLog } from "./compactor.js";
import { type Log, openLog } from "./log.js";
import type { LogOptions } from "./log-options.js";
import { SimulatedFileSystem, seededRandom } from "./simulated-file-system.js";

interface ModelRecord {
  readonly key: string | null;
  readonly value: string | null;
}

/**
 * Model-based test: random appends, reads, rolls, retention, compaction, clean reopens and
 * crashes, checked after every step against a plain Map of offset -> record.
 */
async function runModel(seed: number, steps: number): Promise<void> {
  const random = seededRandom(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const clock = new VirtualClock(1_000_000);
  const fs = new SimulatedFileSystem(seed);
  const options: LogOptions = {
    fs,
    clock,
    fsync: "always",
    segmentBytes: 1024 + pick(4096),
    indexIntervalBytes: 64 + pick(512),
    maintenanceIntervalMs: 0,
    deleteRetentionMs: 10_000,
    cleanupPolicy: "compact,delete",
  };
  const dir = "/model/log";
  let log: Log = await openLog(dir, options);
  const model = new Map<number, ModelRecord>();
  let start = 0;
  let end = 0;
  const trace: string[] = [];

  const check = (): void => {
    expect(log.logStartOffset, trace.join("\n")).toBe(start);
    expect(log.logEndOffset, trace.join("\n")).toBe(end);
    const actual = log.read(start, { maxRecords: 1_000_000, maxBytes: 1 << 30 });
    const expected = [...model.entries()].filter(([o]) => o >= start).sort((a, b) => a[0] - b[0]);
    expect(
      actual.map((r) => [r.offset, r.key?.toString() ?? null, r.value?.toString() ?? null]),
      trace.join("\n"),
    ).toEqual(expected.map(([o, r]) => [o, r.key, r.value]));
  };

  for (let step = 0; step < steps; step++) {
    const op = pick(100);
    if (op < 55) {
      const count = 1 + pick(8);
      const batch = Array.from({ length: count }, () => {
        const key = random() < 0.2 ? null : `k${pick(12)}`;
        const value =
          key !== null && random() < 0.1
            ? null
            : `v${step}-${pick(1_000_000)}`.padEnd(pick(120), "x");
        return { key, value };
      });
      trace.push(`append ${count}`);
      const result = await log.append(
        batch.map((r) => ({
          key: r.key === null ? null : Buffer.from(r.key),
          value: r.value === null ? null : Buffer.from(r.value),
        })),
      );
      expect(result.baseOffset).toBe(end);
      batch.forEach((r, i) => model.set(end + i, r));
      end += count;
      await clock.advance(pick(2000));
    } else if (op < 65) {
      if (end > start) {
        const from = start + pick(end - start);
        const max = 1 + pick(20);
        trace.push(`read ${from} ${max}`);
        const got = log.read(from, { maxRecords: max });
        const want = [...model.keys()]
          .filter((o) => o >= from)
          .sort((a, b) => a - b)
          .slice(0, max);
        expect(
          got.map((r) => r.offset),
          trace.join("\n"),
        ).toEqual(want);
      }
    } else if (op < 72) {
      trace.push("roll");
      log.roll();
    } else if (op < 76) {
      const to = start + pick(end - start + 1);
      trace.push(`deleteRecordsBefore ${to}`);
      await log.deleteRecordsBefore(to);
      // The start may land past `to` only over offsets that no longer hold records.
      expect(log.logStartOffset).toBeGreaterThanOrEqual(Math.max(start, to));
      for (const o of model.keys())
        if (o >= to) expect(o).toBeGreaterThanOrEqual(log.logStartOffset);
      start = log.logStartOffset;
      for (const o of [...model.keys()]) if (o < start) model.delete(o);
    } else if (op < 84) {
      trace.push("compact");
      const before = new Map(model);
      await compactLog(log);
      const present = new Map(
        log.read(start, { maxRecords: 1_000_000, maxBytes: 1 << 30 }).map((r) => [r.offset, r]),
      );
      const newest = new Map<string, number>();
      for (const [o, r] of before)
        if (r.key !== null && o >= start) newest.set(r.key, Math.max(newest.get(r.key) ?? -1, o));
      for (const [o, r] of before) {
        if (o < start) continue;
        const kept = present.get(o);
        if (kept !== undefined) {
          expect(kept.value?.toString() ?? null).toBe(r.value); // survivors are unchanged
        } else {
          // Only superseded records or expired tombstones may go.
          expect(
            r.key !== null && (newest.get(r.key) !== o || r.value === null),
            `${o} dropped\n${trace.join("\n")}`,
          ).toBe(true);
          model.delete(o);
        }
      }
    } else if (op < 92) {
      trace.push("close+reopen");
      await log.close();
      log = await openLog(dir, options);
    } else {
      trace.push("crash+reopen");
      log.kill();
      fs.crash();
      log = await openLog(dir, options);
      // fsync "always": every acknowledged append was synced, so nothing may be missing.
    }
    check();
  }
  await log.close();
}

describe("Log against a model", () => {
  for (let seed = 1; seed <= Number(process.env.MODEL_SEEDS ?? 12); seed++) {
    it(`matches the model over random operations (seed ${seed})`, async () => {
      await runModel(seed, 150);
    });
  }
});
