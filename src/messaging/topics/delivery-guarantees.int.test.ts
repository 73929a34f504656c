import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { ConsumerRecord } from "./topic-consumer.js";

// Each mode runs a consumer process that reads "in" and writes one record to "out" per input
// record, SIGKILLs it in the middle of its fourth batch, then runs a second one to the end.
const worker = fileURLToPath(new URL("./test-support/delivery-worker.ts", import.meta.url));
const INPUT = 100;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(dir: string, mode: string, killBatch: number): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", worker, dir, mode, String(killBatch), String(INPUT)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes("kill-me\n")) child.kill("SIGKILL");
  });
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once("exit", (code, signal) => {
      if (killBatch >= 0 && signal === "SIGKILL") resolve(out);
      else if (killBatch < 0 && code === 0) resolve(out);
      else reject(new Error(`worker ${mode} exited with ${code ?? signal}: ${err}`));
    }),
  );
}

/** Per input value, how many times it reached "out" as read_committed sees it. */
async function outcome(dir: string): Promise<{ lost: number; duplicated: number }> {
  const service = await EmbeddedTopicService.open(dir, { fsync: "never" });
  try {
    const reader = service.consumer({
      isolationLevel: "read_committed",
      autoOffsetReset: "earliest",
    });
    await reader.assign([{ topic: "out", partition: 0 }]);
    const seen: ConsumerRecord[] = [];
    for (;;) {
      const got = await reader.poll();
      if (got.length === 0) break;
      seen.push(...got);
    }
    await reader.close();
    const counts = new Map<string, number>();
    for (const r of seen)
      counts.set(r.value!.toString(), (counts.get(r.value!.toString()) ?? 0) + 1);
    let lost = 0;
    let duplicated = 0;
    for (let i = 0; i < INPUT; i++) {
      const n = counts.get(`m${i}`) ?? 0;
      if (n === 0) lost++;
      if (n > 1) duplicated += n - 1;
    }
    return { lost, duplicated };
  } finally {
    await service.close();
  }
}

async function scenario(mode: string): Promise<{ lost: number; duplicated: number }> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-delivery-"));
  dirs.push(dir);
  const service = await EmbeddedTopicService.open(dir, { fsync: "always" });
  await service.admin.createTopic({ name: "in" });
  await service.admin.createTopic({ name: "out" });
  const producer = service.producer();
  await producer.sendBatch(
    Array.from({ length: INPUT }, (_, i) => ({ topic: "in", value: `m${i}` })),
  );
  await producer.close();
  await service.close();
  await run(dir, mode, 3); // killed halfway through its fourth batch of 10
  await run(dir, mode, -1); // a fresh process resumes from the committed offsets
  return outcome(dir);
}

describe("delivery guarantees when a consumer process is SIGKILLed mid-batch", () => {
  it("at-most-once (commit before processing): the rest of the batch is lost, nothing twice", async () => {
    expect(await scenario("at-most-once")).toEqual({ lost: 5, duplicated: 0 });
  });

  it("at-least-once (commit after processing): the processed half comes twice, nothing lost", async () => {
    expect(await scenario("at-least-once")).toEqual({ lost: 0, duplicated: 5 });
  });

  it("exactly-once (output and offsets in one transaction): nothing lost, nothing twice", async () => {
    expect(await scenario("exactly-once")).toEqual({ lost: 0, duplicated: 0 });
  });
});
