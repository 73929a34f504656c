import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddedEventBus } from "../bus/embedded-event-bus.js";
import { EmbeddedQueueService } from "../queues/index.js";
import { EmbeddedPubSubService } from "./embedded-pubsub-service.js";

const workerScript = fileURLToPath(
  new URL("./test-support/routing-crash-worker.ts", import.meta.url),
);
const ROUNDS = 2;
const running = new Set<ChildProcess>();
const dirs: string[] = [];
afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the worker until it has acknowledged some work, then SIGKILLs it; returns its output. */
async function runAndKill(dir: string, round: number): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", workerScript, dir, String(round)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const deadline = Date.now() + 30_000;
  while ((out.match(/^[PE] /gm)?.length ?? 0) < 100 && Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`worker exited early: ${err}`);
    await sleep(20);
  }
  await sleep(100 + round * 37);
  child.kill("SIGKILL");
  await exited;
  running.delete(child);
  return out;
}

describe("pub/sub and bus under SIGKILL (fsync always)", () => {
  it("every acknowledged publish and put event is delivered after restart; nothing never issued appears", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-route-crash-"));
    dirs.push(dir);
    const issued = new Set<string>();
    const acknowledged = new Set<string>();
    const seen = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const out = await runAndKill(dir, round);
      for (const line of out.split("\n").slice(0, -1)) {
        const [tag, body] = line.split(" ") as [string, string];
        if (tag === "p" || tag === "e") issued.add(body);
        else if (tag === "P" || tag === "E") acknowledged.add(body);
      }
      expect(acknowledged.size).toBeGreaterThan(0);
      // Restart in-process and let deliveries resume.
      const queues = await EmbeddedQueueService.open(join(dir, "queues"), { fsync: "always" });
      const pubsub = await EmbeddedPubSubService.open(join(dir, "pubsub"), {
        queues,
        fsync: "always",
      });
      const bus = await EmbeddedEventBus.open(join(dir, "bus"), { queues, fsync: "always" });
      try {
        const deadline = Date.now() + 30_000;
        const missing = (): string[] => [...acknowledged].filter((b) => !seen.has(b));
        while (missing().length > 0 && Date.now() < deadline) {
          for (const name of ["from-topic", "from-bus"]) {
            const { QueueUrl } = await queues.getQueueUrl({ QueueName: name });
            const { Messages } = await queues.receiveMessage({
              QueueUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 0,
            });
            for (const m of Messages) {
              const body = m.Body.replace(/^"|"$/g, "");
              expect(issued.has(body), `delivered a message never issued: ${body}`).toBe(true);
              seen.add(body);
              await queues.deleteMessage({ QueueUrl, ReceiptHandle: m.ReceiptHandle });
            }
          }
          await sleep(5);
        }
        expect(missing(), `round ${round}: acknowledged but never delivered`).toEqual([]);
      } finally {
        await bus.close();
        await pubsub.close();
        await queues.close();
      }
    }
  });
});
