import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ConsumerRecord } from "../../messaging/topics/topic-consumer.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { NatsTopicService } from "./nats-topic-service.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";
import { startTestCluster } from "./test-support/nats-cluster.js";

// SIGKILL of a process compacting a partition (replicas 3) while it writes to it, four rounds:
// afterwards no acknowledged record is lost unless a newer record of its key superseded it,
// no key shows an older value than its newest acknowledged record, nothing appears that was
// never sent, and a round after the kills leaves exactly each key's newest value.
const workerScript = fileURLToPath(
  new URL("./test-support/nats-compaction-crash-worker.ts", import.meta.url),
);
const ROUNDS = 4;

/** A record as the worker said it sent it. */
interface Sent {
  readonly id: string;
  readonly key: string | null;
  readonly tombstone: boolean;
  /** Where it was stored, once acknowledged. */
  offset?: number;
}

/** Records as stored, by id. */
interface Present {
  readonly id: string;
  readonly offset: number;
  readonly key: string | null;
  readonly tombstone: boolean;
  readonly value: string | null;
}

describeWithNats("NATS JetStream topic compaction: SIGKILL mid-round", () => {
  let cluster: LoopbackNatsCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("loses no record a newer one did not supersede, and shows no key an older value", async () => {
    const namespace = `C${randomBytes(4).toString("hex")}`;
    const sent = new Map<string, Sent>();
    let killedMidRound = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const lines = await runAndKill(cluster.servers, namespace, round);
      for (const line of lines) {
        const [kind, id, key, value, offset] = line.split(" ");
        if ((kind !== "s" && kind !== "S") || id === undefined) continue;
        const record = sent.get(id) ?? {
          id,
          key: key === "-" ? null : key!,
          tombstone: value === "~",
        };
        if (kind === "S") record.offset = Number(offset);
        sent.set(id, record);
      }
      const rounds = lines.filter((l) => l === "c" || l.startsWith("C "));
      if (rounds.at(-1) === "c") killedMidRound++;
    }
    const acked = [...sent.values()].filter((r) => r.offset !== undefined);
    expect(acked.length).toBeGreaterThan(100);
    // Rounds run back to back, so nearly every kill lands inside one.
    expect(killedMidRound).toBeGreaterThan(0);

    const service = await NatsTopicService.open({
      servers: cluster.servers,
      replicas: 3,
      namespace,
      compactionIntervalMs: 0,
      deleteRetentionMs: 0,
    });
    try {
      const before = await readPresent(service);
      for (const record of before) {
        const issued = sent.get(record.id);
        expect(issued, `record ${record.id} at ${record.offset} was sent`).toBeDefined();
        expect([record.key, record.tombstone]).toEqual([issued!.key, issued!.tombstone]);
        if (issued!.offset !== undefined) expect(record.offset).toBe(issued!.offset);
        if (!record.tombstone) expect(record.value).toBe(`v${record.id}`);
      }
      const presentIds = new Set(before.map((r) => r.id));
      const keylessLost = acked.filter((r) => r.key === null && !presentIds.has(r.id));
      expect(keylessLost.map((r) => r.id)).toEqual([]);
      const newestPresent = newestByKey(before);
      for (const key of new Set(acked.map((r) => r.key))) {
        if (key === null) continue;
        const newestAcked = newest(acked.filter((r) => r.key === key))!;
        const shown = newestPresent.get(key);
        if (shown !== undefined) {
          // What the key shows is its newest acknowledged record or one sent after it.
          expect(order(shown.id), `key ${key}`).toBeGreaterThanOrEqual(order(newestAcked.id));
        } else {
          // Gone entirely: only behind a tombstone sent no earlier than its newest acknowledged
          // record (possibly the one in flight at a kill, stored but not acknowledged).
          const deleted = [...sent.values()].some(
            (r) => r.key === key && r.tombstone && order(r.id) >= order(newestAcked.id),
          );
          expect(deleted, `key ${key} has no record, and no tombstone removed it`).toBe(true);
        }
      }

      // A full round now leaves each key's newest value (and the last record, whatever it is).
      await service.compactTopics();
      const after = await readPresent(service);
      const last = after.at(-1)!;
      for (const record of after) {
        if (record.key === null || record === last) continue;
        expect(record.tombstone, `tombstone ${record.id} left`).toBe(false);
        expect(newestPresent.get(record.key)?.id).toBe(record.id);
      }
      for (const [key, record] of newestPresent)
        if (!record.tombstone)
          expect(
            after.some((r) => r.id === record.id),
            key,
          ).toBe(true);
      expect(after.filter((r) => r.key === null).map((r) => r.id)).toEqual(
        before.filter((r) => r.key === null).map((r) => r.id),
      );
    } finally {
      await service.close();
    }
  });
});

/** Runs the worker until it has written and compacted a while, SIGKILLs it, returns its lines. */
async function runAndKill(servers: string, namespace: string, round: number): Promise<string[]> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", workerScript, servers, namespace, String(round)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => (out += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  for (let i = 0; i < 300 && !/\nC \d+\n/.test(out); i++) await sleep(50);
  // Somewhere inside a later round: its scan, or its removals.
  await sleep(300 + Math.floor(Math.random() * 1200));
  child.kill("SIGKILL");
  await exited;
  return out.split("\n");
}

/** Every record of partition 0, in offset order. */
async function readPresent(service: NatsTopicService): Promise<Present[]> {
  const end = (await service.admin.describePartition("state", 0)).highWatermark;
  const consumer = service.consumer({ autoOffsetReset: "earliest" });
  try {
    await consumer.assign([{ topic: "state", partition: 0 }]);
    const records: ConsumerRecord[] = [];
    for (let polls = 0; (records.at(-1)?.offset ?? -1) < end - 1 && polls < 100; polls++)
      records.push(...(await consumer.poll({ timeoutMs: 200 })));
    return records.map((r) => ({
      id: r.headers.find((h) => h.key === "id")?.value?.toString() ?? "",
      offset: r.offset,
      key: r.key?.toString() ?? null,
      tombstone: r.value === null,
      value: r.value?.toString() ?? null,
    }));
  } finally {
    await consumer.close();
  }
}

/** Ids `<round>-<n>` in the order the records were sent. */
function order(id: string): number {
  const [round, n] = id.split("-").map(Number);
  return round! * 1e9 + n!;
}

function newest<T extends { readonly id: string }>(records: T[]): T | undefined {
  return records.reduce<T | undefined>(
    (a, b) => (a === undefined || order(b.id) > order(a.id) ? b : a),
    undefined,
  );
}

function newestByKey(records: Present[]): Map<string, Present> {
  const byKey = new Map<string, Present>();
  for (const record of records) {
    if (record.key === null) continue;
    const seen = byKey.get(record.key);
    if (seen === undefined || order(record.id) > order(seen.id)) byKey.set(record.key, record);
  }
  return byKey;
}
