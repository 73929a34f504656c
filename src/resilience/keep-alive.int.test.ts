import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runScript } from "./test-support/run-script.js";

const worker = fileURLToPath(new URL("./test-support/keep-alive-worker.ts", import.meta.url));

describe.concurrent("an awaited wait keeps a plain script alive until it settles", () => {
  it.each([
    "retry backoff",
    "aggressive timeout",
    "cooperative timeout",
    "rate limiter wait",
    "bulkhead queue timeout",
    "hedging delay",
  ])("%s", async (scenario) => {
    const { code, stdout, stderr } = await runScript(worker, [scenario]);
    // Without a timer holding it, Node exits 13 ("unsettled top-level await") before this.
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "settled\n", stderr: "" });
  });

  it("a finished call's deadline does not hold the process until it passes", async () => {
    const { code, stdout, elapsedMs } = await runScript(worker, ["finished aggressive call"]);
    expect({ code, stdout }).toEqual({ code: 0, stdout: "settled\n" });
    expect(elapsedMs).toBeLessThan(30_000); // the deadline is 60 s away
  });
});
