import { describe, expect, it } from "vitest";
import { runQueueBench } from "./queue.bench.js";

interface Phase {
  messages: number;
  latency: { count: number };
  warmup?: { messages: number; latency: { count: number } };
}

/** The fixed-rate phase alone, on tiny inputs. */
async function latencyPhase(numMessages: number, warmupMs: number): Promise<Phase> {
  const result = (await runQueueBench({
    only: "latency",
    numMessages,
    rate: 20_000,
    warmupMs,
    backlog: 0,
    quiet: true,
  })) as { latency: Phase };
  return result.latency;
}

describe("bench queue's fixed-rate phase", () => {
  it("counts the warm-up's messages apart from the measured ones", async () => {
    const latency = await latencyPhase(1000, 50);
    expect(latency.messages).toBe(1000);
    expect(latency.latency.count).toBe(1000);
    expect(latency.warmup?.messages).toBe(1000);
    expect(latency.warmup?.latency.count).toBe(1000);
  });

  it("has no warm-up with --warmup-ms 0", async () => {
    const latency = await latencyPhase(500, 0);
    expect(latency.latency.count).toBe(500);
    expect(latency.warmup).toBeUndefined();
  });
});

describe("bench queue --only", () => {
  it("runs that phase alone: a traffic phase without the backlog phase, or the backlog alone", async () => {
    const small = { numMessages: 200, backlog: 500, quiet: true } as const;
    const fifo = (await runQueueBench({ ...small, only: "fifo" })) as Record<string, unknown>;
    expect(fifo.fifo).toBeDefined();
    expect([fifo.standard, fifo.latency, fifo.backlog]).toEqual([undefined, undefined, undefined]);
    const backlog = (await runQueueBench({ ...small, only: "backlog" })) as Record<string, unknown>;
    expect(backlog.backlog).toBeDefined();
    expect([backlog.standard, backlog.latency, backlog.fifo]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});
