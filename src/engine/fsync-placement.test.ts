import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MetricsRegistry } from "../observability/index.js";
import { nodeFileSystem } from "./file-system.js";
import { FsyncPlacement } from "./fsync-placement.js";
import { type Log, openLog } from "./log.js";
import type { FsyncPolicy } from "./log-options.js";

describe("where a group commit's fdatasync runs", () => {
  function placement() {
    let now = 0;
    const p = new FsyncPlacement(() => now, 10, 10, 1000);
    return { p, advance: (ms: number) => (now += ms) };
  }

  it("on the event loop while one log commits alone", () => {
    const { p, advance } = placement();
    const log = {};
    for (let i = 0; i < 5; i++) {
      expect(p.onEventLoop(log)).toBe(true);
      advance(0.5);
    }
  });

  it("on the pool while another log committed within the window, and back once it is quiet", () => {
    const { p, advance } = placement();
    const [a, b, c] = [{}, {}, {}];
    expect(p.onEventLoop(a)).toBe(true);
    advance(1);
    expect(p.onEventLoop(b)).toBe(false);
    advance(1);
    expect(p.onEventLoop(a)).toBe(false);
    advance(1);
    // Three logs taking turns: each sees the others, whichever committed last.
    expect(p.onEventLoop(c)).toBe(false);
    expect(p.onEventLoop(a)).toBe(false);
    expect(p.onEventLoop(a)).toBe(false);
    advance(11);
    expect(p.onEventLoop(a)).toBe(true);
  });

  it("on the pool for a while after a slow call on the event loop", () => {
    const { p, advance } = placement();
    const log = {};
    expect(p.onEventLoop(log)).toBe(true);
    p.tookMs(9);
    expect(p.onEventLoop(log)).toBe(true);
    p.tookMs(25);
    advance(999);
    expect(p.onEventLoop(log)).toBe(false);
    advance(1);
    expect(p.onEventLoop(log)).toBe(true);
  });
});

describe('fsync "always" on the real disk', () => {
  const root = mkdtempSync(join(tmpdir(), "sluice-fsync-placement-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  // A placement of the test's own: the process's is shared with whatever ran before in this
  // worker, whose slow syncs or busy logs would send these commits to the pool.
  async function openWithMetrics(
    name: string,
    fsync: FsyncPolicy,
    placement = new FsyncPlacement(),
  ): Promise<{ log: Log; onLoop: () => number }> {
    const metrics = new MetricsRegistry();
    const log = await openLog(join(root, name), {
      fsync,
      maintenanceIntervalMs: 0,
      metrics,
      name,
      fsyncPlacement: placement,
    });
    const onLoop = (): number => {
      const sample = metrics
        .collect()
        .find((s) => s.name === "sluice_log_fsyncs_on_event_loop_total");
      return sample?.kind === "counter" ? sample.value : Number.NaN;
    };
    return { log, onLoop };
  }

  const value = Buffer.alloc(100, 7);
  const appendMany = (log: Log, n: number): Promise<unknown> =>
    Promise.all(Array.from({ length: n }, () => log.append([{ value }])));

  it("a log committing alone syncs on the event loop, and only under fsync always", async () => {
    const alone = await openWithMetrics("alone", "always");
    for (let i = 0; i < 20; i++) await appendMany(alone.log, 4);
    // Most commits (a device stall of 10 ms or more sends the next second's to the pool).
    expect(alone.onLoop()).toBeGreaterThan(0);
    expect(alone.log.read(0, { maxRecords: 1000 })).toHaveLength(80);
    await alone.log.close();

    const interval = await openWithMetrics("interval", { intervalMs: 1 });
    for (let i = 0; i < 20; i++) {
      await appendMany(interval.log, 4);
      await interval.log.flush();
    }
    expect(interval.onLoop()).toBe(0);
    await interval.log.close();
  });

  it("logs committing at once keep every acknowledged record, wherever their commits ran", async () => {
    // Which of them commit on the pool is the placement's rule (above, on a clock of its own);
    // on a loaded machine a commit may find the others quiet for the window and run on the loop.
    const placement = new FsyncPlacement();
    const logs = await Promise.all(
      ["a", "b", "c"].map((n) => openWithMetrics(n, "always", placement)),
    );
    for (let i = 0; i < 20; i++) await Promise.all(logs.map(({ log }) => appendMany(log, 4)));
    for (const { log } of logs) {
      expect(log.read(0, { maxRecords: 1000 })).toHaveLength(80);
      await log.close();
    }
  });

  it("a sync on the event loop of a closed file rejects with an I/O error, as on the pool", async () => {
    const handle = nodeFileSystem.open(join(root, "closed.bin"), "write");
    handle.write(Buffer.from("x"), 0);
    await handle.sync({ onEventLoop: true });
    handle.close();
    for (const onEventLoop of [true, false])
      await expect(handle.sync({ onEventLoop })).rejects.toMatchObject({ code: "SLUICE_IO" });
  });
});
