/**
 * Committed offsets live in the compacted `__consumer_offsets` topic: after it compacts (many
 * commits over small segments, the older ones superseded) and the service reopens, each group
 * still gets its last committed offsets, a group committed to long ago keeps its own, and a
 * deleted group stays deleted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { compactLog } from "../../engine/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import { OFFSETS_TOPIC } from "./internal-topics.js";
import { isTopicError } from "./topic-error.js";

let dir: string;
let clock: VirtualClock;
let topics: EmbeddedTopicService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-offsets-"));
  clock = new VirtualClock();
  topics = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
});

afterEach(async () => {
  await topics.close();
  rmSync(dir, { recursive: true, force: true });
});

async function reopen(): Promise<void> {
  await topics.close();
  topics = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
}

const offsetsLog = () => topics.broker.partitionLog(OFFSETS_TOPIC, 0);

it("committed offsets stay the last ones committed after __consumer_offsets compacts and the service reopens", async () => {
  // Small segments, so the commits below fill many and compaction has sealed ones to clean.
  await topics.admin.alterTopicConfig(OFFSETS_TOPIC, { segmentBytes: 1024 });
  expect((await topics.admin.describeTopic(OFFSETS_TOPIC)).config.cleanupPolicy).toBe("compact");
  await topics.admin.createTopic({ name: "src", partitions: 3 });
  const producer = topics.producer({ lingerMs: 0 });
  for (const partition of [0, 1, 2])
    await producer.sendBatch(
      Array.from({ length: 400 }, (_, i) => ({ topic: "src", partition, value: `${i}` })),
    );
  await producer.close();
  const partitions = [0, 1, 2].map((partition) => ({ topic: "src", partition }));

  // Committed once, early: its records end up in the oldest segment, superseded by nothing.
  await topics.admin.alterGroupOffsets("early", [{ topic: "src", partition: 1, offset: 7 }]);
  // Committed, then deleted (tombstones): it must not come back.
  await topics.admin.alterGroupOffsets("gone", [{ topic: "src", partition: 0, offset: 3 }]);
  await topics.admin.deleteGroup("gone");

  const member = topics.consumer({ groupId: "main", autoCommit: false });
  await member.subscribe(["src"]);
  for (let round = 1; round <= 150; round++) {
    // Partition 2 is committed every seventh round only: its last commit is older than the others'.
    const commits = partitions
      .filter((tp) => tp.partition !== 2 || round % 7 === 0)
      .map((tp) => ({ ...tp, offset: 100 * tp.partition + round, metadata: `r${round}` }));
    await member.commitSync(commits);
  }
  await member.close();
  // Compaction runs on a reopened service: on the one that just rolled these segments, a
  // segment's background seal (its fsync) may still be pending, and compacting that segment
  // closes the handle the seal then syncs, which stops the log (an engine race, not what
  // this test is about).
  await reopen();
  const expected = [
    { topic: "src", partition: 0, offset: 150, metadata: "r150" },
    { topic: "src", partition: 1, offset: 250, metadata: "r150" },
    { topic: "src", partition: 2, offset: 347, metadata: "r147" },
  ];

  const log = offsetsLog().log;
  expect(log.segmentInfos().length).toBeGreaterThan(10);
  const before = log.sizeBytes;
  const compacted = await compactLog(log);
  expect(compacted.segmentsRewritten).toBeGreaterThan(0);
  // Almost every commit was superseded by a later one for the same group and partition.
  expect(compacted.recordsRemoved).toBeGreaterThan(300);
  expect(log.sizeBytes).toBeLessThan(before);
  // The service that compacted answers as before.
  expect(await topics.admin.listGroupOffsets("main")).toEqual(expected);

  await reopen();
  expect(offsetsLog().log.sizeBytes).toBeLessThan(before);
  expect(await topics.admin.listGroupOffsets("main")).toEqual(expected);
  expect(await topics.admin.listGroupOffsets("early")).toEqual([
    { topic: "src", partition: 1, offset: 7, metadata: "" },
  ]);
  expect((await topics.admin.listGroups()).map((g) => g.groupId)).toEqual(["early", "main"]);
  const describeGone = await topics.admin.describeGroup("gone").then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTopicError(describeGone, "GROUP_ID_NOT_FOUND")).toBe(true);

  // A member of the group resumes at the last commits.
  const resumed = topics.consumer({ groupId: "main", autoCommit: false });
  await resumed.subscribe(["src"]);
  expect(await resumed.committed(partitions)).toEqual(expected);
  const firstOffsets = new Map<number, number>();
  for (let i = 0; i < 20 && firstOffsets.size < 3; i++)
    for (const r of await resumed.poll())
      if (!firstOffsets.has(r.partition)) firstOffsets.set(r.partition, r.offset);
  expect([0, 1, 2].map((p) => firstOffsets.get(p))).toEqual([150, 250, 347]);
  await resumed.close();
});
