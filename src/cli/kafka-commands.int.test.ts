import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { cliMain } from "./test-support/cli-build.js";

const main = cliMain();
const root = mkdtempSync(join(tmpdir(), "sluice-cli-kafka-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * Starts `sluice kafka start` on a data directory named by `where` (the dir argument, or
 * `--data-dir dir`) and resolves with the process and the port it reports.
 */
function start(
  where: readonly string[],
): Promise<{ child: ChildProcess; port: number; output: string }> {
  const child = spawn(process.execPath, [main, "kafka", "start", ...where, "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (match !== null) resolve({ child, port: Number(match[1]), output: out });
    });
    child.once("exit", (code) => reject(new Error(`sluice kafka exited with ${code}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

describe("sluice kafka start", () => {
  it("serves kafkajs, and records produced before a restart are consumed after it", async () => {
    const dir = join(root, "data");
    const first = await start([dir]);
    // It compiled the topic paths on a throwaway topic before it listened.
    expect(first.output).toMatch(/^engine warmed up: [1-9]\d* topic records in \d+ ms\n/);
    const client = (port: number) =>
      new Kafka({
        clientId: "cli-test",
        brokers: [`127.0.0.1:${port}`],
        logLevel: logLevel.NOTHING,
      });
    const producer = client(first.port).producer();
    await producer.connect();
    await producer.send({
      topic: "restart",
      acks: -1,
      messages: [{ value: "a" }, { value: "b" }, { value: "c" }],
    });
    await producer.disconnect();
    expect(await stop(first.child)).toBe(0);

    // The same data directory, named as every other command names it.
    const second = await start(["--data-dir", dir, "--no-warm-up"]);
    expect(second.output).not.toContain("warm");
    const consumer = client(second.port).consumer({
      groupId: "after-restart",
      maxWaitTimeInMs: 100,
    });
    const seen: string[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: "restart", fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => Promise.resolve(void seen.push(message.value!.toString())),
      });
      await expect.poll(() => seen, { timeout: 15_000 }).toEqual(["a", "b", "c"]);
      // The warm-up's topic was never in this data directory.
      const admin = client(second.port).admin();
      await admin.connect();
      expect(await admin.listTopics()).toEqual(["restart"]);
      await admin.disconnect();
    } finally {
      await consumer.disconnect();
      await stop(second.child);
    }
  });

  it("a taken --port stops it with one line naming the option, exit 2, and no data directory left", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const takenPort = (taken.address() as AddressInfo).port;
    try {
      const child = spawn(
        process.execPath,
        [main, "kafka", "start", "--data-dir", join(root, "taken"), "--port", String(takenPort)],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(2);
      expect(stderr).toMatch(
        new RegExp(
          `^sluice: SLUICE_VALIDATION: --port: port ${takenPort} on 127\\.0\\.0\\.1 is already in use`,
        ),
      );
      // The data directory the failed start made is gone again.
      expect(existsSync(join(root, "taken"))).toBe(false);
    } finally {
      taken.close();
    }
  });
});
