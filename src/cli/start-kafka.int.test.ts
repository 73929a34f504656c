// `sluice start` serves the Kafka protocol beside HTTP, on the same data directory: kcat
// produces and consumes against it, the REST API sees the same topics, SIGTERM closes the Kafka
// listener with the rest, and a taken Kafka port stops the start with an error that says so.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { KCAT, LineProcess, hasKcat, run } from "../server/kafka/test-support/client-processes.js";
import { freePort } from "../net/free-port.js";
import { saslUsers } from "./option-parsers.js";
import { startServer } from "./start-command.js";
import { cliMain } from "./test-support/cli-build.js";

const main = cliMain();
const root = mkdtempSync(join(tmpdir(), "sluice-start-kafka-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const inCi = process.env.CI === "true";

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** The exit code, or the signal's name when a signal ended the process. */
  readonly exit: Promise<number | NodeJS.Signals | null>;
}

/** Runs `sluice start` with `args`; resolves once it printed its banner or exited. */
async function start(args: readonly string[]): Promise<Started> {
  const child = spawn(process.execPath, [main, "start", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal)),
  );
  let exited = false;
  void exit.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!output.includes("Sluice listening on") && !exited) {
    if (Date.now() > deadline) throw new Error(`sluice start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, output: () => output, exit };
}

/** Resolves once nothing listens on the port any more (binding it succeeds). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe: Server = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

describe("sluice start with the Kafka listener", () => {
  it.runIf(inCi && !hasKcat)("kcat is installed (CI installs it)", () => {
    expect.fail(`${KCAT} is missing: .ci/run installs Debian's kcat`);
  });

  it.skipIf(!hasKcat)(
    "kcat produces and consumes on the data directory HTTP serves; SIGTERM closes the Kafka listener with a consumer connected",
    async () => {
      // Both ports picked by the server as it binds them, read back from its banner.
      const started = await start([
        "--data-dir",
        join(root, "data"),
        "--port",
        "0",
        "--kafka-port",
        "0",
        "--fsync",
        "always",
      ]);
      const httpPort = Number(
        /Sluice listening on http:\/\/localhost:(\d+)/.exec(started.output())![1],
      );
      const kafkaPort = Number(/Kafka protocol on 127\.0\.0\.1:(\d+)/.exec(started.output())![1]);
      const bootstrap = `127.0.0.1:${kafkaPort}`;
      let consumer: LineProcess | undefined;
      try {
        expect(started.output()).toContain(
          `Kafka protocol on 127.0.0.1:${kafkaPort} (advertised 127.0.0.1:${kafkaPort})`,
        );
        await run(KCAT, ["-b", bootstrap, "-P", "-t", "via-kafka", "-X", "acks=all"], "a\nb\nc\n");
        // The topic and its records are those of the data directory the HTTP API serves.
        const partition = (await (
          await fetch(`http://127.0.0.1:${httpPort}/topics/via-kafka/partitions/0`)
        ).json()) as { highWatermark: number };
        expect(partition.highWatermark).toBe(3);
        const read = await run(KCAT, [
          "-b",
          bootstrap,
          "-C",
          "-t",
          "via-kafka",
          "-o",
          "beginning",
          "-e",
        ]);
        expect(read.stdout.trim().split("\n")).toEqual(["a", "b", "c"]);

        // A consumer stays connected, long-polling: shutdown closes its connection too.
        consumer = new LineProcess(KCAT, ["-b", bootstrap, "-C", "-t", "via-kafka", "-o", "end"]);
        await new Promise((r) => setTimeout(r, 1000));
        const signalled = Date.now();
        started.child.kill("SIGTERM");
        expect(await started.exit, started.output()).toBe(0);
        expect(Date.now() - signalled).toBeLessThan(10_000);
        expect(await portIsFree(kafkaPort)).toBe(true);
        expect(await portIsFree(httpPort)).toBe(true);
      } finally {
        await consumer?.stop();
        started.child.kill("SIGKILL");
      }
    },
    120_000,
  );

  it("--kafka-max-frame-bytes and --no-kafka-auto-create-topics reach the Kafka listener", async () => {
    const started = await start([
      "--data-dir",
      join(root, "limits"),
      "--port",
      "0",
      "--kafka-port",
      "0",
      "--kafka-max-frame-bytes",
      "2048",
      "--no-kafka-auto-create-topics",
    ]);
    const kafkaPort = Number(/Kafka protocol on 127\.0\.0\.1:(\d+)/.exec(started.output())![1]);
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${kafkaPort}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    try {
      await admin.connect();
      await producer.connect();
      // A producer's metadata request for an unknown topic (allowing creation) leaves it unknown.
      await expect(
        producer.send({ topic: "asked-for", messages: [{ value: "v" }] }),
      ).rejects.toThrow();
      expect(await admin.listTopics()).not.toContain("asked-for");
      // A request over 2 KiB closes the connection: the send fails.
      await admin.createTopics({ topics: [{ topic: "small-frames" }] });
      await producer.send({ topic: "small-frames", messages: [{ value: "fits" }] });
      await expect(
        producer.send({ topic: "small-frames", messages: [{ value: "x".repeat(4096) }] }),
      ).rejects.toThrow();
    } finally {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect();
      started.child.kill("SIGTERM");
      await started.exit;
    }
  }, 60_000);

  it("stop() closes the Kafka listener and its connections before the data directory closes", async () => {
    const started = await startServer({
      dataDir: join(root, "in-process"),
      host: "127.0.0.1",
      port: 0,
      fsync: "never",
      log: false,
      kafka: true,
      kafkaPort: 0,
    });
    const kafkaPort = started.kafka!.port;
    const client = connect(kafkaPort, "127.0.0.1");
    await new Promise((resolve) => client.once("connect", resolve));
    const closed = new Promise((resolve) => client.once("close", resolve));
    await started.stop();
    await closed; // the server ended the client's connection
    const refused = connect(kafkaPort, "127.0.0.1");
    const outcome = await new Promise<string>((resolve) => {
      refused.once("connect", () => resolve("connected"));
      refused.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
    });
    refused.destroy();
    expect(outcome).toBe("ECONNREFUSED");
  }, 30_000);

  it("--kafka-sasl-users: Kafka clients must authenticate with SASL/PLAIN", async () => {
    const started = await startServer({
      dataDir: join(root, "sasl"),
      host: "127.0.0.1",
      port: 0,
      fsync: "never",
      log: false,
      kafka: true,
      kafkaPort: 0,
      kafkaSaslUsers: saslUsers("alice:secret"),
    });
    const admin = (password: string) =>
      new Kafka({
        brokers: [`127.0.0.1:${started.kafka!.port}`],
        sasl: { mechanism: "plain", username: "alice", password },
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      }).admin();
    try {
      const right = admin("secret");
      await right.connect();
      expect(await right.listTopics()).toEqual([]);
      await right.disconnect();
      await expect(admin("wrong").connect()).rejects.toThrow(/SASL|authentication/i);
    } finally {
      await started.stop();
    }
  }, 30_000);

  it("a Kafka port already taken stops the start with an error naming it and what to do", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const takenPort = (taken.address() as { port: number }).port;
    const httpPort = await freePort();
    try {
      const started = await start([
        "--data-dir",
        join(root, "taken"),
        "--port",
        String(httpPort),
        "--kafka-port",
        String(takenPort),
      ]);
      expect(await started.exit, started.output()).toBe(2);
      expect(started.output()).toContain(
        `--kafka-port: port ${takenPort} on 127.0.0.1 is already in use`,
      );
      expect(started.output()).toContain("--no-kafka");
      // Nothing is left behind: the HTTP port is free and the data directory opens again.
      expect(await portIsFree(httpPort)).toBe(true);
      const again = await start([
        "--data-dir",
        join(root, "taken"),
        "--port",
        String(httpPort),
        "--no-kafka",
      ]);
      expect(again.output()).toContain("Sluice listening on");
      expect(again.output()).not.toContain("Kafka protocol on");
      again.child.kill("SIGTERM");
      expect(await again.exit, again.output()).toBe(0);
    } finally {
      taken.close();
    }
  }, 120_000);
});
