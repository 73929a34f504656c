// Records the requests librdkafka (kcat, confluent-kafka) and kafka-python send in the sessions
// the client tests run, every version advertised (the first of each API and version per client,
// through the relaying socket of test-support/capture-harness.ts), as fixtures for the codec test:
//   npx tsx src/server/kafka/test-support/capture-clients.ts
import { spawn } from "node:child_process";
import {
  type CapturedRequest,
  CapturedRequests,
  UNCLAMPED,
  captureRun,
  writeFixture,
} from "./capture-harness.js";
import { KCAT, PYTHON, clientScript, run, runJson } from "./client-processes.js";

/** Runs a group member for a while, then stops it as a user would (it commits and leaves). */
async function briefly(command: string, args: string[], ms: number): Promise<void> {
  const child = spawn(command, args, { stdio: ["pipe", "ignore", "ignore"] });
  await new Promise((r) => setTimeout(r, ms));
  child.stdin.end();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

const out: { client: string; requests: CapturedRequest[] }[] = [];
async function client(name: string, drive: (bootstrap: string) => Promise<void>): Promise<void> {
  const requests = new CapturedRequests();
  requests.add(await captureRun(UNCLAMPED, drive));
  out.push({ client: name, requests: requests.sorted() });
  console.log(`${name}: ${requests.summary()}`);
}

await client("kcat (librdkafka)", async (bootstrap) => {
  await run(KCAT, ["-b", bootstrap, "-L"]);
  await run(KCAT, ["-b", bootstrap, "-P", "-t", "kc", "-z", "lz4", "-X", "acks=all"], "a\nb\n");
  await run(KCAT, ["-b", bootstrap, "-C", "-t", "kc", "-o", "beginning", "-e"]);
  await briefly(KCAT, ["-b", bootstrap, "-G", "kcat-group", "kc"], 4000);
});

for (const [name, script] of [
  ["confluent-kafka (librdkafka)", "confluent_kafka_client.py"],
  ["kafka-python", "kafka_python_client.py"],
] as const) {
  await client(name, async (bootstrap) => {
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
  });
}

console.log(`written to ${writeFixture("client-requests.json", out)}`);
