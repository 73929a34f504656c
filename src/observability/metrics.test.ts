import { describe, expect, it } from "vitest";
import { MetricsRegistry } from "./metrics.js";

describe("MetricsRegistry", () => {
  it("returns one instance per name and label set", () => {
    const registry = new MetricsRegistry();
    const a = registry.counter("appends_total", "appends", { log: "a" });
    a.inc(3);
    registry.counter("appends_total", "appends", { log: "a" }).inc();
    registry.counter("appends_total", "appends", { log: "b" }).inc(10);
    const samples = registry.collect();
    expect(samples).toEqual([
      { kind: "counter", name: "appends_total", help: "appends", labels: { log: "a" }, value: 4 },
      { kind: "counter", name: "appends_total", help: "appends", labels: { log: "b" }, value: 10 },
    ]);
  });

  it("summarises latencies in milliseconds with microsecond resolution", () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram("fsync_ms", "fsync latency");
    for (let i = 1; i <= 100; i++) h.recordMs(i / 10);
    const s = h.summary();
    expect(s.count).toBe(100);
    expect(s.minMs).toBeCloseTo(0.1, 3);
    expect(s.p50Ms).toBeCloseTo(5, 1);
    expect(s.p99Ms).toBeCloseTo(9.9, 1);
    expect(s.maxMs).toBeCloseTo(10, 1);
  });

  it("keeps 3 significant digits from a microsecond to an hour, clamping beyond it", () => {
    const h = new MetricsRegistry().histogram("stall_ms", "stalls");
    h.recordMs(0.001);
    for (let i = 0; i < 97; i++) h.recordMs(250);
    h.recordMs(3_600_000);
    h.recordMs(36_000_000);
    const s = h.summary();
    expect(s.count).toBe(100);
    expect(s.minMs).toBeCloseTo(0.001, 6);
    expect(s.p50Ms / 250).toBeCloseTo(1, 2);
    expect(s.maxMs / 3_600_000).toBeCloseTo(1, 2);
    h.reset();
    expect(h.summary().count).toBe(0);
  });

  it("refuses to reuse a name for another kind", () => {
    const registry = new MetricsRegistry();
    registry.gauge("depth", "depth");
    expect(() => registry.counter("depth", "depth")).toThrow(/already registered/);
  });

  it("refreshes computed gauges before every collect, until the refresher is removed", () => {
    const registry = new MetricsRegistry();
    let source = 5;
    const remove = registry.onCollect(() => registry.gauge("lag", "lag").set(source));
    expect(registry.collect()[0]).toMatchObject({ name: "lag", value: 5 });
    source = 7;
    expect(registry.collect()[0]).toMatchObject({ value: 7 });
    remove();
    source = 9;
    expect(registry.collect()[0]).toMatchObject({ value: 7 });
  });
});
