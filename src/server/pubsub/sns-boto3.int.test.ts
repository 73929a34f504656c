import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptSuffix, hasBoto3, requireBoto3InCi, runBoto3 } from "../test-support/boto3.js";
import { type TestServer, startTestServer } from "../test-support/test-server.js";

const SCRIPT = fileURLToPath(new URL("./test-support/boto3_sns_flow.py", import.meta.url));

let sluice: TestServer;
beforeAll(async () => {
  if (hasBoto3) sluice = await startTestServer();
});
afterAll(async () => {
  await sluice?.close();
});

describe("SNS through boto3 (Debian's python3-boto3)", () => {
  requireBoto3InCi();

  it.skipIf(!hasBoto3)(
    "topic, queue subscription with a filter policy, publish and batch, receive, the missing-topic error",
    async () => {
      // Fresh names each attempt: a retry runs on the same server as the first try.
      const child = await runBoto3(SCRIPT, [sluice.url, attemptSuffix()]);
      expect(child.output).toContain("all checks passed");
      expect(child.status).toBe(0);
    },
  );
});
