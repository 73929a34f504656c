import { describe, expect, it } from "vitest";
import { machineSpeedLine, measureMachineSpeed, withMachineSpeed } from "./machine-speed.js";

describe("machine speed", () => {
  it("times both parts of the reference workload, in plausible units", async () => {
    const speed = await measureMachineSpeed();
    // A step of the loop is a multiply, an add and a branch: well under a microsecond, and not
    // free (a loop the compiler dropped would time at about zero).
    expect(speed.loopNsPerStep).toBeGreaterThan(0.05);
    expect(speed.loopNsPerStep).toBeLessThan(1000);
    expect(speed.jsonMicrosPerKiB).toBeGreaterThan(0.05);
    expect(speed.jsonMicrosPerKiB).toBeLessThan(10_000);
  });

  it("measures before and after the run, and passes its result through", async () => {
    const order: string[] = [];
    const { result, machineSpeed } = await withMachineSpeed(async () => {
      order.push("run");
      return 42;
    });
    expect(result).toBe(42);
    expect(order).toEqual(["run"]);
    expect(Object.keys(machineSpeed)).toEqual(["before", "after"]);
    expect(machineSpeedLine(machineSpeed)).toMatch(
      /^machine speed \(reference workload, lower is faster\): loop [\d.]+ ns\/step, JSON [\d.]+ µs\/KiB before; [\d.]+ \/ [\d.]+ after$/,
    );
  });
});
