import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../../engine/index.js";
import { isSluiceError } from "../../errors/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";

/**
 * An idempotent producer numbers its batches per partition, and the partition stores only the
 * next number. A batch the partition did not store (its write failed) must not leave the
 * producer numbering past it, or every later send to that partition is refused.
 */
describe("an idempotent producer after a batch the disk refused", () => {
  for (const idempotent of [true, false])
    it(`sends again once the disk takes writes (idempotent: ${idempotent})`, async () => {
      const fs = new SimulatedFileSystem(5);
      const service = await EmbeddedTopicService.open("/topics", {
        fs,
        clock: new VirtualClock(),
        fsync: "never",
      });
      await service.admin.createTopic({ name: "orders", partitions: 2 });
      const producer = service.producer({ lingerMs: 0, idempotent });
      await producer.send({ topic: "orders", partition: 0, value: "a" });
      fs.capacityBytes = fs.usedBytes() + 500;
      await expect(
        producer.send({ topic: "orders", partition: 0, value: "x".repeat(5000) }),
      ).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_IO"));
      fs.capacityBytes = Number.POSITIVE_INFINITY;
      const later = await producer.sendBatch([
        { topic: "orders", partition: 0, value: "b" },
        { topic: "orders", partition: 1, value: "c" },
        { topic: "orders", partition: 0, value: "d" },
      ]);
      expect(later.map((r) => [r.partition, r.offset])).toEqual([
        [0, 1],
        [1, 0],
        [0, 2],
      ]);
      await producer.close();

      const consumer = service.consumer();
      await consumer.assign([{ topic: "orders", partition: 0 }]);
      consumer.seek({ topic: "orders", partition: 0 }, 0);
      const records = await consumer.poll({ timeoutMs: 0 });
      expect(records.map((r) => String(r.value))).toEqual(["a", "b", "d"]);
      await consumer.close();
      await service.close();
    });
});
