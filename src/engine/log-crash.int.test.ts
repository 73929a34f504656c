import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  appendFileSync,
  unlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openLog } from "./log.js";
import { seededRandom } from "./simulated-file-system.js";
import { WarmWorker } from "./test-support/warm-worker.js";

const writerScript = fileURLToPath(new URL("./test-support/crash-writer.ts", import.meta.url));
const dirs: string[] = [];
/** Every writer started: one still warming when a test fails is killed here. */
const writers: WarmWorker[] = [];
afterAll(() => {
  for (const w of writers) w.child.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-crash-"));
  dirs.push(dir);
  return dir;
}

interface Acked {
  readonly offset: number;
  readonly label: string;
}

/** A writer that loads its modules now and waits for `runWriterUntilKilled` to let it write. */
function warmWriter(dir: string, writerId: string): WarmWorker {
  const writer = new WarmWorker(writerScript, [dir, writerId, "8"]);
  writers.push(writer);
  return writer;
}

/**
 * Lets a warmed writer go, lets it run until `killAfterMs` after it is writing and `ready(dir)`
 * holds, SIGKILLs it, and returns what it acknowledged.
 */
async function runWriterUntilKilled(
  writer: WarmWorker,
  dir: string,
  killAfterMs: number,
  ready: (dir: string) => boolean = () => true,
): Promise<Acked[]> {
  await writer.start();
  // Kill only once it is writing, at a random moment after that.
  await writer.waitFor(() => writer.output.includes("ack ") && ready(dir), "early");
  await Promise.race([sleep(killAfterMs), writer.closed]);
  if (writer.hasEnded) throw new Error(`writer exited before it was killed: ${writer.errors}`);
  await writer.kill();
  const acked: Acked[] = [];
  // Only complete lines count: a line cut by the kill was never fully reported.
  for (const line of writer.output.split("\n").slice(0, -1)) {
    if (!line.startsWith("ack ")) continue;
    const [, base, labels] = line.split(" ");
    labels!.split(",").forEach((label, i) => acked.push({ offset: Number(base) + i, label }));
  }
  return acked;
}

/**
 * About where the batches of a segment file end (the writer keeps zeros ahead of its appends;
 * a batch's own last bytes may be zeros too, which a cut inside the last batch can ignore).
 */
function batchesEnd(file: Buffer): number {
  let end = file.length;
  while (end > 0 && file[end - 1] === 0) end--;
  return end;
}

function expectIntact(value: Buffer | null, label?: string): void {
  const [got, digest] = value!.toString().split("|");
  expect(createHash("sha256").update(got!).digest("hex")).toBe(digest);
  if (label !== undefined) expect(got).toBe(label);
}

/** Checks the log after a kill; returns its record count and the zeros recovery kept. */
async function verify(
  dir: string,
  acked: readonly Acked[],
): Promise<{ total: number; preallocatedBytes: number }> {
  const log = await openLog(dir, { maintenanceIntervalMs: 0 });
  try {
    const all = log.read(0, { maxRecords: 10_000_000, maxBytes: 1 << 30 });
    all.forEach((r, i) => {
      expect(r.offset).toBe(i); // no holes, no duplicates
      expectIntact(r.value);
    });
    for (const a of acked) expectIntact(all[a.offset]?.value ?? null, a.label);
    return { total: all.length, preallocatedBytes: log.recovery.preallocatedBytes };
  } finally {
    await log.close();
  }
}

describe("crash safety on the real disk (SIGKILL)", () => {
  it("keeps every acknowledged record intact across 24 kills at random moments", async () => {
    const dir = tempDir();
    const random = seededRandom(Date.now() % 1_000_000);
    const allAcked: Acked[] = [];
    let killedWithZerosAhead = 0;
    // The next round's writer loads while this round's runs and is checked.
    let next = warmWriter(dir, "r0");
    for (let round = 0; round < 24; round++) {
      const writer = next;
      if (round + 1 < 24) next = warmWriter(dir, `r${round + 1}`);
      const acked = await runWriterUntilKilled(writer, dir, 20 + Math.floor(random() * 300));
      expect(acked.length).toBeGreaterThan(0);
      for (const a of acked) allAcked.push(a); // spreading 100k+ arguments overflows the stack
      const { total, preallocatedBytes } = await verify(dir, allAcked);
      if (preallocatedBytes > 0) killedWithZerosAhead++;
      const highestAcked = allAcked.reduce((max, a) => Math.max(max, a.offset), -1);
      expect(total).toBeGreaterThanOrEqual(highestAcked + 1);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith(".log")).length).toBeGreaterThan(1); // it rolled
    // Kills landed while the active segment ran ahead in zeros, and recovery kept them.
    expect(killedWithZerosAhead).toBeGreaterThan(0);
  }, 300_000); // 24 child processes: each starts a TypeScript loader, slow on a loaded machine

  it("recovers from a torn tail, garbage after the tail and a missing index", async () => {
    const dir = tempDir();
    // Kill only once the first segment is sealed: its index written and the recovery point past it.
    const sealed = (d: string): boolean => {
      try {
        return Number(readFileSync(join(d, "recovery-point"), "utf8")) > 0;
      } catch {
        return false;
      }
    };
    const acked = await runWriterUntilKilled(warmWriter(dir, "t"), dir, 200, sealed);
    const segments = readdirSync(dir)
      .filter((f) => f.endsWith(".log"))
      .sort();
    expect(segments.length).toBeGreaterThan(1);
    const last = join(dir, segments[segments.length - 1]!);
    const size = batchesEnd(readFileSync(last));
    expect(size).toBeGreaterThan(0);
    // A write torn at a random byte of the last batch region, then garbage after it.
    const cut = Math.max(0, size - 1 - Math.floor(Math.random() * Math.min(size, 200)));
    truncateSync(last, cut);
    appendFileSync(last, Buffer.from("\u0000\u0001garbage that is not a batch".repeat(3)));
    const firstIndex = join(dir, segments[0]!.replace(".log", ".index"));
    expect(existsSync(firstIndex)).toBe(true);
    unlinkSync(firstIndex);
    const log = await openLog(dir, { maintenanceIntervalMs: 0 });
    const end = log.logEndOffset;
    expect(log.recovery.truncatedBytes).toBeGreaterThan(0);
    // The first segment was below the recovery point, so it was trusted, found without its
    // index, and rescanned to rebuild it. Every other segment below the recovery point had its
    // indexes written before the recovery point moved past it, so this is the only one.
    expect(log.recovery.rebuiltIndexes).toBe(1);
    expect(log.recovery.scannedSegments).toBeGreaterThanOrEqual(2);
    const firstSegment = log.segmentInfos()[0]!;
    for (const offset of [firstSegment.baseOffset, firstSegment.nextOffset - 1])
      expect(log.read(offset, { maxRecords: 1 })[0]!.offset).toBe(offset);
    await log.close();
    // Everything acknowledged before the cut point is intact; nothing corrupt is readable.
    const surviving = acked.filter((a) => a.offset < end);
    expect(surviving.length).toBeGreaterThan(0);
    await verify(dir, surviving);
  });
});
