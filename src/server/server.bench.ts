import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { freePort } from "../net/free-port.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLParser } from "fast-xml-parser";
import { WebSocket } from "ws";
import {
  LatencyHistogram,
  type LatencySummary,
  PauseMonitor,
  type PauseSummary,
  type ThreadSchedule,
  machineInfo,
  mainThreadSchedule,
  pauseLine,
} from "../observability/index.js";

export interface ServerBenchOptions {
  readonly numMessages: number;
  /**
   * Messages each SQS leg sends, receives and deletes untimed before its timed run, on a queue
   * of its own: the client's code warms up before any leg is timed, and each server warms up in
   * its own leg (so the first leg no longer pays the SDK's warm-up for the others).
   */
  readonly sqsWarmupMessages: number;
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
  /** Messages sent to a waiting poll, each timed to its answer. */
  readonly longPollWakes: number;
  /** Also measure the npm SQS emulators fauxqs and sqslite (if installed). */
  readonly peers: boolean;
  /** Run the server under `--cpu-prof`, writing its profile into this directory. */
  readonly profileDir?: string;
  readonly quiet: boolean;
}

export interface SqsFigures {
  readonly messagesPerSecond: number;
  /** From handing a batch to the client to the consumer receiving it. */
  readonly endToEnd: LatencySummary;
  /** CPU time of the server process per 1,000 messages (user + system): resists machine load. */
  readonly serverCpuMsPer1kMessages: number;
  /**
   * CPU time of this process (the SQS clients) per 1,000 messages: with the server on the same
   * two cores, the client's share bounds the rate no server can beat.
   */
  readonly clientCpuMsPer1kMessages: number;
  /** Receive calls made, and how many of them came back empty: fuller receives, fewer calls. */
  readonly receives: number;
  readonly emptyReceives: number;
  /** The untimed warm-up run before it, if any: how many messages it moved, and how fast. */
  readonly warmup?: { readonly messages: number; readonly messagesPerSecond: number };
}

/** CPU time per record of a phase, in µs: the server process's and this one's (the client). */
export interface CpuPerItem {
  readonly serverUs: number;
  readonly clientUs: number;
}

/** What one plain HTTP request costs on this machine, whatever the server does with it. */
export interface RequestFloor {
  readonly requests: number;
  /** Server CPU per `GET /healthz`, in µs. */
  readonly serverCpuUsPerRequest: number;
  /** This process's CPU per request through `fetch`, in µs. */
  readonly clientCpuUsPerRequest: number;
}

/** The SQS protocols: AWS JSON 1.0 (`@aws-sdk/client-sqs` v3) or the query protocol. */
export type SqsProtocol = "json" | "query";

export interface ServerBenchResult {
  readonly benchmark: "server";
  readonly parameters: ServerBenchOptions;
  readonly machine: ReturnType<typeof machineInfo>;
  /** SQS through `@aws-sdk/client-sqs` (AWS JSON 1.0). */
  readonly sqsSdk: SqsFigures;
  /** The same workload in the query protocol (form posts, XML answers; boto3 1.26, SDK v2). */
  readonly sqsQuery: SqsFigures;
  /**
   * The same workload against the npm emulators, each in the protocol it speaks: fauxqs only
   * AWS JSON (through the SDK), sqslite only the query protocol.
   */
  readonly peers: Readonly<
    Record<string, (SqsFigures & { protocol: SqsProtocol }) | { readonly error: string }>
  >;
  /** Sluice's SQS rate over the faster peer's, each compared in the peer's protocol. */
  readonly ratioToFasterPeer: number | undefined;
  readonly restProduceRecordsPerSecond: number;
  readonly restProduceCpu: CpuPerItem;
  readonly webSocketConsumeRecordsPerSecond: number;
  readonly webSocketConsumeCpu: CpuPerItem;
  readonly requestFloor: RequestFloor;
  /** On a server of their own, so earlier phases' heap does not count. */
  readonly longPolls: {
    readonly held: number;
    /** The fresh server's resident memory before any queue exists. */
    readonly serverRssAtStartBytes: number;
    /** The server process's resident memory with every poll held open. */
    readonly serverRssBytes: number;
    /** ... and with the queues created, before any poll (so the polls' own share shows). */
    readonly serverRssBeforePollsBytes: number;
    /** Wake-ups measured (after every poll was answered once, unmeasured). */
    readonly wakes: number;
    /** From starting to send a message to a queue until its waiting poll's answer arrived. */
    readonly wake: LatencySummary;
    /** From starting the same send until its own answer arrived (usually before the poll's). */
    readonly sendAnswered: LatencySummary;
    /**
     * `GET /healthz` round trips through the same client right after the wake-ups: what any
     * request takes on the machine at that moment, whatever the server does with it.
     */
    readonly roundTripFloor: LatencySummary;
    /** What stopped this (the client's) main thread during the measured wake-ups. */
    readonly clientPauses: PauseSummary;
    /**
     * The server's main thread over the same wake-ups: time on a core and time it waited for
     * one (undefined where Linux's schedstat cannot be read).
     */
    readonly serverMainThread: ThreadSchedule | undefined;
    /** CPU per wake-up (a send, the poll's answer, the next poll parking), in µs. */
    readonly cpuPerWake: CpuPerItem;
    /** CPU per `GET /healthz`, in µs, with the same polls held. */
    readonly cpuPerFloorRequest: CpuPerItem;
  };
}

const main = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

/** CPU time (user + system) a process has used so far, in ms (Linux /proc). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
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
      // As `sluice start` runs (bin/sluice.js, `npm start`): see docs/engine.md.
      "--max-semi-space-size=64",
      "--initial-old-space-size=64",
      "--import",
      "tsx",
      main,
      "start",
      "--data-dir",
      dataDir,
      "--port",
      String(port),
      "--kafka-port",
      "0",
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
  const script = `require("sqslite")({ logger: false }).listen(${port}, "localhost", (err) => { if (err) throw err; console.log("sqslite ready"); })`;
  const served = await spawnServer(["-e", script], port, (o) => o.includes("sqslite ready"));
  // sqslite knows its queues by URLs with the Host it was called with, and hands out localhost.
  return { ...served, url: `http://localhost:${port}` };
}

/** The three calls of the SQS workload, in one protocol. */
interface SqsClient {
  createQueue(name: string): Promise<string>;
  sendBatch(queueUrl: string, bodies: readonly string[]): Promise<void>;
  /** Up to 10 messages, long polling up to 1 s. */
  receive(queueUrl: string): Promise<{ body: string; receiptHandle: string }[]>;
  deleteBatch(queueUrl: string, receiptHandles: readonly string[]): Promise<void>;
  close(): void;
}

async function sdkClient(endpoint: string): Promise<SqsClient> {
  const sdk = await import("@aws-sdk/client-sqs");
  const sqs = new sdk.SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  return {
    async createQueue(QueueName) {
      return (await sqs.send(new sdk.CreateQueueCommand({ QueueName }))).QueueUrl!;
    },
    async sendBatch(QueueUrl, bodies) {
      await sqs.send(
        new sdk.SendMessageBatchCommand({
          QueueUrl,
          Entries: bodies.map((MessageBody, i) => ({ Id: `m${i}`, MessageBody })),
        }),
      );
    },
    async receive(QueueUrl) {
      const { Messages = [] } = await sqs.send(
        new sdk.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return Messages.map((m) => ({ body: m.Body!, receiptHandle: m.ReceiptHandle! }));
    },
    async deleteBatch(QueueUrl, handles) {
      await sqs.send(
        new sdk.DeleteMessageBatchCommand({
          QueueUrl,
          Entries: handles.map((ReceiptHandle, i) => ({ Id: `d${i}`, ReceiptHandle })),
        }),
      );
    },
    close: () => sqs.destroy(),
  };
}

/**
 * The query protocol by hand (form posts, XML answers), as boto3 1.26 and the SDK v2 send it;
 * unsigned, which every emulator here accepts.
 */
function queryClient(endpoint: string): SqsClient {
  const xml = new XMLParser({ isArray: (name) => name === "Message" });
  const call = async (params: Record<string, string>): Promise<Record<string, unknown>> => {
    const response = await fetch(`${endpoint}/`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...params, Version: "2012-11-05" }).toString(),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${params.Action}: ${response.status} ${text.slice(0, 200)}`);
    return xml.parse(text) as Record<string, unknown>;
  };
  const result = (answer: Record<string, unknown>, action: string): Record<string, unknown> =>
    ((answer[`${action}Response`] as Record<string, unknown>)[`${action}Result`] ?? {}) as Record<
      string,
      unknown
    >;
  return {
    async createQueue(QueueName) {
      const answer = await call({ Action: "CreateQueue", QueueName });
      return String(result(answer, "CreateQueue").QueueUrl);
    },
    async sendBatch(QueueUrl, bodies) {
      const params: Record<string, string> = { Action: "SendMessageBatch", QueueUrl };
      bodies.forEach((body, i) => {
        params[`SendMessageBatchRequestEntry.${i + 1}.Id`] = `m${i}`;
        params[`SendMessageBatchRequestEntry.${i + 1}.MessageBody`] = body;
      });
      await call(params);
    },
    async receive(QueueUrl) {
      const answer = await call({
        Action: "ReceiveMessage",
        QueueUrl,
        MaxNumberOfMessages: "10",
        WaitTimeSeconds: "1",
      });
      const messages = (result(answer, "ReceiveMessage").Message ?? []) as {
        Body: unknown;
        ReceiptHandle: string;
      }[];
      return messages.map((m) => ({ body: String(m.Body), receiptHandle: m.ReceiptHandle }));
    },
    async deleteBatch(QueueUrl, handles) {
      const params: Record<string, string> = { Action: "DeleteMessageBatch", QueueUrl };
      handles.forEach((handle, i) => {
        params[`DeleteMessageBatchRequestEntry.${i + 1}.Id`] = `d${i}`;
        params[`DeleteMessageBatchRequestEntry.${i + 1}.ReceiptHandle`] = handle;
      });
      await call(params);
    },
    close: () => undefined,
  };
}

const STALL_MS = 15_000;

/** A warm-up of `sqsWarmupMessages` (untimed, its figures dropped), then the timed workload. */
async function warmSqsWorkload(
  served: Served,
  protocol: SqsProtocol,
  options: ServerBenchOptions,
): Promise<SqsFigures> {
  if (options.sqsWarmupMessages === 0) return sqsWorkload(served, protocol, options);
  const messages = options.sqsWarmupMessages;
  const warmup = await sqsWorkload(served, protocol, { ...options, numMessages: messages });
  const timed = await sqsWorkload(served, protocol, options);
  return { ...timed, warmup: { messages, messagesPerSecond: warmup.messagesPerSecond } };
}

/** The SQS workload: producers send batches of 10, consumers receive 10 and delete them. */
async function sqsWorkload(
  served: Served,
  protocol: SqsProtocol,
  options: ServerBenchOptions,
): Promise<SqsFigures> {
  const sqs = protocol === "json" ? await sdkClient(served.url) : queryClient(served.url);
  try {
    const queueUrl = await sqs.createQueue(`bench-${protocol}-${Date.now()}`);
    const body = "x".repeat(Math.max(0, options.messageSize - 14));
    const latency = new LatencyHistogram();
    let toSend = options.numMessages;
    let deleted = 0;
    let receives = 0;
    let emptyReceives = 0;
    const cpuBefore = cpuMsOf(served.child.pid!);
    const clientCpuBefore = process.cpuUsage();
    const started = performance.now();
    const producer = async (): Promise<void> => {
      while (toSend > 0) {
        const n = Math.min(10, toSend);
        toSend -= n;
        const sentAt = performance.now().toFixed(3);
        await sqs.sendBatch(
          queueUrl,
          Array.from({ length: n }, () => `${sentAt} ${body}`),
        );
      }
    };
    let progressAt = performance.now();
    const consumer = async (): Promise<void> => {
      while (deleted < options.numMessages) {
        const messages = await sqs.receive(queueUrl);
        receives++;
        if (messages.length === 0) {
          emptyReceives++;
          // An emulator that loses messages would keep the consumers polling for ever.
          if (performance.now() - progressAt > STALL_MS)
            throw new Error(
              `stalled: ${deleted} of ${options.numMessages} messages received and deleted, ` +
                `then nothing for ${STALL_MS / 1000} s`,
            );
          continue;
        }
        progressAt = performance.now();
        const now = performance.now();
        for (const m of messages)
          latency.recordMs(now - Number(m.body.slice(0, m.body.indexOf(" "))));
        await sqs.deleteBatch(
          queueUrl,
          messages.map((m) => m.receiptHandle),
        );
        deleted += messages.length;
      }
    };
    await Promise.all([
      ...Array.from({ length: options.producers }, producer),
      ...Array.from({ length: options.consumers }, consumer),
    ]);
    const seconds = (performance.now() - started) / 1000;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    return {
      messagesPerSecond: options.numMessages / seconds,
      endToEnd: latency.summary(),
      serverCpuMsPer1kMessages:
        ((cpuMsOf(served.child.pid!) - cpuBefore) / options.numMessages) * 1000,
      clientCpuMsPer1kMessages: (clientCpu.user + clientCpu.system) / options.numMessages,
      receives,
      emptyReceives,
    };
  } finally {
    sqs.close();
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

/**
 * JSON requests through `node:http` with keep-alive connections: a client whose own cost per
 * request is a fraction of `fetch`'s, so a latency it measures is mostly the server's.
 */
function httpJsonClient(): {
  call(method: "GET" | "POST", url: string, body?: unknown): Promise<unknown>;
  close(): void;
} {
  const agent = new Agent({ keepAlive: true });
  return {
    call: (method, url, body) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const headers =
          payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) };
        const req = request(url, { method, agent, headers }, (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if ((response.statusCode ?? 0) >= 400)
              reject(new Error(`${url}: ${response.statusCode} ${text.slice(0, 200)}`));
            else resolve(text === "" ? undefined : JSON.parse(text));
          });
        });
        req.on("error", reject);
        req.end(payload);
      }),
    close: () => agent.destroy(),
  };
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

/** Runs `phase` and measures both processes' CPU over it, per item. */
async function measuredCpu<T>(
  served: Served,
  items: number,
  phase: () => Promise<T>,
): Promise<{ result: T; cpu: CpuPerItem }> {
  const serverBefore = cpuMsOf(served.child.pid!);
  const clientBefore = process.cpuUsage();
  const result = await phase();
  const client = process.cpuUsage(clientBefore);
  return {
    result,
    cpu: {
      serverUs: ((cpuMsOf(served.child.pid!) - serverBefore) * 1000) / items,
      clientUs: (client.user + client.system) / items,
    },
  };
}

const cpuLine = (cpu: CpuPerItem, item: string): string =>
  `CPU per ${item}: server ${cpu.serverUs.toFixed(2)} µs, client ${cpu.clientUs.toFixed(2)} µs`;

/** `GET /healthz` from 4 concurrent `fetch` loops: the cost of a request that does nothing. */
async function requestFloor(served: Served, requests: number): Promise<RequestFloor> {
  const serverBefore = cpuMsOf(served.child.pid!);
  const clientBefore = process.cpuUsage();
  let left = requests;
  const loop = async (): Promise<void> => {
    while (left-- > 0) await (await fetch(`${served.url}/healthz`)).arrayBuffer();
  };
  await Promise.all(Array.from({ length: 4 }, loop));
  const client = process.cpuUsage(clientBefore);
  return {
    requests,
    serverCpuUsPerRequest: ((cpuMsOf(served.child.pid!) - serverBefore) * 1000) / requests,
    clientCpuUsPerRequest: (client.user + client.system) / requests,
  };
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/**
 * `held` long polls on as many queues; every poll is woken once unmeasured (as in a server that
 * has been answering polls: its code compiled, the parked polls' state out of the young
 * generation), then `wakes` messages are sent one at a time, each timed from the start of its
 * send until its poll's answer arrives; then as many `GET /healthz` round trips, the floor any
 * request sees on the machine at that moment.
 */
async function longPolls(
  served: Served,
  held: number,
  wakes: number,
): Promise<ServerBenchResult["longPolls"]> {
  const url = served.url;
  const pid = served.child.pid!;
  // Not `fetch`: its own CPU per request (1-2 ms here, several times the server's for a bare
  // request) would be most of what is measured on two shared cores.
  const http = httpJsonClient();
  const post = (to: string, body: unknown): Promise<unknown> => http.call("POST", to, body);
  try {
    const serverRssAtStartBytes = rssOf(pid);
    const names = Array.from({ length: held }, (_, i) => `idle-${i}`);
    for (let i = 0; i < names.length; i += 50)
      await Promise.all(
        names.slice(i, i + 50).map((QueueName) => post(`${url}/queues`, { QueueName })),
      );
    await new Promise((r) => setTimeout(r, 500));
    const serverRssBeforePollsBytes = rssOf(pid);
    // When each poll's answer arrived, for the wake-up waiting on it.
    const answered = new Map<string, (at: number) => void>();
    const poll = (name: string): void => {
      void post(`${url}/queues/${name}/receive`, { WaitTimeSeconds: 20 }).then(
        (result) => {
          const at = performance.now();
          const messages = (result as { Messages?: unknown[] }).Messages ?? [];
          if (messages.length > 0) answered.get(name)?.(at);
          poll(name);
        },
        () => undefined,
      );
    };
    for (const name of names) poll(name);
    // Let every poll reach the server and park.
    await new Promise((r) => setTimeout(r, 2000));
    const serverRssBytes = rssOf(pid);
    const wake = new LatencyHistogram();
    const sendAnswered = new LatencyHistogram();
    const wakeUp = async (name: string): Promise<void> => {
      const answer = new Promise<number>((resolve) => answered.set(name, resolve));
      const sent = performance.now();
      await post(`${url}/queues/${name}/messages`, { MessageBody: "wake" });
      sendAnswered.recordMs(performance.now() - sent);
      wake.recordMs((await answer) - sent);
      answered.delete(name);
    };
    for (let i = 0; i < Math.max(held, 200); i++) await wakeUp(names[i % held]!);
    wake.reset();
    sendAnswered.reset();
    const clientWatch = new PauseMonitor();
    const serverBefore = mainThreadSchedule(pid);
    const cpuPerWake = await measuredCpu(served, wakes, async () => {
      for (let i = 0; i < wakes; i++) await wakeUp(names[(i * 37) % held]!);
    });
    const serverAfter = mainThreadSchedule(pid);
    const clientPauses = await clientWatch.stop();
    const roundTripFloor = new LatencyHistogram();
    const cpuPerFloorRequest = await measuredCpu(served, wakes, async () => {
      for (let i = 0; i < wakes; i++) {
        const started = performance.now();
        await http.call("GET", `${url}/healthz`);
        roundTripFloor.recordMs(performance.now() - started);
      }
    });
    return {
      held,
      serverRssAtStartBytes,
      serverRssBytes,
      serverRssBeforePollsBytes,
      wakes,
      wake: wake.summary(),
      sendAnswered: sendAnswered.summary(),
      roundTripFloor: roundTripFloor.summary(),
      clientPauses,
      serverMainThread:
        serverBefore && serverAfter
          ? {
              onCpuMs: serverAfter.onCpuMs - serverBefore.onCpuMs,
              runQueueWaitMs: serverAfter.runQueueWaitMs - serverBefore.runQueueWaitMs,
            }
          : undefined,
      cpuPerWake: cpuPerWake.cpu,
      cpuPerFloorRequest: cpuPerFloorRequest.cpu,
    };
  } finally {
    http.close();
  }
}

const mb = (bytes: number): number => Math.round(bytes / 1048576);

/** The long polls get a server (and data directory) of their own, started and stopped here. */
async function longPollsOnFreshServer(
  parentDir: string,
  fsync: string,
  held: number,
  wakes: number,
  profileDir: string | undefined,
): Promise<ServerBenchResult["longPolls"]> {
  const served = await startSluice(join(parentDir, "long-polls"), fsync, profileDir);
  try {
    return await longPolls(served, held, wakes);
  } finally {
    await served.stop();
  }
}

/** The long-poll phase alone (`bench server --only long-polls`): the figures of its own run. */
export interface LongPollBenchResult {
  readonly benchmark: "server";
  readonly parameters: ServerBenchOptions;
  readonly machine: ReturnType<typeof machineInfo>;
  readonly longPolls: ServerBenchResult["longPolls"];
}

const longPollLine = (polls: ServerBenchResult["longPolls"]): string =>
  `server long polls: ${polls.held} held, server RSS ${mb(polls.serverRssBytes)} MB ` +
  `(${mb(polls.serverRssAtStartBytes)} MB at start, ${mb(polls.serverRssBeforePollsBytes)} MB with the queues and no poll), ` +
  `${polls.wakes} wake-ups: send -> poll answered p50 ${polls.wake.p50Ms.toFixed(2)} ms, p99 ${polls.wake.p99Ms.toFixed(2)} ms, p99.9 ${polls.wake.p999Ms.toFixed(2)} ms ` +
  `(send -> send answered p50 ${polls.sendAnswered.p50Ms.toFixed(2)} ms, p99 ${polls.sendAnswered.p99Ms.toFixed(2)} ms; ` +
  `GET /healthz round trip p50 ${polls.roundTripFloor.p50Ms.toFixed(2)} ms, p99 ${polls.roundTripFloor.p99Ms.toFixed(2)} ms), ` +
  `${cpuLine(polls.cpuPerWake, "wake-up")}; ${cpuLine(polls.cpuPerFloorRequest, "GET /healthz")}\n` +
  `during the wake-ups: server main thread ${serverThreadLine(polls.serverMainThread)}; client ${pauseLine(polls.clientPauses)}`;

const serverThreadLine = (t: ThreadSchedule | undefined): string =>
  t === undefined
    ? "schedule unknown"
    : `on a core ${t.onCpuMs.toFixed(0)} ms, waited ${t.runQueueWaitMs.toFixed(0)} ms for one`;

/** Only the idle long polls, on a fresh server: a run well under a minute. */
export async function runLongPollBench(options: ServerBenchOptions): Promise<LongPollBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-server-bench-"));
  try {
    const fsync = options.fsync === "interval" ? "50" : options.fsync;
    const polls = await longPollsOnFreshServer(
      dataDir,
      fsync,
      options.longPolls,
      options.longPollWakes,
      options.profileDir,
    );
    if (!options.quiet) process.stdout.write(`${longPollLine(polls)}\n`);
    return { benchmark: "server", parameters: options, machine: machineInfo(), longPolls: polls };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const sqsLine = (f: SqsFigures): string =>
  `${Math.round(f.messagesPerSecond)} messages/s (batches of 10, send -> receive -> delete), ` +
  `e2e p50 ${f.endToEnd.p50Ms.toFixed(1)} ms, CPU per 1,000 messages: server ` +
  `${f.serverCpuMsPer1kMessages.toFixed(0)} ms, client ${f.clientCpuMsPer1kMessages.toFixed(0)} ms, ` +
  `${f.receives} receives (${f.emptyReceives} empty)` +
  (f.warmup === undefined
    ? ""
    : ` (after an untimed warm-up of ${f.warmup.messages} at ${Math.round(f.warmup.messagesPerSecond)}/s)`);

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
  const peers: Record<string, (SqsFigures & { protocol: SqsProtocol }) | { error: string }> = {};
  try {
    const sluice = await startSluice(dataDir, fsync, options.profileDir);
    let sqsSdk: SqsFigures;
    let sqsQuery: SqsFigures;
    let rest: number;
    let ws: number;
    let restCpu: CpuPerItem;
    let wsCpu: CpuPerItem;
    let floor: RequestFloor;
    try {
      sqsSdk = await warmSqsWorkload(sluice, "json", options);
      say(`server sqs-sdk sluice: ${sqsLine(sqsSdk)}`);
      sqsQuery = await warmSqsWorkload(sluice, "query", options);
      say(`server sqs-query sluice: ${sqsLine(sqsQuery)}`);
      const produced = await measuredCpu(sluice, options.restRecords, () =>
        restProduce(sluice.url, options),
      );
      rest = produced.result;
      restCpu = produced.cpu;
      say(
        `server rest produce: ${Math.round(rest)} records/s (batches of ${options.restBatch}), ` +
          cpuLine(restCpu, "record"),
      );
      const consumed = await measuredCpu(sluice, options.restRecords, () =>
        webSocketConsume(sluice.url, options.restRecords),
      );
      ws = consumed.result;
      wsCpu = consumed.cpu;
      say(`server websocket consume: ${Math.round(ws)} records/s, ${cpuLine(wsCpu, "record")}`);
      floor = await requestFloor(sluice, 5_000);
      say(
        `server request floor (GET /healthz through fetch): server ${floor.serverCpuUsPerRequest.toFixed(0)} µs, ` +
          `client ${floor.clientCpuUsPerRequest.toFixed(0)} µs of CPU per request`,
      );
    } finally {
      await sluice.stop();
    }
    const polls = await longPollsOnFreshServer(
      dataDir,
      fsync,
      options.longPolls,
      options.longPollWakes,
      options.profileDir,
    );
    say(longPollLine(polls));
    const ratios: number[] = [];
    if (options.peers)
      for (const [name, start, protocol] of [
        ["fauxqs", startFauxqs, "json"],
        ["sqslite", startSqslite, "query"],
      ] as const) {
        let peer: Served | undefined;
        const label = `server sqs-${protocol === "json" ? "sdk" : "query"} ${name}`;
        try {
          peer = await start();
          const figures = await warmSqsWorkload(peer, protocol, options);
          peers[name] = { ...figures, protocol };
          const ours = protocol === "json" ? sqsSdk : sqsQuery;
          ratios.push(ours.messagesPerSecond / figures.messagesPerSecond);
          say(`${label}: ${sqsLine(figures)}`);
        } catch (error) {
          peers[name] = { error: (error as Error).message.slice(0, 300) };
          say(`${label}: failed: ${(error as Error).message.slice(0, 200)}`);
        } finally {
          await peer?.stop();
        }
      }
    // Against the faster peer: the smaller of the ratios, each in the peer's own protocol.
    const ratio = ratios.length === 0 ? undefined : Math.min(...ratios);
    if (ratio !== undefined) say(`server sqs-sdk: sluice / faster peer = ${ratio.toFixed(2)}x`);
    return {
      benchmark: "server",
      parameters: options,
      machine: machineInfo(),
      sqsSdk,
      sqsQuery,
      peers,
      ratioToFasterPeer: ratio,
      restProduceRecordsPerSecond: rest,
      restProduceCpu: restCpu,
      webSocketConsumeRecordsPerSecond: ws,
      webSocketConsumeCpu: wsCpu,
      requestFloor: floor,
      longPolls: polls,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
