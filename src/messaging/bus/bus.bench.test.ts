import { describe, expect, it } from "vitest";
import { runBusBench } from "./bus.bench.js";

// Checks that the benchmark runs and reports its figures, on tiny inputs; never its speed.
describe("sluice bench bus", () => {
  it("matches, puts every event through to the queue and reports per second and per CPU second", async () => {
    const result = (await runBusBench(
      { rules: 50, e2eRules: 20, matchMs: 20, warmupMs: 10, numEvents: 40, producers: 2 },
      true,
    )) as {
      matching: Record<string, number>;
      endToEnd: Record<string, number>;
    };
    expect(result.matching.rules).toBe(50);
    for (const key of [
      "eventsPerSecParsed",
      "eventsPerSecFromJson",
      "eventsPerCpuSecParsed",
      "eventsPerCpuSecFromJson",
    ])
      expect(result.matching[key], key).toBeGreaterThan(0);
    expect(result.endToEnd.events).toBe(40);
    expect(result.endToEnd.rules).toBe(20);
    expect(result.endToEnd.endToEndEventsPerSec).toBeGreaterThan(0);
    expect(result.endToEnd.cpuMicrosPerEvent).toBeGreaterThan(0);
  });
});
