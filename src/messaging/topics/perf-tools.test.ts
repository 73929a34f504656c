import { describe, expect, it } from "vitest";
import { runE2ePerf } from "./e2e-perf.bench.js";
import {
  gridConfigs,
  QUICK_GRID,
  runTune,
  tuneChart,
  tuneTable,
  WORKSHOP_GRID,
} from "./tune-perf.bench.js";

// The benchmarks on tiny inputs: they run and report in their formats; speed is not judged here.
describe("bench e2e and bench tune", () => {
  it("e2e delivers every record and reports percentiles from the intended send time", async () => {
    const result = await runE2ePerf({
      numRecords: 300,
      recordSize: 16,
      throughput: 3000,
      producerProps: {},
      partitions: 2,
      fsync: "never",
      progress: false,
    });
    expect(result.records).toBe(300);
    expect(result.latency.count).toBe(300);
    expect(result.latency.p99Ms).toBeGreaterThanOrEqual(result.latency.p50Ms);
    // The measured window's pauses come with the figures, to say what a tail is made of.
    expect(result.pauses.wallMs).toBeGreaterThan(0);
    expect(result.pauses.eventLoopDelay.maxMs).toBeGreaterThanOrEqual(0);
    expect(result.line).toMatch(
      /^300 records at 3000 records\/sec offered \([\d.]+ achieved\), end-to-end latency [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th, [\d.]+ ms max\.$/,
    );
  });

  it("the workshop grid has 3 x 4 x 5 configurations per partition count; --quick has 8", () => {
    expect(gridConfigs({ ...WORKSHOP_GRID, partitions: [1] })).toHaveLength(60);
    expect(gridConfigs(WORKSHOP_GRID)).toHaveLength(60 * WORKSHOP_GRID.partitions.length);
    expect(gridConfigs(QUICK_GRID)).toHaveLength(8);
  });

  it("tune runs the baseline and each configuration, with progress, table, best and chart", async () => {
    const progress: string[] = [];
    const result = await runTune({
      grid: { batchSizes: [16384], lingersMs: [0], compressions: ["none", "lz4"], partitions: [1] },
      numRecords: 300,
      recordSize: 50,
      fsync: "never",
      onProgress: (line) => progress.push(line),
    });
    expect(result.rows.map((r) => r.config.compression)).toEqual(["none", "lz4"]);
    expect(result.baseline.config).toMatchObject({
      batchSize: 0,
      lingerMs: 0,
      compression: "none",
    });
    expect(result.rows).toContain(result.best);
    expect(result.gain).toBeCloseTo(result.best.recordsPerSec / result.baseline.recordsPerSec);
    expect(progress).toHaveLength(6);
    expect(progress[0]).toMatch(/^\[1\/3\] baseline batch\.size=0 linger\.ms=0/);
    const table = tuneTable(result);
    expect(table.split("\n")[0]).toMatch(
      /batch\.size\s+linger\.ms\s+compression\s+partitions\s+records\/s/,
    );
    expect(table).toMatch(/best: batch\.size=16384 .* the untuned baseline/);
    const svg = tuneChart(result);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("baseline");
  });
});
