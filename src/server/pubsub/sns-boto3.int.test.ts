import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../test-support/test-server.js";

// Debian's python3-boto3 (installed by .ci/run) under the system Python: the course's code
// runs on it. Its botocore speaks SNS (and SQS) in the query protocol.
const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./test-support/boto3_sns_flow.py", import.meta.url));
const hasBoto3 =
  existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import boto3"], { stdio: "ignore" }).status === 0;
const inCi = process.env.CI === "true";

let sluice: TestServer;
beforeAll(async () => {
  if (hasBoto3) sluice = await startTestServer();
});
afterAll(async () => {
  await sluice?.close();
});

describe("SNS through boto3 (Debian's python3-boto3)", () => {
  it.runIf(inCi && !hasBoto3)("python3-boto3 is installed (CI installs it)", () => {
    expect.fail(`${PYTHON} cannot import boto3: install python3-boto3`);
  });

  it.skipIf(!hasBoto3)(
    "topic, queue subscription with a filter policy, publish and batch, receive, the missing-topic error",
    async () => {
      // Asynchronously: the server answering it runs in this process.
      const child = await new Promise<{ status: number; stdout: string; stderr: string }>(
        (resolve) =>
          execFile(
            PYTHON,
            [SCRIPT, sluice.url],
            {
              encoding: "utf8",
              timeout: 60_000,
              env: {
                ...process.env,
                AWS_EC2_METADATA_DISABLED: "true",
                AWS_CONFIG_FILE: "/dev/null",
                AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
              },
            },
            (error, stdout, stderr) =>
              resolve({
                status: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
                stdout,
                stderr,
              }),
          ),
      );
      expect(child.stderr + child.stdout).toContain("all checks passed");
      expect(child.status).toBe(0);
    },
  );
});
