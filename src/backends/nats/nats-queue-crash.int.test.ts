import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { PeekedMessage } from "../../messaging/queues/queue-service.js";
import { NatsQueueService } from "./nats-queue-service.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";

// SIGKILL of a Sluice process with sends, receives and deletes in flight, three rounds on one
// queue (replicas 3): afterwards every acknowledged send that no delete was issued for is in
// the queue, no acknowledged delete's message is, and nothing that was never sent is. Beside it
// a queue whose every message is dead-lettered: each acknowledged send there is afterwards in
// the queue or in its dead-letter queue (stored in the DLQ before it leaves the source, so a
// kill between the two may leave it in both, never in neither).
const workerScript = fileURLToPath(new URL("./test-support/nats-crash-worker.ts", import.meta.url));

describeWithNats("NATS JetStream queues: SIGKILL of a writer", () => {
  let cluster: LoopbackNatsCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("keeps every acknowledged send, loses no acknowledged delete, invents nothing", async () => {
    const namespace = `C${randomBytes(4).toString("hex")}`;
    const issued = new Set<string>();
    const acked = new Set<string>();
    const deleteIssued = new Set<string>();
    const deleted = new Set<string>();
    const poisonIssued = new Set<string>();
    const poisonAcked = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const lines = await runAndKill(cluster.servers, namespace, round);
      for (const line of lines) {
        const [kind, body] = line.split(" ");
        if (body === undefined) continue;
        if (kind === "s") issued.add(body);
        else if (kind === "S") acked.add(body);
        else if (kind === "d") deleteIssued.add(body);
        else if (kind === "D") deleted.add(body);
        else if (kind === "p") poisonIssued.add(body);
        else if (kind === "P") poisonAcked.add(body);
      }
    }
    expect(acked.size).toBeGreaterThan(100);
    expect(deleted.size).toBeGreaterThan(10);
    const service = await NatsQueueService.open({
      servers: cluster.servers,
      namespace,
      replicas: 3,
      catalogBucket: "SLUICE_CRASH_catalog",
    });
    try {
      const { QueueUrl } = await service.getQueueUrl({ QueueName: "jobs" });
      const present = new Set((await peekAll(service, QueueUrl)).map((m) => m.Body));
      const lost = [...acked].filter((b) => !deleteIssued.has(b) && !present.has(b));
      expect(lost).toEqual([]);
      expect([...deleted].filter((b) => present.has(b))).toEqual([]);
      expect([...present].filter((b) => !issued.has(b))).toEqual([]);

      const inPoison = await peekAll(
        service,
        (await service.getQueueUrl({ QueueName: "poison" })).QueueUrl,
      );
      const inDlq = await peekAll(
        service,
        (await service.getQueueUrl({ QueueName: "poison-dlq" })).QueueUrl,
      );
      const somewhere = new Set([...inPoison, ...inDlq].map((m) => m.Body));
      expect(inDlq.length).toBeGreaterThan(10);
      expect([...poisonAcked].filter((b) => !somewhere.has(b))).toEqual([]);
      expect([...somewhere].filter((b) => !poisonIssued.has(b))).toEqual([]);
    } finally {
      await service.close();
    }
  });
});

/** Runs the worker until it has done some work, SIGKILLs it, returns its stdout lines. */
async function runAndKill(servers: string, namespace: string, round: number): Promise<string[]> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", workerScript, servers, namespace, String(round)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => (out += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  for (let i = 0; i < 200 && !out.includes("ready\n"); i++) await sleep(50);
  await sleep(1500);
  child.kill("SIGKILL");
  await exited;
  return out.split("\n");
}

async function peekAll(service: NatsQueueService, QueueUrl: string): Promise<PeekedMessage[]> {
  const all: PeekedMessage[] = [];
  for (;;) {
    const last = all[all.length - 1];
    const { Messages } = await service.peekMessages({
      QueueUrl,
      MaxNumberOfMessages: 1000,
      ...(last === undefined ? {} : { AfterSequenceNumber: last.SequenceNumber }),
    });
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}
