import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { type Timer, VirtualClock } from "../../time/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";

/** A virtual clock that counts the timers set on it. */
class CountingClock extends VirtualClock {
  timersSet = 0;
  override setTimer(delayMs: number, callback: () => void): Timer {
    this.timersSet++;
    return super.setTimer(delayMs, callback);
  }
}

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it("a poll waiting on an empty partition wakes on the append, its clock never advanced; waits reuse one timer", async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-consumer-wait-"));
  const clock = new CountingClock();
  const topics = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
  try {
    await topics.admin.createTopic({ name: "wait", partitions: 2 });
    const producer = topics.producer({ lingerMs: 0 });
    const consumer = topics.consumer({ autoOffsetReset: "earliest", autoCommit: false });
    await consumer.assign([
      { topic: "wait", partition: 0 },
      { topic: "wait", partition: 1 },
    ]);
    const timersBeforeWaits = clock.timersSet;
    const rounds = 50;
    for (let i = 0; i < rounds; i++) {
      const polled = consumer.poll({ timeoutMs: 60_000 });
      // A turn of the event loop: the poll finds nothing and waits before the record is sent.
      await new Promise((resolve) => setImmediate(resolve));
      await producer.send({ topic: "wait", partition: i % 2, value: Buffer.from(`r${i}`) });
      const records = await polled;
      expect(records.map((r) => r.value?.toString())).toEqual([`r${i}`]);
    }
    // The virtual clock never moved: only the appends woke the polls. One timer served them all.
    expect(clock.timersSet - timersBeforeWaits).toBe(1);
    await consumer.close();
    await producer.close();
  } finally {
    await topics.close();
  }
});
