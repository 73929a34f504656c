import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { LatencyHistogram, type LatencySummary, machineInfo } from "../observability/index.js";

export interface ServerBenchOptions {
  readonly numMessages: number;
  readonly messageSize: number;
  /** Concurrent SDK producers, each sending batches of 10. */
  readonly producers: number;
  /** Concurrent SDK consumers, each receiving 10 and deleting them in one batch. */
  readonly consumers: number;
  readonly fsync: "always" | "interval" | "never";
  /** Records produced over REST (and then consumed over the WebSocket stream). */
  readonly restRecords: number;
  /** Records per REST produce request. */
  readonly restBatch: number;
  /** Idle long polls held open at once. */
  readonly longPolls: number;
  /** Also measure the npm SQS emulators fauxqs and sqslite (if installed). */
  readonly peers: boolean;
  /** Run the server under `--cpu-prof`, writing its profile into this directory. */
  readonly profileDir?: string;
  readonly quiet: boolean;
}

export interface SqsFigures {
  readonly messagesPerSecond: number;
  /** From handing a batch to the SDK to the consumer receiving it. */
  readonly endToEnd: LatencySummary;
}

export interface ServerBenchResult {
  readonly benchmark: "server";
  readonly parameters: ServerBenchOptions;
  readonly machine: ReturnType<typeof machineInfo>;
  readonly sqsSdk: SqsFigures;
  /** The same SQS workload against the npm emulators, when installed. */
  readonly peers: Readonly<Record<string, SqsFigures | { readonly error: string }>>;
  /** Sluice's SQS rate over the faster peer's. */
  readonly ratioToFasterPeer: number | undefined;
  readonly restProduceRecordsPerSecond: number;
  readonly webSocketConsumeRecordsPerSecond: number;
  readonly longPolls: {
    readonly held: number;
    /** The server process's resident memory with every poll held open. */
    readonly serverRssBytes: number;
    /** From sending a message to a queue to its waiting poll answering. */
    readonly wake: LatencySummary;
  };
}

const main = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** A server in its own process (as users run it), stopped with SIGTERM. */
interface Served {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

async function spawnServer(
  args: string[],
  port: number,
  ready: (output: string) => boolean,
  env: Record<string, string> = {},
): Promise<Served> {
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!ready(output)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`server did not start: ${output.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function startSluice(
  dataDir: string,
  fsync: string,
  profileDir: string | undefined,
): Promise<Served> {
  const port = await freePort();
  const served = await spawnServer(
    [
      ...(profileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir]),
      "--import",
      "tsx",
      main,
      "start",
      "--data-dir",
      dataDir,
      "--port",
      String(port),
      "--fsync",
      fsync,
    ],
    port,
    (o) => o.includes("Sluice listening on"),
  );
  return { ...served, url: `http://localhost:${port}` };
}

async function startFauxqs(): Promise<Served> {
  const port = await freePort();
  const script = `import("fauxqs").then((m) => m.startFauxqs({ port: ${port}, logger: false })).then(() => console.log("fauxqs ready"))`;
  return spawnServer(["-e", script], port, (o) => o.includes("fauxqs ready"));
}

async function startSqslite(): Promise<Served> {
  const port = await freePort();
  const script = `require("sqslite")({}).listen(${port}, "127.0.0.1", (err) => { if (err) throw err; console.log("sqslite ready"); })`;
  return spawnServer(["-e", script], port, (o) => o.includes("sqslite ready"));
}

/** SQS through the AWS SDK: producers send batches of 10, consumers receive 10 and delete them. */
async function sqsWorkload(endpoint: string, options: ServerBenchOptions): Promise<SqsFigures> {
  const sdk = await import("@aws-sdk/client-sqs");
  const sqs = new sdk.SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  try {
    const { QueueUrl } = await sqs.send(
      new sdk.CreateQueueCommand({ QueueName: `bench-${Date.now()}` }),
    );
    const body = "x".repeat(Math.max(0, options.messageSize - 14));
    const latency = new LatencyHistogram();
    let toSend = options.numMessages;
    let deleted = 0;
    const started = performance.now();
    const producer = async (): Promise<void> => {
      while (toSend > 0) {
        const n = Math.min(10, toSend);
        toSend -= n;
        const sentAt = performance.now().toFixed(3);
        await sqs.send(
          new sdk.SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({ length: n }, (_, i) => ({
              Id: `m${i}`,
              MessageBody: `${sentAt} ${body}`,
            })),
          }),
        );
      }
    };
    const consumer = async (): Promise<void> => {
      while (deleted < options.numMessages) {
        const { Messages = [] } = await sqs.send(
          new sdk.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        if (Messages.length === 0) continue;
        const now = performance.now();
        for (const m of Messages)
          latency.recordMs(now - Number(m.Body!.slice(0, m.Body!.indexOf(" "))));
        await sqs.send(
          new sdk.DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        deleted += Messages.length;
      }
    };
    await Promise.all([
      ...Array.from({ length: options.producers }, producer),
      ...Array.from({ length: options.consumers }, consumer),
    ]);
    const seconds = (performance.now() - started) / 1000;
    return { messagesPerSecond: options.numMessages / seconds, endToEnd: latency.summary() };
  } finally {
    sqs.destroy();
  }
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${text.slice(0, 200)}`);
  return text === "" ? undefined : JSON.parse(text);
}

/** REST produce: 4 concurrent clients POST batches of `restBatch` records to a 4-partition topic. */
async function restProduce(url: string, options: ServerBenchOptions): Promise<number> {
  await post(`${url}/topics`, { name: "bench-rest", partitions: 4 });
  const value = "v".repeat(options.messageSize);
  let toSend = options.restRecords;
  const started = performance.now();
  const client = async (): Promise<void> => {
    while (toSend > 0) {
      const n = Math.min(options.restBatch, toSend);
      toSend -= n;
      await post(`${url}/topics/bench-rest/records`, {
        records: Array.from({ length: n }, () => ({ value })),
      });
    }
  };
  await Promise.all(Array.from({ length: 4 }, client));
  return options.restRecords / ((performance.now() - started) / 1000);
}

/**
 * WebSocket consume: one stream per partition from offset 0, until every record arrived. The
 * streams stay open while caught up (they are live), so all of them are closed once the total
 * arrived, not only the one that received the last record.
 */
async function webSocketConsume(url: string, total: number): Promise<number> {
  let received = 0;
  const sockets: WebSocket[] = [];
  const started = performance.now();
  let finished = 0;
  await Promise.all(
    [0, 1, 2, 3].map(
      (partition) =>
        new Promise<void>((resolve, reject) => {
          const socket = new WebSocket(
            `${url.replace("http", "ws")}/topics/bench-rest/stream?partition=${partition}&offset=0`,
          );
          sockets.push(socket);
          socket.on("open", () => {
            if (finished !== 0) socket.close();
            else socket.send(JSON.stringify({ type: "credit", count: 20_000 }));
          });
          let used = 0;
          socket.on("message", (data: Buffer) => {
            const frame = JSON.parse(data.toString("utf8")) as { type: string; items?: unknown[] };
            if (frame.type !== "batch") return reject(new Error(data.toString().slice(0, 200)));
            const n = frame.items!.length;
            received += n;
            used += n;
            if (used >= 10_000) {
              socket.send(JSON.stringify({ type: "credit", count: used }));
              used = 0;
            }
            if (received >= total && finished === 0) {
              finished = performance.now();
              // One still connecting closes once open.
              for (const s of sockets) if (s.readyState === WebSocket.OPEN) s.close();
            }
          });
          socket.on("close", () => resolve());
          socket.on("error", reject);
        }),
    ),
  );
  // The time is the last record's, not the closing handshakes'.
  return received / ((finished - started) / 1000);
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/** `held` long polls on as many queues, then a message to one queue at a time, timed to its answer. */
async function longPolls(served: Served, held: number): Promise<ServerBenchResult["longPolls"]> {
  const url = served.url;
  const names = Array.from({ length: held }, (_, i) => `idle-${i}`);
  for (let i = 0; i < names.length; i += 50)
    await Promise.all(
      names.slice(i, i + 50).map((QueueName) => post(`${url}/queues`, { QueueName })),
    );
  const answered = new Map<string, () => void>();
  const poll = (name: string): void => {
    void post(`${url}/queues/${name}/receive`, { WaitTimeSeconds: 20 }).then(
      (result) => {
        const messages = (result as { Messages?: unknown[] }).Messages ?? [];
        if (messages.length > 0) answered.get(name)?.();
        poll(name);
      },
      () => undefined,
    );
  };
  for (const name of names) poll(name);
  // Let every poll reach the server and park.
  await new Promise((r) => setTimeout(r, 2000));
  const serverRssBytes = rssOf(served.child.pid!);
  const wake = new LatencyHistogram();
  for (let i = 0; i < 50; i++) {
    const name = names[(i * 37) % names.length]!;
    const got = new Promise<void>((resolve) => answered.set(name, resolve));
    const sent = performance.now();
    await post(`${url}/queues/${name}/messages`, { MessageBody: "wake" });
    await got;
    wake.recordMs(performance.now() - sent);
    answered.delete(name);
  }
  return { held, serverRssBytes, wake: wake.summary() };
}

/**
 * `sluice bench server`: `sluice start` in its own process, driven from this one: SQS through
 * `@aws-sdk/client-sqs` (and the same workload against fauxqs and sqslite, each in its own
 * process, measured in the same run), REST produce to a topic in batches, WebSocket consume
 * of those records, and idle long polls held open.
 */
export async function runServerBench(options: ServerBenchOptions): Promise<ServerBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-server-bench-"));
  const fsync = options.fsync === "interval" ? "50" : options.fsync;
  const say = (line: string): void => {
    if (!options.quiet) process.stdout.write(`${line}\n`);
  };
  const peers: Record<string, SqsFigures | { error: string }> = {};
  try {
    const sluice = await startSluice(dataDir, fsync, options.profileDir);
    let sqsSdk: SqsFigures;
    let rest: number;
    let ws: number;
    let polls: ServerBenchResult["longPolls"];
    try {
      sqsSdk = await sqsWorkload(sluice.url, options);
      say(
        `server sqs-sdk sluice: ${Math.round(sqsSdk.messagesPerSecond)} messages/s (batches of 10, send -> receive -> delete), e2e p50 ${sqsSdk.endToEnd.p50Ms.toFixed(1)} ms`,
      );
      rest = await restProduce(sluice.url, options);
      say(`server rest produce: ${Math.round(rest)} records/s (batches of ${options.restBatch})`);
      ws = await webSocketConsume(sluice.url, options.restRecords);
      say(`server websocket consume: ${Math.round(ws)} records/s`);
      polls = await longPolls(sluice, options.longPolls);
      say(
        `server long polls: ${polls.held} held, server RSS ${Math.round(polls.serverRssBytes / 1048576)} MB, ` +
          `send -> answered p50 ${polls.wake.p50Ms.toFixed(2)} ms, p99 ${polls.wake.p99Ms.toFixed(2)} ms`,
      );
    } finally {
      await sluice.stop();
    }
    if (options.peers)
      for (const [name, start] of [
        ["fauxqs", startFauxqs],
        ["sqslite", startSqslite],
      ] as const) {
        let peer: Served | undefined;
        try {
          peer = await start();
          const figures = await sqsWorkload(peer.url, options);
          peers[name] = figures;
          say(`server sqs-sdk ${name}: ${Math.round(figures.messagesPerSecond)} messages/s`);
        } catch (error) {
          peers[name] = { error: (error as Error).message.slice(0, 300) };
          say(`server sqs-sdk ${name}: failed: ${(error as Error).message.slice(0, 200)}`);
        } finally {
          await peer?.stop();
        }
      }
    const peerRates = Object.values(peers).flatMap((p) =>
      "messagesPerSecond" in p ? [p.messagesPerSecond] : [],
    );
    const fastest = peerRates.length === 0 ? undefined : Math.max(...peerRates);
    const ratio = fastest === undefined ? undefined : sqsSdk.messagesPerSecond / fastest;
    if (ratio !== undefined) say(`server sqs-sdk: sluice / faster peer = ${ratio.toFixed(2)}x`);
    return {
      benchmark: "server",
      parameters: options,
      machine: machineInfo(),
      sqsSdk,
      peers,
      ratioToFasterPeer: ratio,
      restProduceRecordsPerSecond: rest,
      webSocketConsumeRecordsPerSecond: ws,
      longPolls: polls,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
