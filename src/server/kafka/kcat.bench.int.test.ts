import { describe, expect, it } from "vitest";
import { runKcatBench } from "./kcat.bench.js";
import { hasKcat } from "./test-support/client-processes.js";

// `sluice bench kafka --client kcat` on tiny inputs: it runs, and its figures are complete.
describe("kcat benchmark", () => {
  it.skipIf(!hasKcat)(
    "every record of the end-to-end run comes back through the latency consumer's output",
    async () => {
      const result = (await runKcatBench({
        numRecords: 2_000,
        latencyRate: 500,
        latencySeconds: 3,
        quiet: true,
      })) as {
        endToEnd: {
          latency: { records: number; received: number; count: number };
          stages: { measured: { records: number }; slowestPercent: { records: number } };
        };
        stored: { compressionRatio: number };
      };
      const { records, received, count } = result.endToEnd.latency;
      // Letters drawn for every record: lz4 finds little to shrink.
      expect(result.stored.compressionRatio).toBeLessThan(1.5);
      // The consumer is stopped once the last record is in: output held in a buffer would be lost.
      expect(received).toBe(records);
      expect(count).toBe(records - 500);
      // Every measured record was seen at every stage: written, appended, read by a fetch, printed.
      expect(result.endToEnd.stages.measured.records).toBe(records - 500);
      expect(result.endToEnd.stages.slowestPercent.records).toBe(Math.ceil((records - 500) / 100));
    },
  );

  it.skipIf(!hasKcat)(
    "with --payload same every record is one value, which lz4 shrinks",
    async () => {
      const result = (await runKcatBench({
        numRecords: 20_000,
        payload: "same",
        latencyRate: 200,
        latencySeconds: 2,
        quiet: true,
      })) as { stored: { compressionRatio: number }; consume: { records: number } };
      expect(result.consume.records).toBe(20_000);
      expect(result.stored.compressionRatio).toBeGreaterThan(5);
    },
  );
});
