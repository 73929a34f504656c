import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { MetricsRegistry } from "../../observability/index.js";
import { VirtualClock } from "../../time/index.js";
import { EmbeddedEventStore } from "../embedded-event-store.js";
import { MemoryReadModel } from "./memory-read-model.js";
import type { Projection } from "./projection.js";
import { ProjectionRunner } from "./projection-runner.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-projection-lag-"));
  dirs.push(dir);
  return dir;
}

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Handler calls for chosen events wait until the test lets them go. */
class Holds {
  private readonly reached = new Map<number, Deferred>();
  private readonly released = new Map<number, Deferred>();

  private entry(map: Map<number, Deferred>, n: number): Deferred {
    let entry = map.get(n);
    if (entry === undefined) {
      entry = deferred();
      map.set(n, entry);
    }
    return entry;
  }

  /** Called by the handler: returns once the test released event `n`. */
  async pass(n: number): Promise<void> {
    this.entry(this.reached, n).resolve();
    await this.entry(this.released, n).promise;
  }

  /** Resolves once the handler is waiting at event `n`. */
  waitUntilReached(n: number): Promise<void> {
    return this.entry(this.reached, n).promise;
  }

  release(n: number): void {
    this.entry(this.released, n).resolve();
  }

  /** Lets every handler through (so a failed test can still stop the runner). */
  releaseAll(): void {
    for (const held of this.released.values()) held.resolve();
  }
}

describe("projection lag gauges", () => {
  it("report the events and the milliseconds a projection is behind, and 0 once it caught up", async () => {
    const clock = new VirtualClock();
    const metrics = new MetricsRegistry();
    const store = await EmbeddedEventStore.open(tempDir(), { clock, fsync: "never" });
    const holds = new Holds();
    const orders: Projection = {
      name: "orders",
      async apply(event, tx) {
        const { n, hold } = event.data as { n: number; hold?: boolean };
        if (hold === true) await holds.pass(n);
        tx.put(`order-${n}`, event.type);
      },
    };
    const gauge = (name: string): number | undefined =>
      metrics.gaugeValues(name).find((g) => g.labels.projection === "orders")?.value;
    const lagEvents = (): number | undefined => gauge("sluice_projection_lag_events");
    const behindMs = (): number | undefined => gauge("sluice_projection_behind_ms");
    const runner = new ProjectionRunner(store, orders, new MemoryReadModel(), {
      clock,
      metrics,
      batchSize: 10,
    });
    try {
      const start = clock.now();
      await store.appendToStream("o-0", [{ type: "Placed", data: { n: 0, hold: true } }]);
      runner.start();
      await holds.waitUntilReached(0);
      expect(lagEvents()).toBe(1);

      // Four more events a second later, while the first batch is still being applied.
      await clock.advance(1000);
      await store.appendToStream("o-1", [
        { type: "Placed", data: { n: 1, hold: true } },
        { type: "Placed", data: { n: 2 } },
        { type: "Paid", data: { n: 3 } },
        { type: "Paid", data: { n: 4 } },
      ]);
      await clock.advance(500);
      holds.release(0);
      // The first batch committed 1,500 ms after its event was appended; four events are left.
      await holds.waitUntilReached(1);
      expect(lagEvents()).toBe(4);
      expect(behindMs()).toBe(1500);

      await clock.advance(250);
      holds.release(1);
      await runner.waitFor(await store.headPosition());
      // Caught up: nothing left to apply, and so no time behind either.
      await vi.waitFor(() => {
        expect(lagEvents()).toBe(0);
        expect(behindMs()).toBe(0);
      });
      expect(clock.now() - start).toBe(1750);
      expect(runner.status()).toMatchObject({ state: "running", checkpoint: 4 });
    } finally {
      holds.releaseAll();
      await runner.stop();
      await store.close();
    }
  });
});
