import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { VirtualClock } from "./virtual-clock.js";

describe("VirtualClock", () => {
  it("fires timers in due order and moves now() to each due time", async () => {
    const clock = new VirtualClock(1000);
    const fired: Array<[string, number]> = [];
    clock.setTimer(30, () => fired.push(["b", clock.now()]));
    clock.setTimer(10, () => fired.push(["a", clock.now()]));
    clock.setTimer(30, () => fired.push(["c", clock.now()]));
    await clock.advance(25);
    expect(fired).toEqual([["a", 1010]]);
    await clock.advance(5);
    expect(fired).toEqual([
      ["a", 1010],
      ["b", 1030],
      ["c", 1030],
    ]);
    expect(clock.now()).toBe(1030);
  });

  it("lets async code chain sleeps within one advance", async () => {
    const clock = new VirtualClock(0);
    const seen: number[] = [];
    const run = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        seen.push(clock.now());
      }
    })();
    await clock.advance(1000);
    await run;
    expect(seen).toEqual([100, 200, 300]);
  });

  it("cancelled timers do not fire and sleep rejects on abort", async () => {
    const clock = new VirtualClock(0);
    let fired = false;
    clock.setTimer(5, () => (fired = true)).cancel();
    const controller = new AbortController();
    const sleeping = clock.sleep(50, controller.signal);
    controller.abort();
    await expect(sleeping).rejects.toSatisfy((e) => isSluiceError(e, "SLUICE_ABORTED"));
    await clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });
});
