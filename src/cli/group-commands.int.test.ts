import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedTopicService } from "../messaging/topics/embedded-topic-service.js";
import type { TopicConsumer } from "../messaging/topics/index.js";
import { SluiceServer } from "../server/index.js";
import { open } from "../sluice/index.js";
import { cliMain } from "./test-support/cli-build.js";
import { runCli } from "./test-support/run-cli.js";

/**
 * `sluice groups list | describe` on a group whose members are alive: kafka-consumer-groups'
 * columns filled from them, the lag of each partition, and `--watch` following the lag while
 * they run. The members live in this process, on the topics a server serves; the command line
 * reaches them through `--server`, as it does a running `sluice start`.
 */
const root = mkdtempSync(join(tmpdir(), "sluice-groups-cli-"));
let topics: EmbeddedTopicService;
let server: SluiceServer;
let url: string;
const consumers: TopicConsumer[] = [];

beforeAll(async () => {
  topics = await EmbeddedTopicService.open(join(root, "served"), { fsync: "never" });
  server = await SluiceServer.create({ topics }, { port: 0 });
  url = await server.listen();
});
afterAll(async () => {
  for (const c of consumers) await c.close();
  await server?.close();
  await topics?.close();
  rmSync(root, { recursive: true, force: true });
});

/** The rows of a table as kafka-consumer-groups prints it, split on its column gaps. */
const rows = (table: string): string[][] =>
  table
    .trim()
    .split("\n")
    .map((line) => line.split(/\s+/));

const HEADER = [
  "GROUP",
  "TOPIC",
  "PARTITION",
  "CURRENT-OFFSET",
  "LOG-END-OFFSET",
  "LAG",
  "CONSUMER-ID",
  "HOST",
  "CLIENT-ID",
];

type Owners = Map<number, { memberId: string; clientId: string }>;

/** Two members of "billing" on "orders" (two partitions), one partition each (made once). */
let billing: Promise<Owners> | undefined;
const twoMembers = (): Promise<Owners> => (billing ??= joinTwoMembers());

async function joinTwoMembers(): Promise<Owners> {
  await topics.admin.createTopic({ name: "orders", partitions: 2 });
  const producer = topics.producer({ lingerMs: 0 });
  await producer.sendBatch([
    ...[1, 2, 3, 4, 5].map((i) => ({ topic: "orders", partition: 0, value: `a${i}` })),
    ...[1, 2, 3].map((i) => ({ topic: "orders", partition: 1, value: `b${i}` })),
  ]);
  await producer.close();
  const members = ["billing-a", "billing-b"].map((clientId) => {
    const consumer = topics.consumer({
      groupId: "billing",
      clientId,
      autoCommit: false,
      autoOffsetReset: "earliest",
      maxPollRecords: 1,
    });
    consumers.push(consumer);
    return { consumer, clientId };
  });
  for (const { consumer } of members) await consumer.subscribe(["orders"]);
  // Polling takes the members through the rebalance the second one's join started.
  const deadline = Date.now() + 30_000;
  while (members.some(({ consumer }) => consumer.assignment().length !== 1)) {
    if (Date.now() > deadline) throw new Error("the group did not settle on one partition each");
    await Promise.all(members.map(({ consumer }) => consumer.poll({ timeoutMs: 50 })));
  }
  const owners = new Map<number, { memberId: string; clientId: string; consumer: TopicConsumer }>();
  for (const { consumer, clientId } of members)
    owners.set(consumer.assignment()[0]!.partition, {
      memberId: consumer.groupMetadata().memberId,
      clientId,
      consumer,
    });
  // Partition 0's owner has processed two records; partition 1's has committed nothing.
  await owners.get(0)!.consumer.commitSync([{ topic: "orders", partition: 0, offset: 2 }]);
  return owners;
}

describe("sluice groups, with live members", () => {
  it("describes each partition with its owner's member id, host and client id, and its lag; lists the group as Stable", async () => {
    const owners = await twoMembers();
    expect(new Set([...owners.values()].map((o) => o.clientId))).toEqual(
      new Set(["billing-a", "billing-b"]),
    );
    const described = await runCli(["groups", "describe", "--server", url, "billing"]);
    expect(described).toMatchObject({ code: 0, stderr: "" });
    const host = `/${hostname()}`;
    expect(rows(described.stdout)).toEqual([
      HEADER,
      [
        "billing",
        "orders",
        "0",
        "2",
        "5",
        "3",
        owners.get(0)!.memberId,
        host,
        owners.get(0)!.clientId,
      ],
      // No committed offset: no current offset and no lag, as Kafka prints it.
      [
        "billing",
        "orders",
        "1",
        "-",
        "3",
        "-",
        owners.get(1)!.memberId,
        host,
        owners.get(1)!.clientId,
      ],
    ]);
    // Columns line up under their headings.
    const lines = described.stdout.split("\n");
    expect(lines[1]!.indexOf(owners.get(0)!.memberId)).toBe(lines[0]!.indexOf("CONSUMER-ID"));

    const listed = await runCli(["groups", "list", "--server", url]);
    expect(listed).toMatchObject({ code: 0, stderr: "" });
    expect(rows(listed.stdout)).toEqual([
      ["GROUP", "STATE", "MEMBERS"],
      ["billing", "Stable", "2"],
    ]);
  });

  it("--watch prints the table again every interval, with the lag as it grows, until interrupted", async () => {
    await twoMembers();
    const child = spawn(
      process.execPath,
      [cliMain(), "groups", "describe", "--server", url, "billing", "--watch", "0.2"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    const until = async (what: string, done: () => boolean): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`no ${what} in:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const snapshots = (): string[] => stdout.split(/\n(?=\d{4}-\d\d-\d\dT[\d:.]+Z\n)/);
    // The log end of partition 0 in the first table (5, unless a retry of this test added to it).
    let logEnd = 0;
    try {
      await until("first table", () => /^billing\s+orders\s+1\s/m.test(stdout));
      const first = rows(snapshots()[0]!)[1]!;
      expect(first.slice(0, 4)).toEqual(["billing", "orders", "0", "2"]);
      logEnd = Number(first[4]);
      expect(first[5]).toBe(String(logEnd - 2));
      // Four more records to partition 0: a later table shows the log end and the lag grown.
      const producer = topics.producer({ lingerMs: 0 });
      await producer.sendBatch(
        [1, 2, 3, 4].map((i) => ({ topic: "orders", partition: 0, value: `c${i}` })),
      );
      await producer.close();
      const grown = new RegExp(
        `^billing\\s+orders\\s+0\\s+2\\s+${logEnd + 4}\\s+${logEnd + 2}\\s`,
        "m",
      );
      await until("table with the new lag", () => grown.test(stdout));
    } finally {
      child.kill("SIGINT");
    }
    expect(await exit).toBe(0);
    expect(stderr).toBe("");
    const all = snapshots();
    expect(all.length).toBeGreaterThanOrEqual(2);
    // Each print after the first: a blank line, the time, then the whole table again.
    for (const later of all.slice(1)) {
      const [time, ...table] = later.split("\n");
      expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(rows(table.join("\n"))[0]).toEqual(HEADER);
      expect(rows(table.join("\n"))).toHaveLength(3);
    }
    expect(rows(all.at(-1)!.split("\n").slice(1).join("\n"))[1]!.slice(0, 6)).toEqual([
      "billing",
      "orders",
      "0",
      "2",
      String(logEnd + 4),
      String(logEnd + 2),
    ]);
  });
});

describe("sluice groups list --data-dir", () => {
  it("lists each group of a data directory with its state and member count", async () => {
    const data = join(mkdtempSync(join(root, "data-")), "data");
    const s = await open(data, { fsync: "never" });
    await s.topics.admin.createTopic({ name: "orders" });
    for (const group of ["shipping", "audit"])
      await s.topics.admin.alterGroupOffsets(group, [{ topic: "orders", partition: 0, offset: 0 }]);
    await s.close();
    const listed = await runCli(["groups", "list", "--data-dir", data]);
    expect(listed).toMatchObject({ code: 0, stderr: "" });
    expect(rows(listed.stdout)).toEqual([
      ["GROUP", "STATE", "MEMBERS"],
      ["audit", "Empty", "0"],
      ["shipping", "Empty", "0"],
    ]);
  });
});
