// A consumer process for the delivery-guarantee tests: reads topic "in" in group "g", writes one
// record to topic "out" per input record, and commits in the mode given. With a kill point it
// prints "kill-me" in the middle of that batch (half its records processed) and waits to be
// killed; without one it runs until the input is drained and prints "done".
import { EmbeddedTopicService } from "../embedded-topic-service.js";
import type { ConsumerRecord } from "../topic-consumer.js";

type Mode = "at-most-once" | "at-least-once" | "exactly-once";
const [dir, mode, killBatchText = "-1", total = "100"] = process.argv.slice(2) as [
  string,
  Mode,
  string?,
  string?,
];
const killBatch = Number(killBatchText);

const service = await EmbeddedTopicService.open(dir, { fsync: "always" });
const consumer = service.consumer({
  groupId: "g",
  autoCommit: false,
  autoOffsetReset: "earliest",
  isolationLevel: "read_committed",
  maxPollRecords: 10,
});
const producer =
  mode === "exactly-once"
    ? service.producer({ transactionalId: "delivery-worker", lingerMs: 0 })
    : service.producer({ lingerMs: 0 });
if (mode === "exactly-once") await producer.initTransactions();
await consumer.subscribe(["in"]);

const waitForKill = async (): Promise<never> => {
  // What was sent so far is in the log (inside the open transaction, in exactly-once mode).
  await producer.flush();
  process.stdout.write("kill-me\n");
  return new Promise<never>(() => setInterval(() => undefined, 1000));
};

const nextOffsets = (batch: readonly ConsumerRecord[]) => {
  const last = batch[batch.length - 1]!;
  return [{ topic: last.topic, partition: last.partition, offset: last.offset + 1 }];
};

let seen = 0;
let batchIndex = 0;
let idlePolls = 0;
while (idlePolls < 20) {
  const batch = await consumer.poll({ timeoutMs: 100 });
  if (batch.length === 0) {
    // Done once the committed offset reached the end of the input.
    const [committed] = await consumer.committed([{ topic: "in", partition: 0 }]);
    if ((committed?.offset ?? 0) >= Number(total)) break;
    idlePolls++;
    continue;
  }
  idlePolls = 0;
  const killHere = batchIndex++ === killBatch;
  const half = Math.floor(batch.length / 2);
  if (mode === "at-most-once") await consumer.commitSync(nextOffsets(batch));
  if (mode === "exactly-once") await producer.beginTransaction();
  for (const [i, r] of batch.entries()) {
    if (killHere && i === half) await waitForKill();
    const sent = producer.send({ topic: "out", value: r.value });
    if (mode !== "exactly-once") await sent;
    seen++;
  }
  if (mode === "at-least-once") await consumer.commitSync(nextOffsets(batch));
  if (mode === "exactly-once") {
    await producer.sendOffsetsToTransaction(nextOffsets(batch), consumer.groupMetadata());
    await producer.commitTransaction();
  }
}
process.stdout.write(`done ${seen}\n`);
await consumer.close();
await producer.close();
await service.close();
