import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Prometheus's own check of the example alert rules in docs/, when promtool is installed
// (Debian's `prometheus` package ships /usr/bin/promtool). alert-rules.test.ts checks, without
// promtool, that the metrics and labels the rules use are the ones /metrics exposes.
const RULES = fileURLToPath(new URL("../../docs/prometheus-alerts.yml", import.meta.url));
const hasPromtool = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
const SKIPPED = "promtool is not on PATH (Debian's prometheus package has it; see docs/server.md)";

const promtool = (...args: string[]): { status: number | null; output: string } => {
  const child = spawnSync("promtool", args, { encoding: "utf8", timeout: 60_000 });
  return { status: child.status, output: `${child.stdout}${child.stderr}` };
};

describe("docs/prometheus-alerts.yml under promtool", () => {
  it("promtool check rules passes", (ctx) => {
    ctx.skip(!hasPromtool, SKIPPED);
    const checked = promtool("check", "rules", RULES);
    expect(checked.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(checked.status).toBe(0);
  });

  it("promtool refuses the same rules with a broken expression (the check is real)", (ctx) => {
    ctx.skip(!hasPromtool, SKIPPED);
    const dir = mkdtempSync(join(tmpdir(), "sluice-promtool-"));
    try {
      const broken = join(dir, "broken.yml");
      const text = readFileSync(RULES, "utf8");
      const mangled = text.replace(/expr: /, "expr: sum by (queue ");
      expect(mangled).not.toBe(text);
      writeFileSync(broken, mangled);
      const checked = promtool("check", "rules", broken);
      expect(checked.status).not.toBe(0);
      expect(checked.output).toMatch(/FAILED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
