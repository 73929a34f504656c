import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { PauseMonitor, mainThreadSchedule, parseSchedStat, pauseLine } from "./pause-monitor.js";

describe("PauseMonitor", () => {
  it("counts the collections of its window by kind, and no others", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const monitor = new PauseMonitor();
    gc();
    gc();
    const summary = await monitor.stop();
    expect(summary.fullCollections.count).toBeGreaterThanOrEqual(2);
    expect(summary.fullCollections.totalMs).toBeGreaterThan(0);
    expect(summary.fullCollections.maxMs).toBeLessThanOrEqual(summary.fullCollections.totalMs);
    gc();
    expect(await monitor.stop()).toBe(summary);
  });

  it("reports the main thread's run-queue wait over its window where Linux gives it", async () => {
    const monitor = new PauseMonitor();
    const summary = await monitor.stop();
    if (process.platform !== "linux") {
      expect(summary.runQueueWaitMs).toBeUndefined();
      return;
    }
    expect(mainThreadSchedule()?.onCpuMs).toBeGreaterThan(0);
    expect(summary.runQueueWaitMs).toBeGreaterThanOrEqual(0);
    expect(pauseLine(summary)).toMatch(
      /^pauses: \d+ scavenges \(\d+ ms, longest [\d.]+ ms\), \d+ full collections .* main thread waited \d+ ms for a core/,
    );
  });

  it("parses a schedstat line (nanoseconds on a CPU, waiting, slices)", () => {
    expect(parseSchedStat("2500000 1500000 42\n")).toEqual({ onCpuMs: 2.5, runQueueWaitMs: 1.5 });
    expect(parseSchedStat("")).toBeUndefined();
    expect(parseSchedStat("x y z")).toBeUndefined();
  });
});
