import { describe, expect, it } from "vitest";
import { encodeBatch } from "../../engine/index.js";
import type { KafkaPartitionStore } from "./kafka-backend.js";
import { RecordStages } from "./record-stages.js";

/** A batch of `count` records as a producer sends it: base offset 0, the broker places it. */
const produced = (count: number): Buffer =>
  encodeBatch(
    Array.from({ length: count }, () => ({ value: Buffer.from("v") })),
    { baseOffset: 0, defaultTimestamp: 0 },
  );

/** One partition in memory: appends place batches at the end, reads return every batch from one. */
function memoryStore(): KafkaPartitionStore {
  const batches: { base: number; bytes: Buffer }[] = [];
  let end = 0;
  const state = {
    highWatermark: 0,
    lastStableOffset: 0,
    logStartOffset: 0,
    abortedTransactions: [],
  };
  return {
    append(_topic, _partition, batch) {
      const bytes = Buffer.from(batch);
      bytes.writeBigInt64BE(BigInt(end), 0);
      batches.push({ base: end, bytes });
      const baseOffset = end;
      end += bytes.readInt32BE(23) + 1;
      return Promise.resolve({ baseOffset, logStartOffset: 0 });
    },
    read(_topic, _partition, offset) {
      const from = batches.filter((b) => b.base + b.bytes.readInt32BE(23) >= offset);
      return Promise.resolve({
        ...state,
        highWatermark: end,
        bytes: Buffer.concat(from.map((b) => b.bytes)),
      });
    },
    allocateProducerId: () => Promise.resolve(1),
    waitForRecords: () => Promise.resolve(),
  };
}

describe("RecordStages", () => {
  it("stamps records by offset through appends and reads of the watched topic only", async () => {
    const stages = new RecordStages(6);
    const store = stages.watch(memoryStore(), "latency");
    const other = stages.watch(memoryStore(), "latency");
    await other.append("bench", 0, produced(6)); // another topic: stamps nothing
    await store.append("latency", 0, produced(2)); // offsets 0-1
    await store.append("latency", 0, produced(4)); // offsets 2-5: placed by the append
    await store.read("latency", 0, 0, 1 << 20, "read_uncommitted");
    await store.read("latency", 0, 2, 1 << 20, "read_uncommitted"); // 2-5 were read already
    // Written at 1 ms since the epoch, out of the consumer just after the reads.
    const printed = new Float64Array(6).fill(performance.timeOrigin + performance.now() + 1);
    stages.instruments(new Float64Array(6).fill(1), printed);
    const all = stages.means([0, 1, 2, 3, 4, 5], () => 0);
    expect(all.records).toBe(6);
    expect(all.dueToWrittenMs).toBe(1);
    expect(all.writtenToAppendedMs).toBeGreaterThan(0);
    expect(all.appendedToReadMs).toBeGreaterThanOrEqual(0);
    expect(all.readToLineMs).toBeGreaterThan(0);
  });

  it("picks the records that came out latest after they were due, and leaves out unfinished ones", () => {
    const stages = new RecordStages(200);
    // Record i comes out i ms after it was due, except record 150, which never came out.
    const printed = Float64Array.from({ length: 200 }, (_, i) => (i === 150 ? 0 : 1000 + i));
    stages.instruments(new Float64Array(200), printed);
    const slowest = stages.slowest(100, 0.05, () => 1000);
    expect(slowest).toEqual([199, 198, 197, 196, 195]);
    // Nothing was appended or read: no record saw every stage.
    expect(stages.means(slowest, () => 1000).records).toBe(0);
  });
});
