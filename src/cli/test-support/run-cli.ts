import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cliMain } from "./cli-build.js";

const run = promisify(execFile);

/** What a `sluice` command printed, and its exit code. */
export interface CliOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/**
 * Runs the `sluice` command line (built ahead, see cliMain) in a child process with `args`,
 * and `env` added to this process's environment; resolves with what it printed and its exit
 * code, whether it succeeded or not.
 */
export async function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliMain(), ...args], {
      env: { ...process.env, ...env },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as CliOutcome;
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}
