import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptSuffix, hasBoto3, requireBoto3InCi, runBoto3 } from "../test-support/boto3.js";
import { type TestServer, startTestServer } from "../test-support/test-server.js";

const SCRIPT = fileURLToPath(new URL("./test-support/boto3_eventbridge_flow.py", import.meta.url));
const TAGS_SCRIPT = fileURLToPath(
  new URL("./test-support/boto3_eventbridge_tags.py", import.meta.url),
);

let sluice: TestServer;
beforeAll(async () => {
  if (hasBoto3) sluice = await startTestServer();
});
afterAll(async () => {
  await sluice?.close();
});

describe("EventBridge through boto3 (Debian's python3-boto3)", () => {
  requireBoto3InCi();

  it.skipIf(!hasBoto3)(
    "a rule with a pattern to queues, whole and through an input transformer; refused entries; the errors",
    async () => {
      // Fresh names each attempt: a retry runs on the same server as the first try.
      const child = await runBoto3(SCRIPT, [sluice.url, attemptSuffix()]);
      expect(child.output).toContain("all checks passed");
      expect(child.status).toBe(0);
    },
  );

  it.skipIf(!hasBoto3)(
    "tags of buses and rules and an updated archive, before and after the server restarts on its data directory",
    async () => {
      let server = await startTestServer();
      try {
        const set = await runBoto3(TAGS_SCRIPT, [server.url, "set"]);
        expect(set.output).toContain("all checks passed");
        expect(set.status).toBe(0);
        server = await server.restart();
        const check = await runBoto3(TAGS_SCRIPT, [server.url, "check"]);
        expect(check.output).toContain("all checks passed");
        expect(check.status).toBe(0);
      } finally {
        await server.close();
      }
    },
  );
});
