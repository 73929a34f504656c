// A writer process for crash tests: appends events with fsync "always" from several concurrent
// appenders, with an inline projection counting events per stream (or, with "grouped", none:
// then appends made in one turn share an engine batch; with "async", none, but an async
// projection counting events per stream follows the appends in small batches), and prints
// every acknowledged append, until it is killed.
import { join } from "node:path";
import { waitForGo } from "../../engine/test-support/warm-worker.js";
import { EmbeddedEventStore } from "../embedded-event-store.js";
import { EmbeddedReadModel } from "../projections/embedded-read-model.js";
import { ProjectionRunner } from "../projections/projection-runner.js";
import { perStream } from "./per-stream-projection.js";

const [dir, round = "0", mode = "inline"] = process.argv.slice(2);
if (dir === undefined) throw new Error("usage: crash-writer DIR [round] [inline|grouped|async]");

// Start-up (loading modules) is the slow part: the test spawns writers ahead of time, and each
// waits for its go before it opens the store.
await waitForGo();

const inline =
  mode === "inline"
    ? [
        {
          projection: perStream,
          readModel: await EmbeddedReadModel.open(join(dir, "read-model"), { fsync: "always" }),
        },
      ]
    : [];
const store = await EmbeddedEventStore.open(join(dir, "store"), {
  fsync: "always",
  segmentBytes: 64 * 1024,
  inline,
});
if (mode === "async") {
  const model = await EmbeddedReadModel.open(join(dir, "async-model"), { fsync: "always" });
  // Batches of 7 events: a kill lands between the writes of a batch and its commit.
  new ProjectionRunner(store, perStream, model, { batchSize: 7 }).start();
}
process.stdout.write(`open\n`);
let sequence = 0;
async function appender(id: number): Promise<never> {
  for (;;) {
    const n = sequence++;
    const stream = `s-${(n * 7 + id) % 20}`;
    const count = 1 + (n % 4);
    const events = Array.from({ length: count }, (_, i) => ({
      id: `${round}-${id}-${n}-${i}`,
      type: "Counted",
      data: { round, id, n, i },
    }));
    const result = await store.appendToStream(stream, events);
    process.stdout.write(
      `ack ${stream} ${result.nextExpectedVersion - count + 1} ${count} ${result.position} ${round}-${id}-${n}\n`,
    );
  }
}
await Promise.all(Array.from({ length: 4 }, (_, i) => appender(i)));
