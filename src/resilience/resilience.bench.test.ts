import { describe, expect, it } from "vitest";
import { runResilienceBench } from "./resilience.bench.js";

// Checks that the benchmark runs and reports every figure; speed is never judged in a test.
describe("runResilienceBench", () => {
  it("runs on tiny inputs and returns the figures with parameters and machine", async () => {
    const result = (await runResilienceBench({ durationMs: 5, keys: 2000, quiet: true })) as Record<
      string,
      unknown
    >;
    expect(result).toMatchObject({
      benchmark: "resilience",
      parameters: { durationMs: 5, keys: 2000 },
      machine: { cores: expect.any(Number) as number, node: process.version },
      policyOverhead: {
        bareAwaitNoop: { callsPerSecond: expect.any(Number) as number },
        cooperativeTimeout: { nsPerCall: expect.any(Number) as number },
      },
      idempotencyStore: { keys: 2000, stateBytesPerKey: expect.any(Number) as number },
      duplicateDetector: {
        exact: { falsePositiveRate: 0 },
        bloomOnlySpread: { falsePositiveRate: expect.any(Number) as number },
      },
    });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});
