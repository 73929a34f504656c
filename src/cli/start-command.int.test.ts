import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { cliMain } from "./test-support/cli-build.js";
import { type StartedServer, startServer } from "./test-support/started-server.js";

const main = cliMain();
const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), "sluice-start-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `sluice start --port 0` on `dataDir` and resolves once it printed its banner. */
const start = (dataDir: string, ...more: string[]): Promise<StartedServer> =>
  startServer(
    [process.execPath, main, "start"],
    ["--data-dir", dataDir, "--kafka-port", "0", "--fsync", "always", ...more],
  );

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
    const first = await start(dataDir);
    // Port 0 picks a free one; the banner and the queue URLs give the one picked.
    expect(first.port).toBeGreaterThan(0);
    expect(first.url).toBe(`http://localhost:${first.port}`);
    expect(first.output()).toContain(`${first.url}/metrics`);
    // It compiled the queue and topic paths on a throwaway queue and topic before it listened
    // (a fresh process runs them interpreted), which left neither behind.
    expect(first.output()).toMatch(
      /engine warmed up: [1-9]\d* queue messages and [1-9]\d* topic records in \d+ ms/,
    );
    // Every primitive of the data directory is served, not only queues.
    for (const path of ["/topics", "/groups", "/streams", "/pubsub/topics", "/buses"])
      expect(first.output()).toContain(`${first.url}${path}`);
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

    const second = await start(dataDir, "--no-warm-up");
    expect(second.output()).not.toContain("warm");
    expect(await json(`${second.url}/topics`)).toEqual({ topics: [] });
    expect(await json(`${second.url}/queues`)).toMatchObject({
      QueueUrls: [`${second.url}/000000000000/idle`, `${second.url}/000000000000/kept`],
    });
    const received = (await json(`${second.url}/queues/kept/receive`, {})) as {
      Messages: { Body: string }[];
    };
    expect(received.Messages.map((m) => m.Body)).toEqual(["survives"]);
    second.child.kill("SIGINT");
    expect(await second.exit).toBe(0);
  });

  it("a warm-up that cannot run (no temporary directory) is reported on its banner line, and the server serves without it", async () => {
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = join(root, "no-such-tmp"); // os.tmpdir() of the child
    let started: StartedServer;
    try {
      started = await start(join(root, "no-tmp"), "--no-kafka");
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
    expect(started.output()).toMatch(
      /^engine warm-up failed \(ENOENT[^\n]*\); serving without it\n/,
    );
    expect(await json(`${started.url}/queues`, { QueueName: "served" })).toEqual({
      QueueUrl: `${started.url}/000000000000/served`,
    });
    started.child.kill("SIGTERM");
    expect(await started.exit).toBe(0);
  });

  it("a taken --port stops the start with one line naming the option and what to do, exit 2", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const takenPort = (taken.address() as AddressInfo).port;
    try {
      const outcome = await run(
        process.execPath,
        [
          main,
          "start",
          "--data-dir",
          join(root, "taken"),
          "--port",
          String(takenPort),
          "--no-kafka",
        ],
        { timeout: 60_000 },
      ).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number | null; stderr: string }) => error,
      );
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toBe(
        `sluice: SLUICE_VALIDATION: --port: port ${takenPort} on 127.0.0.1 is already in use (another Sluice, or a server?); choose another with --port <n> (0 picks a free one)\n`,
      );
    } finally {
      taken.close();
    }
  });

  // A failed start leaves no directory behind that it made itself; one that was there stays.
  it("a start that fails removes the data directory it created, with the parents it created, and no other", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const takenPort = String((taken.address() as AddressInfo).port);
    const fails = (dataDir: string, ...args: string[]) =>
      run(process.execPath, [main, "start", "--data-dir", dataDir, ...args], {
        timeout: 60_000,
      }).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number | null; stderr: string }) => error,
      );
    const nested = join(root, "made", "for", "it");
    const existing = join(root, "existing");
    mkdirSync(existing);
    const kept = join(root, "kept");
    try {
      const kept1 = await start(kept);
      await json(`${kept1.url}/queues`, { QueueName: "q" });
      kept1.child.kill("SIGTERM");
      expect(await kept1.exit).toBe(0);
      const outcomes = await Promise.all([
        fails(nested, "--port", takenPort, "--no-kafka"),
        fails(join(root, "kafka-port"), "--port", "0", "--kafka-port", takenPort),
        fails(join(root, "nats"), "--port", "0", "--messaging", "nats://127.0.0.1:1"),
        fails(existing, "--port", takenPort, "--no-kafka"),
        fails(kept, "--port", takenPort, "--no-kafka"),
        fails(join(root, "not-nats"), "--port", "0", "--messaging", "http://x:1"),
        fails(join(root, "replicas"), "--port", "0", "--replicas", "3"),
      ]);
      expect(outcomes.map((o) => o.code)).toEqual([2, 2, 2, 2, 2, 2, 1]);
      expect(outcomes[1].stderr).toMatch(
        /--kafka-port: port \d+ on 127\.0\.0\.1 is already in use/,
      );
      // The library's field is said as the option that gave it.
      expect(outcomes[2].stderr).toMatch(
        /^sluice: SLUICE_IO: --messaging: cannot connect to the NATS servers nats:\/\/127\.0\.0\.1:1: /,
      );
      expect(outcomes[5].stderr).toBe(
        'sluice: SLUICE_VALIDATION: --messaging: expected NATS server URLs such as "nats://a:4222,b:4222", got "http://x:1"\n',
      );
      // --replicas without --messaging would be ignored: refused.
      expect(outcomes[6].stderr).toBe(
        "sluice: error: --replicas is for NATS JetStream streams: give it with --messaging\n",
      );
      for (const path of ["not-nats", "replicas"]) expect(existsSync(join(root, path))).toBe(false);
      expect(existsSync(join(root, "made"))).toBe(false);
      expect(existsSync(join(root, "kafka-port"))).toBe(false);
      expect(existsSync(join(root, "nats"))).toBe(false);
      // A directory given empty is left as it was found, not removed.
      expect(existsSync(existing)).toBe(true);
      // One with data keeps it.
      const again = await start(kept);
      expect(await json(`${again.url}/queues`)).toEqual({
        QueueUrls: [`${again.url}/000000000000/q`],
      });
      again.child.kill("SIGTERM");
      expect(await again.exit).toBe(0);
    } finally {
      taken.close();
    }
  });
});
