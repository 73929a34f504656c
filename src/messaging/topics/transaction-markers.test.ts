// Transaction markers as Kafka stores them, read back from the partition's log byte for byte
// and decoded by a Kafka client's own record-batch decoder (kafkajs's), not Sluice's.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeBatches } from "../../engine/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";

interface KafkajsBatch {
  firstOffset: string;
  inTransaction: boolean;
  isControlBatch: boolean;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  records: { key: Buffer | null; value: Buffer | null; offset: string }[];
}

const require = createRequire(import.meta.url);
const KafkajsDecoder = require("kafkajs/src/protocol/decoder") as new (buffer: Buffer) => {
  canReadInt64(): boolean;
};
const decodeRecordBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder") as (
  decoder: unknown,
) => Promise<KafkajsBatch>;

/** Every batch of `bytes` (stored record batches, back to back), as kafkajs decodes them. */
async function kafkajsBatches(bytes: Buffer): Promise<KafkajsBatch[]> {
  const decoder = new KafkajsDecoder(bytes);
  const batches: KafkajsBatch[] = [];
  while (decoder.canReadInt64()) batches.push(await decodeRecordBatch(decoder));
  return batches;
}

let dir: string;
let service: EmbeddedTopicService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-markers-"));
  service = await EmbeddedTopicService.open(dir, { fsync: "never" });
  await service.admin.createTopic({ name: "t", partitions: 1 });
});

afterEach(async () => {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("transaction markers on disk", () => {
  it("are control batches of the producer with one record: key (0, 1 commit | 0 abort), value (0, coordinator epoch)", async () => {
    const producer = service.producer({ transactionalId: "markers" });
    await producer.initTransactions();
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "kept" });
    await producer.commitTransaction();
    await producer.beginTransaction();
    await producer.send({ topic: "t", value: "dropped" });
    await producer.abortTransaction();
    const { producerId, producerEpoch } = service.transactions.describe("markers")!;

    const bytes = service.broker.partitionLog("t", 0).log.readBatches(0, 1 << 20);
    // Sluice's decoder checks every batch's CRC-32C and length.
    const checked = decodeBatches(bytes);
    expect(checked).not.toBeInstanceOf(Error);
    expect((checked as unknown[]).length).toBe(4);

    const batches = await kafkajsBatches(bytes);
    expect(batches.map((b) => [b.firstOffset, b.isControlBatch, b.inTransaction])).toEqual([
      ["0", false, true],
      ["1", true, true],
      ["2", false, true],
      ["3", true, true],
    ]);
    for (const batch of batches) {
      expect(batch.producerId).toBe(String(producerId));
      expect(batch.producerEpoch).toBe(producerEpoch);
    }
    const [kept, commit, dropped, abort] = batches;
    expect(kept!.records[0]!.value!.toString()).toBe("kept");
    expect(dropped!.records[0]!.value!.toString()).toBe("dropped");
    for (const [marker, type] of [
      [commit!, 1],
      [abort!, 0],
    ] as const) {
      expect(marker.firstSequence).toBe(-1);
      expect(marker.records).toHaveLength(1);
      const { key, value } = marker.records[0]!;
      // ControlRecordType: version int16 0, type int16 (0 abort, 1 commit).
      expect([...key!]).toEqual([0, 0, 0, type]);
      // EndTransactionMarker: version int16 0, coordinator epoch int32.
      expect(value!.length).toBe(6);
      expect(value!.readInt16BE(0)).toBe(0);
      expect(value!.readInt32BE(2)).toBeGreaterThanOrEqual(0);
    }
  });
});
