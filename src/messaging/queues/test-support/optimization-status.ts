// Run with --allow-natives-syntax: prints, as JSON, how far V8 has compiled the queue's hot
// methods, after `warmUpQueues` when the first argument is "warm".
import { DurableQueue } from "../durable-queue.js";
import { EmbeddedQueueService } from "../embedded-queue-service.js";
import { warmUpQueues } from "../warm-up.js";

/* eslint-disable @typescript-eslint/unbound-method -- methods are inspected here, never called */
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

if (process.argv[2] === "warm") await warmUpQueues();
const methods = {
  send: DurableQueue.prototype.send,
  receive: DurableQueue.prototype.receive,
  remove: DurableQueue.prototype.remove,
  sendMessageBatch: EmbeddedQueueService.prototype.sendMessageBatch,
  receiveMessage: EmbeddedQueueService.prototype.receiveMessage,
  deleteMessageBatch: EmbeddedQueueService.prototype.deleteMessageBatch,
};
process.stdout.write(
  JSON.stringify(Object.fromEntries(Object.entries(methods).map(([name, f]) => [name, tier(f)]))),
);
