import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compiledTiers } from "../test-support/compiled-tiers-of.js";
import { warmUpTopics } from "./warm-up.js";

const root = mkdtempSync(join(tmpdir(), "sluice-topic-warm-up-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("warmUpTopics", () => {
  it("leaves the producer, partition log and consumer paths compiled by V8, where a fresh process has not compiled them", async () => {
    const cold = await compiledTiers("topics", false);
    expect(
      Object.values(cold).every((tier) => tier === "none"),
      JSON.stringify(cold),
    ).toBe(true);
    // Past the interpreter, at V8's baseline tier at least (their work is in the functions they
    // call, which the optimizing compiler takes); one may be back in the interpreter for a moment
    // after a deoptimization.
    const warm = await compiledTiers("topics", true);
    const compiled = Object.values(warm).filter((tier) => tier !== "none");
    expect(compiled.length, JSON.stringify(warm)).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it("produces and consumes through a group, and leaves nothing on disk", async () => {
    const parentDir = mkdtempSync(join(root, "parent-"));
    const report = await warmUpTopics({ records: 1_500, parentDir });
    expect(report.records).toBe(1_500);
    expect(readdirSync(parentDir)).toEqual([]);
  });

  it("under fsync always as well", async () => {
    const parentDir = mkdtempSync(join(root, "always-"));
    const report = await warmUpTopics({ fsync: "always", records: 500, parentDir });
    expect(report.records).toBe(500);
    expect(readdirSync(parentDir)).toEqual([]);
  });

  it("stops once its time budget is spent", async () => {
    const parentDir = mkdtempSync(join(root, "budget-"));
    // A budget a loaded machine still gets some records through in (150 ms once got none).
    const report = await warmUpTopics({ records: 1e9, budgetMs: 500, parentDir });
    expect(report.records).toBeGreaterThan(0);
    expect(report.records).toBeLessThan(1e9);
    expect(report.elapsedMs).toBeLessThan(10_000);
    expect(readdirSync(parentDir)).toEqual([]);
  });
});
