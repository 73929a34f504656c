import { describe, expect, it } from "vitest";
import { runEventStoreBench } from "./eventstore.bench.js";

// Only checks that the benchmark runs end to end and reports its figures; speed is judged by
// `sluice bench eventstore`, never here.
describe("sluice bench eventstore (tiny inputs)", () => {
  it("runs the append, read, lag and rebuild phases on the embedded backend and reports each figure", async () => {
    const result = (await runEventStoreBench({
      backend: "embedded",
      postgresUrl: "",
      appendEvents: 2_000,
      // The year of history advances a virtual clock a year in steps; too slow for a test here.
      historyEvents: 0,
      historyStreams: 50,
      lagSeconds: 1,
      quiet: true,
    })) as Record<string, Record<string, unknown>>;
    expect(result.append).toMatchObject({ events: 2_000 });
    expect(result.append?.eventsPerCpuSec).toBeGreaterThan(0);
    expect(result.read?.eventsPerSec).toBeGreaterThan(0);
    expect((result.lag?.lag as { count: number }).count).toBeGreaterThan(0);
    expect(result.rebuild?.events).toBeGreaterThan(2_000);
  });
});
