import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { isSluiceError } from "../errors/index.js";
import { open, type Sluice } from "./open.js";

const isIo = (e: unknown): boolean => isSluiceError(e, "SLUICE_IO");

/** Opens, runs `fill`, and opens again: nothing read before is at hand in memory. */
async function reopenedAfter(
  fs: SimulatedFileSystem,
  fill: (sluice: Sluice) => Promise<void>,
): Promise<Sluice> {
  const first = await open("/data", { fs, fsync: "always" });
  await fill(first);
  await first.close();
  return open("/data", { fs, fsync: "always" });
}

/**
 * A read the disk refuses (a bad sector, a failing device) fails the call that needed it with
 * SLUICE_IO, and nothing else: no position moves past what was not read, and the next call
 * reads everything.
 */
describe("a read the disk refuses", () => {
  it("topics: fails the poll; the consumer's next poll starts where it was", async () => {
    const fs = new SimulatedFileSystem(81);
    const sluice = await reopenedAfter(fs, async (s) => {
      await s.topics.admin.createTopic({ name: "orders", partitions: 1 });
      const producer = s.topics.producer({ lingerMs: 0 });
      for (let i = 0; i < 20; i++) await producer.send({ topic: "orders", value: `r${i}` });
      await producer.close();
    });
    const consumer = sluice.topics.consumer({ autoOffsetReset: "earliest", autoCommit: false });
    await consumer.assign([{ topic: "orders", partition: 0 }]);
    fs.failNextReads(1, "/partitions/orders-0/");
    await expect(consumer.poll({ timeoutMs: 0 })).rejects.toSatisfy(isIo);
    const values: string[] = [];
    while (values.length < 20) {
      const records = await consumer.poll({ timeoutMs: 0 });
      if (records.length === 0) break;
      values.push(...records.map((r) => r.value!.toString()));
    }
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    await consumer.close();
    await sluice.close();
  });

  it("event store: fails the read; the store goes on reading and appending", async () => {
    const fs = new SimulatedFileSystem(82);
    const sluice = await reopenedAfter(fs, async (s) => {
      for (let i = 0; i < 5; i++)
        await s.eventStore.appendToStream("cart-1", [{ type: "Added", data: { i } }]);
    });
    const store = sluice.eventStore;
    fs.failNextReads(1, "/eventstore/");
    await expect(store.readStream("cart-1")).rejects.toSatisfy(isIo);
    await store.appendToStream("cart-1", [{ type: "Paid", data: {} }], { expectedVersion: 4 });
    const { events } = await store.readStream("cart-1");
    expect(events.map((e) => e.type)).toEqual([...Array<string>(5).fill("Added"), "Paid"]);
    await sluice.close();
  });
});
