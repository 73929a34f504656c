import { type ChildProcess, spawn } from "node:child_process";

/** A `sluice start` child process that has printed its banner. */
export interface StartedServer {
  readonly child: ChildProcess;
  /** The URL its banner gave ("Sluice listening on <url>"). */
  readonly url: string;
  readonly port: number;
  /** Its stdout and stderr so far. */
  readonly output: () => string;
  /** Resolves with its exit code. */
  readonly exit: Promise<number | null>;
}

/**
 * Runs `command` (a program and its arguments up to `start`'s options, e.g. node and the CLI's
 * entry point, then "start") with `--port 0` and `args`, and resolves once the server has
 * printed where it listens: no port is chosen before the server binds it, so none can be taken
 * by another test in between.
 */
export async function startServer(
  command: readonly string[],
  args: readonly string[],
): Promise<StartedServer> {
  const [program, ...rest] = command;
  const child = spawn(program!, [...rest, "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const listening = /Sluice listening on (http:\/\/\S+:(\d+))\n/.exec(output);
    if (listening !== null)
      return { child, url: listening[1]!, port: Number(listening[2]), output: () => output, exit };
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`sluice start did not come up:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
