import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../engine/simulated-file-system.js";
import { WarmWorker } from "../../engine/test-support/warm-worker.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { IsolationLevel } from "./topic-consumer.js";

const workerScript = fileURLToPath(
  new URL("./test-support/topic-crash-worker.ts", import.meta.url),
);
const ROUNDS = 20;
const PARTITIONS = 3;
const dirs: string[] = [];
/** Every worker started: one still warming when the test fails is killed here. */
const workers: WarmWorker[] = [];
afterAll(() => {
  for (const w of workers) w.child.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A worker for `round` that loads its modules now and waits for `runUntilKilled`. */
function warmWorker(dir: string, round: number): WarmWorker {
  const worker = new WarmWorker(workerScript, [dir, String(round)]);
  workers.push(worker);
  return worker;
}

/**
 * Lets a warmed worker go until it has acknowledged some of everything (and, with
 * `afterRebalance`, until a member of the group has left), waits `delayMs`, SIGKILLs it.
 */
async function runUntilKilled(
  worker: WarmWorker,
  delayMs: number,
  afterRebalance: boolean,
): Promise<string[]> {
  await worker.start();
  await worker.waitFor(
    () => ["\nack ", "\ncommit ", "\noffset "].every((s) => worker.output.includes(s)),
    "early",
  );
  if (afterRebalance)
    await worker.waitFor(() => worker.output.includes("\nrebalance\n"), "rebalance");
  await Promise.race([sleep(delayMs), worker.closed]);
  if (worker.hasEnded) throw new Error(`worker exited before it was killed: ${worker.errors}`);
  await worker.kill();
  // A line cut short by the kill was never fully reported.
  return worker.output.split("\n").slice(0, -1);
}

async function readAll(service: EmbeddedTopicService, isolationLevel: IsolationLevel) {
  const reader = service.consumer({ isolationLevel, autoOffsetReset: "earliest" });
  await reader.assign(
    Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: "crash", partition })),
  );
  const labels: string[] = [];
  for (;;) {
    const got = await reader.poll();
    if (got.length === 0) break;
    for (const r of got) labels.push(r.value!.toString());
  }
  await reader.close();
  return labels;
}

function counts(labels: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of labels) out.set(l, (out.get(l) ?? 0) + 1);
  return out;
}

describe("topics under SIGKILL (fsync always)", () => {
  it(`${ROUNDS} rounds: acknowledged records there once, offsets never back, aborted never visible`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-topic-crash-"));
    dirs.push(dir);
    const random = seededRandom(15);
    const acked = new Set<string>();
    const committedTx = new Set<string>();
    const aborted = new Set<string>();
    const highestCommit = new Map<number, number>();
    const lastSeenOffset = new Map<number, number>();
    let killedMidRebalance = 0;
    // The next round's worker loads while this round's runs and is checked.
    let next = warmWorker(dir, 0);
    for (let round = 0; round < ROUNDS; round++) {
      const worker = next;
      if (round + 1 < ROUNDS) next = warmWorker(dir, round + 1);
      // Every other round is killed within 5 ms of a member leaving, while the group rebalances.
      const afterRebalance = round % 2 === 1;
      const delay = Math.floor(random() * (afterRebalance ? 5 : 150));
      const lines = await runUntilKilled(worker, delay, afterRebalance);
      const group = lines.filter((line) => line === "rebalance" || line === "settled");
      if (group[group.length - 1] === "rebalance") killedMidRebalance++;
      for (const line of lines) {
        const [kind, rest = ""] = line.split(" ", 2);
        if (kind === "ack") acked.add(rest);
        else if (kind === "commit") rest.split(",").forEach((l) => committedTx.add(l));
        else if (kind === "abort") rest.split(",").forEach((l) => aborted.add(l));
        else if (kind === "offset") {
          const [partition, offset] = line.split(" ").slice(1).map(Number) as [number, number];
          highestCommit.set(partition, Math.max(highestCommit.get(partition) ?? 0, offset));
        }
      }
      const service = await EmbeddedTopicService.open(dir, { fsync: "never" });
      try {
        const all = counts(await readAll(service, "read_uncommitted"));
        const committed = counts(await readAll(service, "read_committed"));
        for (const [label, n] of all) expect(n, `${label} stored ${n} times`).toBe(1);
        for (const label of acked) expect(all.get(label), `acknowledged ${label}`).toBe(1);
        for (const label of committedTx)
          expect(committed.get(label), `committed transaction record ${label}`).toBe(1);
        for (const label of aborted)
          expect(committed.has(label), `aborted ${label} visible to read_committed`).toBe(false);
        const offsets = await service.admin.listGroupOffsets("cg");
        for (const [partition, highest] of highestCommit) {
          const stored = offsets.find((o) => o.partition === partition)?.offset ?? 0;
          expect(stored, `committed offset of partition ${partition}`).toBeGreaterThanOrEqual(
            highest,
          );
          expect(stored).toBeGreaterThanOrEqual(lastSeenOffset.get(partition) ?? 0);
          lastSeenOffset.set(partition, stored);
        }
        for (let p = 0; p < PARTITIONS; p++) {
          const d = await service.admin.describePartition("crash", p);
          expect(d.lastStableOffset, "no transaction left open after recovery").toBe(
            d.highWatermark,
          );
        }
      } finally {
        await service.close();
      }
    }
    console.log(`topic crash test: ${killedMidRebalance} of ${ROUNDS} kills mid-rebalance`);
    expect(killedMidRebalance).toBeGreaterThanOrEqual(ROUNDS / 4);
    expect(aborted.size).toBeGreaterThan(0);
    expect(committedTx.size).toBeGreaterThan(0);
  }, 900_000);
});
