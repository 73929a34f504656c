// Run with --allow-natives-syntax and `<queues|topics> <warm|cold>`: prints, as JSON, how far V8
// has compiled that engine's hot methods, after its warm-up when told "warm".
/* eslint-disable @typescript-eslint/unbound-method -- methods are inspected here, never called */
import { DurableQueue } from "../queues/durable-queue.js";
import { EmbeddedQueueService } from "../queues/embedded-queue-service.js";
import { warmUpQueues } from "../queues/warm-up.js";
import { EmbeddedProducer } from "../topics/embedded-producer.js";
import { GroupMemberConsumer } from "../topics/group-member-consumer.js";
import { PartitionLog } from "../topics/partition-log.js";
import { warmUpTopics } from "../topics/warm-up.js";

// esbuild does not parse V8's `%` syntax: the Function constructor hands it to V8 as it is.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const status = new Function("f", "return %GetOptimizationStatus(f)") as (f: unknown) => number;
// V8's OptimizationStatus bits.
const OPTIMIZED = 1 << 4; // TurboFan or Maglev code
const BASELINE = 1 << 15; // Sparkplug code

const tier = (f: unknown): string => {
  const bits = status(f);
  return (bits & OPTIMIZED) !== 0 ? "optimized" : (bits & BASELINE) !== 0 ? "baseline" : "none";
};

const engines = {
  queues: {
    warmUp: () => warmUpQueues({ budgetMs: 10_000 }),
    methods: {
      send: DurableQueue.prototype.send,
      receive: DurableQueue.prototype.receive,
      remove: DurableQueue.prototype.remove,
      sendMessageBatch: EmbeddedQueueService.prototype.sendMessageBatch,
      receiveMessage: EmbeddedQueueService.prototype.receiveMessage,
      deleteMessageBatch: EmbeddedQueueService.prototype.deleteMessageBatch,
    },
  },
  topics: {
    warmUp: () => warmUpTopics({ budgetMs: 10_000 }),
    methods: {
      send: EmbeddedProducer.prototype.send,
      sendBatch: EmbeddedProducer.prototype.sendBatch,
      append: PartitionLog.prototype.append,
      read: PartitionLog.prototype.read,
      poll: GroupMemberConsumer.prototype.poll,
    },
  },
};

const engine = engines[process.argv[2] as keyof typeof engines];
if (process.argv[3] === "warm") {
  // All of it, however loaded the machine; then a moment for the optimizing compiler's thread
  // to hand over what it finished.
  await engine.warmUp();
  await new Promise((resolve) => setTimeout(resolve, 300));
}
process.stdout.write(
  JSON.stringify(
    Object.fromEntries(Object.entries(engine.methods).map(([name, f]) => [name, tier(f)])),
  ),
);
