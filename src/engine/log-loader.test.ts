import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { inspectLog, repairLog } from "./log-inspector.js";
import { LOG_START_FILE, RECOVERY_POINT_FILE } from "./log-loader.js";
import { openLog } from "./log.js";
import { encodeBatch, readBatchHeader } from "./record-batch.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

const DIR = "/m/log";
const RECORDS = 40;

/** Writes RECORDS one-record batches under fsync "always" into ~1 KiB segments. */
async function build(
  end: "clean" | "killed",
  indexIntervalBytes = 4096,
): Promise<SimulatedFileSystem> {
  const fs = new SimulatedFileSystem(3);
  const log = await openLog(DIR, {
    fs,
    fsync: "always",
    segmentBytes: 1024,
    maintenanceIntervalMs: 0,
    indexIntervalBytes,
  });
  for (let i = 0; i < RECORDS; i++)
    await log.append([{ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`.padEnd(100, ".")) }]);
  if (end === "clean") await log.close();
  else {
    await log.flush();
    log.kill();
  }
  return fs;
}

function segmentFiles(fs: SimulatedFileSystem): string[] {
  return fs
    .list(DIR)
    .filter((n) => n.endsWith(".log"))
    .map((n) => `${DIR}/${n}`);
}

/**
 * Start positions of the batches in a segment file, and where the last one ends: the zeros
 * written ahead of the appends under fsync "always" may follow it (a killed log keeps them).
 */
function batchStarts(bytes: Buffer): { starts: number[]; end: number } {
  const starts: number[] = [];
  let at = 0;
  while (at < bytes.length && !bytes.subarray(at).every((b) => b === 0)) {
    starts.push(at);
    const header = readBatchHeader(bytes, at);
    if (isSluiceError(header)) throw header;
    at += header.sizeBytes;
  }
  return { starts, end: at };
}

type Damage = "flip" | "cut" | "cut-at-boundary" | "zero" | "garbage" | "swap";

/** Damages batch `index` (negative: from the end) of a segment file. */
function damage(fs: SimulatedFileSystem, file: string, index: number, kind: Damage): void {
  const bytes = Buffer.from(fs.rawFile(file));
  const { starts, end: batchesEnd } = batchStarts(bytes);
  const i = index < 0 ? starts.length + index : index;
  const start = starts[i]!;
  const end = starts[i + 1] ?? batchesEnd;
  let out = bytes;
  if (kind === "flip") bytes[start + 70]! ^= 0x04;
  else if (kind === "cut") out = bytes.subarray(0, start + 30);
  else if (kind === "cut-at-boundary") out = bytes.subarray(0, start);
  else if (kind === "zero") bytes.fill(0, start, index === -1 ? bytes.length : end);
  else if (kind === "garbage") for (let p = start + 20; p < end; p++) bytes[p] = (p * 131) & 0xff;
  else {
    const next = starts[i + 2] ?? batchesEnd;
    out = Buffer.concat([
      bytes.subarray(0, start),
      bytes.subarray(end, next),
      bytes.subarray(start, end),
      bytes.subarray(next),
    ]);
  }
  fs.setRawFile(file, Buffer.from(out));
}

type Outcome = "opens" | "truncates" | "refuses";

async function outcome(
  fs: SimulatedFileSystem,
): Promise<{ outcome: Outcome; end?: number; message?: string }> {
  try {
    const log = await openLog(DIR, { fs, maintenanceIntervalMs: 0 });
    const end = log.logEndOffset;
    const readable = log.read(log.logStartOffset, { maxRecords: 1000 });
    // Whatever opens reads back contiguously and intact, with no offset given out twice.
    expect(readable.map((r) => r.offset)).toEqual(
      Array.from({ length: end - log.logStartOffset }, (_, k) => log.logStartOffset + k),
    );
    for (const r of readable) expect(r.value!.toString()).toBe(`v${r.offset}`.padEnd(100, "."));
    await log.close();
    return { outcome: end === RECORDS ? "opens" : "truncates", end };
  } catch (error) {
    if (!isSluiceError(error, "SLUICE_CORRUPT")) throw error;
    return { outcome: "refuses", message: error.message };
  }
}

interface Case {
  readonly name: string;
  readonly end: "clean" | "killed";
  readonly at: (files: string[]) => { file: string; batch: number };
  readonly kinds: Partial<Record<Damage, Outcome>>;
  /** Moves the recovery point to the base of the last sealed segment (a roll not yet checkpointed). */
  readonly recoveryPointAtLastSealed?: boolean;
}

const active = (files: string[]) => files[files.length - 1]!;
const lastSealed = (files: string[]) => files[files.length - 2]!;

const matrix: Case[] = [
  {
    name: "active segment, last batch, above the recovery point (torn tail)",
    end: "killed",
    at: (f) => ({ file: active(f), batch: -1 }),
    kinds: {
      flip: "truncates",
      cut: "truncates",
      zero: "truncates",
      garbage: "truncates",
      "cut-at-boundary": "truncates",
    },
  },
  {
    name: "active segment, first batch, valid batches after it",
    end: "killed",
    at: (f) => ({ file: active(f), batch: 0 }),
    kinds: { flip: "refuses", zero: "refuses", garbage: "refuses", swap: "refuses" },
  },
  {
    name: "active segment, last batch, below a clean close's recovery point",
    end: "clean",
    at: (f) => ({ file: active(f), batch: -1 }),
    kinds: {
      flip: "refuses",
      cut: "refuses",
      zero: "refuses",
      garbage: "refuses",
      "cut-at-boundary": "refuses",
    },
  },
  {
    name: "sealed segment below the recovery point, middle batch",
    end: "clean",
    at: (f) => ({ file: f[1]!, batch: 2 }),
    kinds: { flip: "refuses", zero: "refuses", garbage: "refuses", swap: "refuses" },
  },
  {
    name: "sealed segment below the recovery point, cut at its last batch boundary",
    end: "clean",
    at: (f) => ({ file: f[1]!, batch: -1 }),
    kinds: { "cut-at-boundary": "refuses", cut: "refuses" },
  },
  {
    name: "sealed segment above the recovery point (roll not yet checkpointed), last batch",
    end: "killed",
    recoveryPointAtLastSealed: true,
    at: (f) => ({ file: lastSealed(f), batch: -1 }),
    // A flipped bit or garbage is damage to written data; a short or zero tail is a write that
    // never reached the device, and nothing after it was acknowledged: the log is cut there.
    kinds: {
      flip: "refuses",
      garbage: "refuses",
      "cut-at-boundary": "truncates",
      cut: "truncates",
      zero: "truncates",
    },
  },
];

describe("recovery against a corruption matrix", () => {
  for (const c of matrix) {
    for (const [kind, expected] of Object.entries(c.kinds) as Array<[Damage, Outcome]>) {
      it(`${c.name}: ${kind} -> ${expected}`, async () => {
        const fs = await build(c.end);
        const files = segmentFiles(fs);
        expect(files.length).toBeGreaterThan(3);
        if (c.recoveryPointAtLastSealed === true) {
          const base = Number(lastSealed(files).split("/").pop()!.slice(0, 20));
          fs.setRawFile(`${DIR}/${RECOVERY_POINT_FILE}`, Buffer.from(String(base)));
        }
        const { file, batch } = c.at(files);
        damage(fs, file, batch, kind);
        const result = await outcome(fs);
        expect(result.outcome, result.message).toBe(expected);
        if (expected === "refuses") {
          // The refusal names the segment, the byte and the offset, and says how to repair.
          expect(result.message).toMatch(
            /segment \/m\/log\/\d{20}\.log at byte \d+ \(offset \d+\)/,
          );
          expect(result.message).toContain("sluice log repair");
          // verify sees it, and repair makes the log open with every intact record.
          const damaged = inspectLog(DIR, {}, fs).flatMap((r) => r.corruptions);
          expect(damaged.length).toBeGreaterThan(0);
          await repairLog(DIR, fs);
          const log = await openLog(DIR, { fs, maintenanceIntervalMs: 0 });
          expect(log.logEndOffset).toBeGreaterThanOrEqual(RECORDS - 1);
          await log.close();
        }
      });
    }
  }

  it("a gap where a middle segment is missing is refused, naming the offsets", async () => {
    const fs = await build("clean");
    const files = segmentFiles(fs);
    fs.unlink(files[2]!);
    const result = await outcome(fs);
    expect(result.outcome).toBe("refuses");
    expect(result.message).toMatch(/a gap in the log: .* the next one starts at \d+/);
    const report = inspectLog(DIR, {}, fs);
    expect(report.flatMap((r) => r.corruptions).map((c) => c.kind)).toEqual(["gap"]);
    const repaired = await repairLog(DIR, fs);
    expect(repaired.missingOffsets).toHaveLength(1);
    // After repair the lost offsets stay taken: the next append does not reuse them.
    const log = await openLog(DIR, { fs, maintenanceIntervalMs: 0 });
    expect(log.logEndOffset).toBe(RECORDS);
    await log.close();
  });

  it("a garbled recovery point is ignored (everything is scanned), a log start checkpoint keeps its meaning", async () => {
    const fs = await build("clean");
    fs.setRawFile(`${DIR}/${RECOVERY_POINT_FILE}`, Buffer.from("\u0000garbage"));
    expect((await outcome(fs)).outcome).toBe("opens");
    fs.setRawFile(`${DIR}/${LOG_START_FILE}`, Buffer.from("12"));
    const log = await openLog(DIR, { fs, maintenanceIntervalMs: 0 });
    expect(log.logStartOffset).toBe(12);
    await log.close();
  });

  it("damaged, truncated and swapped index entries are rebuilt, and reads stay right", async () => {
    const fs = await build("clean", 1);
    const files = segmentFiles(fs);
    const index = files[1]!.replace(/\.log$/, ".index");
    const first = Number(files[1]!.split("/").pop()!.slice(0, 20));
    // Swap two entries' positions: entry 1 then points at entry 0's batch.
    const original = Buffer.from(fs.rawFile(index));
    const entries = Buffer.from(original);
    expect(entries.length).toBeGreaterThanOrEqual(24);
    const a = entries.readInt32BE(12);
    entries.writeInt32BE(entries.readInt32BE(4), 12); // entry 1 now points at entry 0's batch
    entries.writeInt32BE(a, 4);
    fs.setRawFile(index, entries);
    const log = await openLog(DIR, { fs, maintenanceIntervalMs: 0, indexIntervalBytes: 1 });
    for (let o = first; o < first + 4; o++)
      expect(log.read(o, { maxRecords: 1 })[0]!.offset).toBe(o);
    await log.close();
    // An entry in order but pointing inside a batch passes every load-time check: the lookup
    // that uses it checks it against the file and rebuilds.
    const inside = Buffer.from(original);
    inside.writeInt32BE(inside.readInt32BE(12) + 5, 12);
    fs.setRawFile(index, inside);
    const again = await openLog(DIR, { fs, maintenanceIntervalMs: 0, indexIntervalBytes: 1 });
    expect(again.read(first + 1, { maxRecords: 1 })[0]!.offset).toBe(first + 1);
    await again.close();
    fs.setRawFile(index, Buffer.from([1, 2, 3])); // not even a whole entry
    expect((await outcome(fs)).outcome).toBe("opens");
  });

  it("repair never resynchronises on a batch hidden inside a record value", async () => {
    const fs = new SimulatedFileSystem(5);
    const log = await openLog(DIR, { fs, fsync: "always", maintenanceIntervalMs: 0 });
    for (let i = 0; i < 5; i++)
      await log.append([{ value: Buffer.from(`v${i}`.padEnd(100, ".")) }]);
    // A producer hides a valid batch claiming offset 1,000,000 inside its value.
    const hidden = encodeBatch([{ value: Buffer.from("injected") }], {
      baseOffset: 1_000_000,
      defaultTimestamp: Date.now(),
    });
    await log.append([
      { value: Buffer.concat([Buffer.from("prefix"), hidden, Buffer.from("suffix")]) },
    ]);
    log.kill();
    const file = segmentFiles(fs)[0]!;
    damage(fs, file, 5, "flip"); // the batch that carries the hidden one
    // Recovery may not truncate past it silently, nor serve the hidden record.
    const opened = await outcome(fs).catch(() => ({ outcome: "refuses" as const }));
    expect(opened.outcome).not.toBe("opens");
    await repairLog(DIR, fs);
    const repaired = await openLog(DIR, { fs, maintenanceIntervalMs: 0 });
    expect(repaired.logEndOffset).toBeLessThan(1_000_000);
    expect(repaired.read(0).some((r) => r.value?.toString() === "injected")).toBe(false);
    await repaired.close();
  });
});
