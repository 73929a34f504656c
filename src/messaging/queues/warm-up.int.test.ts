import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compiledTiers } from "../test-support/compiled-tiers-of.js";
import { warmUpQueues } from "./warm-up.js";

const root = mkdtempSync(join(tmpdir(), "sluice-warm-up-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("warmUpQueues", () => {
  it("leaves the send and receive paths compiled by V8, where a fresh process has not compiled them", async () => {
    const cold = await compiledTiers("queues", false);
    expect(
      Object.values(cold).every((tier) => tier === "none"),
      JSON.stringify(cold),
    ).toBe(true);
    const warm = await compiledTiers("queues", true);
    // Past the interpreter: at V8's baseline tier, or optimized. The optimizing compiler runs on
    // a thread of its own, which a loaded machine can leave behind, and a method can be back in
    // the interpreter for a moment after a deoptimization: one of six may be.
    const compiled = Object.values(warm).filter((tier) => tier !== "none");
    expect(compiled.length, JSON.stringify(warm)).toBeGreaterThanOrEqual(5);
    expect(compiled, JSON.stringify(warm)).toContain("optimized");
  }, 120_000);

  it("runs standard and FIFO traffic through send, receive and delete, and leaves nothing on disk", async () => {
    const parentDir = mkdtempSync(join(root, "parent-"));
    const report = await warmUpQueues({ messages: 300, fifoMessages: 60, parentDir });
    expect(report.messages).toBe(360);
    expect(readdirSync(parentDir)).toEqual([]);
  });

  it("under fsync always as well", async () => {
    const parentDir = mkdtempSync(join(root, "always-"));
    const report = await warmUpQueues({
      fsync: "always",
      messages: 100,
      fifoMessages: 20,
      parentDir,
    });
    expect(report.messages).toBe(120);
    expect(readdirSync(parentDir)).toEqual([]);
  });

  it("stops once its time budget is spent", async () => {
    const parentDir = mkdtempSync(join(root, "budget-"));
    const report = await warmUpQueues({ messages: 1e9, budgetMs: 150, parentDir });
    expect(report.messages).toBeGreaterThan(0);
    expect(report.messages).toBeLessThan(1e9);
    // The budget, plus at most one long poll cut short and the close.
    expect(report.elapsedMs).toBeLessThan(3_000);
    expect(readdirSync(parentDir)).toEqual([]);
  });

  it("a directory it cannot make is its error, thrown before any traffic", async () => {
    await expect(
      warmUpQueues({ parentDir: join(root, "missing", "deeper") }),
    ).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});
