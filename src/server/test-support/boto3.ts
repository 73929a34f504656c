import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { expect, it } from "vitest";

// Debian's python3-boto3 (installed by .ci/run) under the system Python: the course's code runs
// on it. Its botocore speaks SQS and SNS in the query protocol.
export const PYTHON = "/usr/bin/python3";

export const hasBoto3 =
  existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import boto3"], { stdio: "ignore" }).status === 0;

/** Under CI a missing boto3 is a failure, not a skip. */
export function requireBoto3InCi(): void {
  it.runIf(process.env.CI === "true" && !hasBoto3)(
    "python3-boto3 is installed (CI installs it)",
    () => {
      expect.fail(`${PYTHON} cannot import boto3: install python3-boto3`);
    },
  );
}

/**
 * A suffix for the names a script creates, new on every call: integration tests are retried once,
 * against the same server, and a retry must not meet the queues and topics its first attempt
 * left behind (it would fail at an unrelated earlier step and hide the real failure).
 */
export function attemptSuffix(): string {
  return `-${randomBytes(3).toString("hex")}`;
}

export interface ScriptResult {
  readonly status: number;
  readonly stdout: string;
  /** stderr, then stdout. */
  readonly output: string;
}

/**
 * Runs a boto3 script with no AWS configuration of the machine's, asynchronously: the server
 * answering it runs in the test's own process.
 */
export function runBoto3(script: string, args: readonly string[]): Promise<ScriptResult> {
  return runWithoutAwsConfig(PYTHON, [script, ...args]);
}

/**
 * Runs a program (an AWS SDK's client, in any language) to its end, asynchronously, with none
 * of the machine's AWS configuration: no profile, credentials file or instance metadata.
 */
export function runWithoutAwsConfig(
  file: string,
  args: readonly string[],
  cwd?: string,
): Promise<ScriptResult> {
  return new Promise((resolve) =>
    execFile(
      file,
      args,
      {
        encoding: "utf8",
        timeout: 60_000,
        ...(cwd === undefined ? {} : { cwd }),
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
          output: stderr + stdout,
        }),
    ),
  );
}
