import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { open } from "./open.js";

/**
 * Every log in `open(dir)` reports its metrics under its own `log` label. Names users choose
 * must not make two logs share one: a queue `orders-0` and partition 0 of topic `orders` once
 * did, as did a pub/sub topic or bus named `catalog` and that primitive's catalog.
 */
describe("log metric labels in open(dir)", () => {
  it("are distinct for every log, whatever the names users choose", async () => {
    const sluice = await open("/data", { fs: new SimulatedFileSystem(7) });
    try {
      await sluice.queues.createQueue({ QueueName: "orders-0" });
      await sluice.queues.createQueue({
        QueueName: "catalog.fifo",
        Attributes: { FifoQueue: "true" },
      });
      await sluice.topics.admin.createTopic({ name: "orders", partitions: 1 });
      await sluice.pubsub.createTopic({ Name: "catalog" });
      await sluice.pubsub.createTopic({ Name: "cursors" });
      await sluice.bus.createEventBus({ Name: "catalog" });
      await sluice.bus.createArchive({
        ArchiveName: "catalog",
        EventSourceArn: "arn:aws:events:us-east-1:000000000000:event-bus/catalog",
      });
      await sluice.eventStore.appendToStream("order-1", [{ type: "placed", data: {} }]);

      const labels = sluice.metrics.gaugeValues("sluice_log_failed").map((g) => g.labels.log);
      expect(labels.sort()).toEqual([
        "archive/catalog",
        "bus/catalog",
        "bus/default",
        "catalog/bus",
        "catalog/pubsub",
        "catalog/queues",
        "catalog/topics",
        "cursors/bus",
        "cursors/pubsub",
        "eventstore",
        "pubsub/catalog",
        "pubsub/cursors",
        "queue/catalog.fifo",
        "queue/catalog.fifo/window",
        "queue/orders-0",
        "topic/__consumer_offsets/0",
        "topic/__transaction_state/0",
        "topic/orders/0",
      ]);
    } finally {
      await sluice.close();
    }
  });
});
