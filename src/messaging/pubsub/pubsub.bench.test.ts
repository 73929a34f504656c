import { describe, expect, it } from "vitest";
import { runPubSubBench } from "./pubsub.bench.js";

// Checks that the benchmark runs and reports its figures, on tiny inputs; never its speed.
describe("sluice bench pubsub", () => {
  it("fans every message out to every subscription and reports CPU per message", async () => {
    const result = (await runPubSubBench(
      { numMessages: 30, subscriptions: 2, producers: 2, warmupMessages: 20 },
      true,
    )) as Record<string, number>;
    // The untimed warm-up's messages are not counted.
    expect(result.deliveries).toBe(60);
    expect(result.fanOutMessagesPerSec).toBeGreaterThan(0);
    expect(result.cpuMicrosPerMessage).toBeGreaterThan(0);
  });

  it("delivers SNS's envelope with --envelope", async () => {
    const result = (await runPubSubBench(
      { numMessages: 20, subscriptions: 2, producers: 1, envelope: true, warmupMessages: 0 },
      true,
    )) as { deliveries: number; parameters: { envelope: boolean } };
    expect(result.deliveries).toBe(40);
    expect(result.parameters.envelope).toBe(true);
  });
});
