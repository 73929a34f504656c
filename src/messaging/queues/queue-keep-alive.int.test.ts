import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runScript } from "../../resilience/test-support/run-script.js";

const worker = fileURLToPath(new URL("./test-support/keep-alive-worker.ts", import.meta.url));

describe.concurrent("queue waits and process lifetime", () => {
  it("an empty long poll keeps a plain script alive for its WaitTimeSeconds", async () => {
    const { code, stdout, stderr } = await runScript(worker, ["long poll"]);
    // Without a timer holding it, Node exits 13 ("unsettled top-level await") mid-poll.
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "settled 0\n", stderr: "" });
  });

  it("a long poll waiting for a delayed message stays alive until it arrives", async () => {
    const { code, stdout, stderr } = await runScript(worker, ["delayed message"]);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "settled 1\n", stderr: "" });
  });

  it("an open service left unclosed does not hold the process (its timers are background)", async () => {
    const { code, stdout, elapsedMs } = await runScript(worker, ["left open"]);
    expect({ code, stdout }).toEqual({ code: 0, stdout: "settled 0\n" });
    expect(elapsedMs).toBeLessThan(15_000);
  });
});
