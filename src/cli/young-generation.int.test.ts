import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startServer } from "./test-support/started-server.js";

// Every way of running Sluice's own processes sizes the heap the same way (see "Memory and
// garbage collection" in docs/engine.md): with V8's default young generation, reads and rebuilds
// spend most of their time copying survivors between semi-spaces; with its default first limit
// for the old generation, a young server runs a full collection every second or two.
const FLAGS = ["--max-semi-space-size=64", "--initial-old-space-size=64"];
const bin = fileURLToPath(new URL("../../bin/sluice.js", import.meta.url));
const packageJson = fileURLToPath(new URL("../../package.json", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "sluice-young-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the heap of Sluice's processes", () => {
  it("is sized by bin/sluice.js when it is run as a program", async () => {
    const started = await startServer(
      [bin, "start"],
      ["--data-dir", join(root, "data"), "--kafka-port", "0"],
    );
    try {
      const argv = readFileSync(`/proc/${started.child.pid}/cmdline`, "utf8").split("\0");
      for (const flag of FLAGS) expect(argv).toContain(flag);
    } finally {
      started.child.kill("SIGTERM");
    }
    expect(await started.exit).toBe(0);
  });

  it("is sized by the npm scripts that run Sluice", () => {
    const { scripts } = JSON.parse(readFileSync(packageJson, "utf8")) as {
      scripts: Record<string, string>;
    };
    for (const name of ["start", "sluice", "bench"])
      for (const flag of FLAGS) expect(scripts[name]).toContain(flag);
  });
});
