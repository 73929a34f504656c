import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../server/test-support/test-server.js";
import { cliMain } from "./test-support/cli-build.js";

const main = cliMain();
const root = mkdtempSync(join(tmpdir(), "sluice-start-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  readonly exit: Promise<number | null>;
}

/** Runs `sluice start` and resolves once it printed its banner. */
async function start(dataDir: string, port: number): Promise<Started> {
  const child = spawn(
    process.execPath,
    [
      main,
      "start",
      "--data-dir",
      dataDir,
      "--port",
      String(port),
      "--kafka-port",
      "0",
      "--fsync",
      "always",
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!output.includes("Sluice listening on")) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`sluice start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: `http://localhost:${port}`, output: () => output, exit };
}

const json = async (url: string, body?: unknown): Promise<unknown> => {
  const response = await fetch(
    url,
    body === undefined
      ? {}
      : {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        },
  );
  return response.json();
};

describe("sluice start", () => {
  it("prints its URLs, serves the data directory, and on SIGTERM ends long polls empty and exits 0 with data kept", async () => {
    const dataDir = join(root, "data");
    const port = await freePort();
    const first = await start(dataDir, port);
    expect(first.output()).toContain(`http://localhost:${port}/metrics`);
    // Every primitive of the data directory is served, not only queues.
    for (const path of ["/topics", "/groups", "/streams", "/pubsub/topics", "/buses"])
      expect(first.output()).toContain(`http://localhost:${port}${path}`);
    expect(await json(`${first.url}/topics`)).toEqual({ topics: [] });
    expect(await json(`${first.url}/streams`)).toEqual({ streams: [] });
    expect(await json(`${first.url}/queues`, { QueueName: "kept" })).toEqual({
      QueueUrl: `${first.url}/000000000000/kept`,
    });
    await json(`${first.url}/queues/kept/messages`, { MessageBody: "survives" });
    await json(`${first.url}/queues`, { QueueName: "idle" });
    const poll = json(`${first.url}/queues/idle/receive`, { WaitTimeSeconds: 20 });
    await new Promise((r) => setTimeout(r, 300));
    const signalled = Date.now();
    first.child.kill("SIGTERM");
    expect(await poll).toEqual({ Messages: [] });
    expect(await first.exit).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);

    const second = await start(dataDir, port);
    const received = (await json(`${second.url}/queues/kept/receive`, {})) as {
      Messages: { Body: string }[];
    };
    expect(received.Messages.map((m) => m.Body)).toEqual(["survives"]);
    second.child.kill("SIGINT");
    expect(await second.exit).toBe(0);
  });
});
