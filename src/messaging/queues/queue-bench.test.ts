import { describe, expect, it } from "vitest";
import { runQueueBench } from "./queue.bench.js";

interface Phase {
  messages: number;
  latency: { count: number };
  warmup?: { messages: number; latency: { count: number } };
}

describe("bench queue's fixed-rate phase", () => {
  it("counts the warm-up's messages apart from the measured ones", async () => {
    const result = (await runQueueBench({
      only: "latency",
      numMessages: 1000,
      rate: 20_000,
      warmupMs: 50,
      backlog: 0,
      quiet: true,
    })) as { latency: Phase };
    const { latency } = result;
    expect(latency.messages).toBe(1000);
    expect(latency.latency.count).toBe(1000);
    expect(latency.warmup?.messages).toBe(1000);
    expect(latency.warmup?.latency.count).toBe(1000);
  });

  it("has no warm-up with --warmup-ms 0", async () => {
    const result = (await runQueueBench({
      only: "latency",
      numMessages: 500,
      rate: 20_000,
      warmupMs: 0,
      backlog: 0,
      quiet: true,
    })) as { latency: Phase };
    expect(result.latency.latency.count).toBe(500);
    expect(result.latency.warmup).toBeUndefined();
  });
});
