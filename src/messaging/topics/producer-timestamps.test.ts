// A clock reading costs a system call on some virtual machines, as much as sending a record:
// records sent in one synchronous run share readings for their timestamps, a fresh one every
// 16 records, and a record sent after the run gets a reading of its own.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";

/** A clock the test moves by hand, in the middle of a synchronous run too, counting its reads. */
class HandClock extends VirtualClock {
  time = Date.UTC(2026, 0, 1);
  reads = 0;
  override now(): number {
    this.reads++;
    return this.time;
  }
}

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it("records sent in one run share a clock reading per 16 records; a later run reads the clock again", async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-producer-timestamps-"));
  const clock = new HandClock();
  const topics = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
  try {
    await topics.admin.createTopic({ name: "stamps", partitions: 1 });
    const producer = topics.producer({ lingerMs: 60_000 });
    const start = clock.time;
    const readsBefore = clock.reads;
    const sent = [];
    for (let i = 0; i < 40; i++) {
      sent.push(producer.send({ topic: "stamps", value: `record ${i}` }));
      clock.time++; // a millisecond per record, so each reading shows when it was taken
    }
    expect(clock.reads - readsBefore).toBe(3);
    await Promise.resolve(); // the run is over
    clock.time += 1000;
    sent.push(producer.send({ topic: "stamps", value: "later" }));
    await producer.flush();
    const timestamps = (await Promise.all(sent)).map((m) => m.timestamp);
    const expected = [
      ...Array<number>(16).fill(start),
      ...Array<number>(16).fill(start + 16),
      ...Array<number>(8).fill(start + 32),
      start + 40 + 1000,
    ];
    expect(timestamps).toEqual(expected);
    await producer.close();
  } finally {
    await topics.close();
  }
});

it("a record stamped earlier than the partition's newest is stored with its own timestamp, as Kafka's CreateTime", async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-producer-timestamps-"));
  const topics = await EmbeddedTopicService.open(dir, { clock: new HandClock(), fsync: "never" });
  try {
    await topics.admin.createTopic({ name: "late", partitions: 1 });
    const producer = topics.producer({ lingerMs: 0 });
    await producer.send({ topic: "late", value: "now" });
    const late = await producer.send({ topic: "late", value: "late", timestamp: 1000 });
    expect(late).toMatchObject({ offset: 1, timestamp: 1000 });
    await producer.close();
    const reader = topics.consumer();
    await reader.assign([{ topic: "late", partition: 0 }]);
    await reader.seekToBeginning();
    const records = await reader.poll({ timeoutMs: 1000 });
    expect(records.map((r) => [r.value!.toString(), r.timestamp])).toEqual([
      ["now", Date.UTC(2026, 0, 1)],
      ["late", 1000],
    ]);
    await reader.close();
  } finally {
    await topics.close();
  }
});
