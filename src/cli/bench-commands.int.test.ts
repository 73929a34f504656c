import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { cliMain } from "./test-support/cli-build.js";

const run = promisify(execFile);
const main = cliMain();

describe("sluice bench", () => {
  it("refused by its input, exits at once with the error naming the field (nothing keeps the process alive)", async () => {
    const started = Date.now();
    const outcome = await run(
      process.execPath,
      [
        main,
        "bench",
        "produce",
        "--num-records",
        "10",
        "--producer-props",
        "linger.ms=99999999999",
      ],
      { timeout: 20_000 },
    ).then(
      () => ({ code: 0, signal: null, stderr: "" }),
      (error: { code: number | null; signal: string | null; stderr: string }) => error,
    );
    expect({ code: outcome.code, signal: outcome.signal }).toEqual({ code: 2, signal: null });
    expect(outcome.stderr).toMatch(/^sluice: SLUICE_VALIDATION: lingerMs: /);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("refuses unknown producer properties and malformed values, naming them", async () => {
    for (const [prop, said] of [
      ["foo=1", "unknown property foo (expected batch.size, linger.ms, compression.type, acks)"],
      ["batch.size=abc", "batch.size: expected a byte count, got abc"],
      [
        "compression.type=brotli",
        "compression.type: expected none, gzip, snappy, lz4 or zstd, got brotli",
      ],
    ] as const) {
      const outcome = await run(
        process.execPath,
        [main, "bench", "produce", "--producer-props", prop],
        {
          timeout: 20_000,
        },
      ).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number | null; stderr: string }) => error,
      );
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain(said);
    }
  });

  it("records the machine's speed before and after a benchmark, in the JSON and in a line", async () => {
    const args = [main, "bench", "resilience", "--duration-ms", "20", "--keys", "1000"];
    const human = await run(process.execPath, args, { timeout: 60_000 });
    expect(human.stdout).toMatch(/^machine speed \(reference workload, lower is faster\): /m);
    const json = await run(process.execPath, [...args, "--json", "--runs", "2"], {
      timeout: 60_000,
    });
    const result = JSON.parse(json.stdout) as {
      runs: unknown[];
      machineSpeed: Record<"before" | "after", { loopNsPerStep: number; jsonMicrosPerKiB: number }>;
    };
    expect(result.runs).toHaveLength(2);
    for (const when of ["before", "after"] as const) {
      expect(result.machineSpeed[when].loopNsPerStep).toBeGreaterThan(0);
      expect(result.machineSpeed[when].jsonMicrosPerKiB).toBeGreaterThan(0);
    }
  });
});
