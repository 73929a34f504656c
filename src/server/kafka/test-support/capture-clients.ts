// Records the requests librdkafka (kcat, confluent-kafka) and kafka-python send (the first of
// each API and version per client) through a relaying socket, as fixtures for the codec test:
//   npx tsx src/server/kafka/test-support/capture-clients.ts
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { KafkaServer } from "../kafka-server.js";
import { FrameDecoder } from "../protocol/frame-decoder.js";
import { KCAT, PYTHON, clientScript, run, runJson } from "./client-processes.js";
import { EmbeddedTopicService } from "../../../messaging/topics/embedded-topic-service.js";
import { embeddedKafkaBackend } from "../embedded-kafka-backend.js";

type Capture = Map<string, { apiKey: number; apiVersion: number; hex: string }>;
const captures = new Map<string, Capture>();
let current: Capture = new Map();
let upstreamPort = 0;

const relay = createServer((client) => {
  const upstream = connect(upstreamPort, "127.0.0.1");
  const frames = new FrameDecoder();
  const into = current;
  client.on("data", (chunk: Buffer) => {
    for (const frame of frames.push(chunk)) {
      const apiKey = frame.readInt16BE(0);
      const apiVersion = frame.readInt16BE(2);
      const key = `${apiKey}/${apiVersion}`;
      if (!into.has(key)) into.set(key, { apiKey, apiVersion, hex: frame.toString("hex") });
    }
    upstream.write(chunk);
  });
  upstream.on("data", (chunk: Buffer) => client.write(chunk));
  client.on("close", () => upstream.destroy());
  upstream.on("close", () => client.destroy());
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
});
await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
const relayPort = (relay.address() as AddressInfo).port;
const bootstrap = `127.0.0.1:${relayPort}`;
// Embedded topics, so that transactions are served too.
const dir = mkdtempSync(join(tmpdir(), "sluice-capture-"));
const topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
const server = await KafkaServer.listen({
  backend: embeddedKafkaBackend(topics),
  port: 0,
  advertisedPort: relayPort,
});
upstreamPort = server.port;

function client(name: string): void {
  current = new Map();
  captures.set(name, current);
}

/** Runs a group member for a while, then stops it as a user would (it commits and leaves). */
async function briefly(command: string, args: string[], ms: number): Promise<void> {
  const child = spawn(command, args, { stdio: ["pipe", "ignore", "ignore"] });
  await new Promise((r) => setTimeout(r, ms));
  child.stdin.end();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

client("kcat (librdkafka)");
await run(KCAT, ["-b", bootstrap, "-L"]);
await run(KCAT, ["-b", bootstrap, "-P", "-t", "kc", "-z", "lz4", "-X", "acks=all"], "a\nb\n");
await run(KCAT, ["-b", bootstrap, "-C", "-t", "kc", "-o", "beginning", "-e"]);
await briefly(KCAT, ["-b", bootstrap, "-G", "kcat-group", "kc"], 4000);

for (const [name, script] of [
  ["confluent-kafka (librdkafka)", "confluent_kafka_client.py"],
  ["kafka-python", "kafka_python_client.py"],
] as const) {
  client(name);
  const step = (...args: string[]) => runJson(PYTHON, [clientScript(script), bootstrap, ...args]);
  await step("cluster");
  await step("create", `${script}-t`, "5");
  await step("produce-codecs", `${script}-t`, "2");
  await step("consume-all", `${script}-t`, "10");
  await briefly(PYTHON, [clientScript(script), bootstrap, "member", `${script}-t`, "cg"], 6000);
  await step("lag", `${script}-t`, "cg");
  if (script === "confluent_kafka_client.py") {
    await step("transactions", `${script}-t`, "capture-txn", "2");
    await step("read-isolated", `${script}-t`, "read_committed");
    await step("create", `${script}-out`, "5");
    await step("read-process-write", `${script}-t`, `${script}-out`, "rpw", "capture-rpw");
  }
}

await server.close();
await topics.close();
rmSync(dir, { recursive: true, force: true });
relay.close();

const out = [...captures].map(([name, requests]) => ({
  client: name,
  requests: [...requests.values()].sort(
    (a, b) => a.apiKey - b.apiKey || a.apiVersion - b.apiVersion,
  ),
}));
const file = fileURLToPath(new URL("./client-requests.json", import.meta.url));
writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
for (const c of out)
  console.log(`${c.client}: ${c.requests.map((r) => `${r.apiKey}v${r.apiVersion}`).join(" ")}`);
