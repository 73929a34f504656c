import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasBoto3, requireBoto3InCi, runBoto3 } from "../test-support/boto3.js";
import { type TestServer, startTestServer } from "../test-support/test-server.js";

const SCRIPT = fileURLToPath(new URL("./test-support/boto3_eventbridge_flow.py", import.meta.url));

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
      const child = await runBoto3(SCRIPT, [sluice.url]);
      expect(child.output).toContain("all checks passed");
      expect(child.status).toBe(0);
    },
  );
});
