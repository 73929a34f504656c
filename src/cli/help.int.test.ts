import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { sluiceProgram } from "./program.js";
import { cliMain } from "./test-support/cli-build.js";
import { SLUICE_VERSION } from "../version.js";

const run = promisify(execFile);
const main = cliMain();

/** Every command under `command`, with the words that name it on the command line. */
function commands(command: Command, path: string[] = []): { path: string[]; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const subPath = [...path, sub.name()];
    return [{ path: subPath, command: sub }, ...commands(sub, subPath)];
  });
}

/** Help text with its line wrapping undone, so a wrapped description still matches. */
const unwrap = (text: string): string => text.replace(/\s+/g, " ");

describe("sluice --help", () => {
  const all = commands(sluiceProgram());

  it("has every top-level command", () => {
    expect(all.filter((c) => c.path.length === 1).map((c) => c.path[0])).toEqual([
      "bench",
      "kafka",
      "events",
      "log",
      "queues",
      "start",
      "topics",
      "groups",
    ]);
  });

  it("lists every command, exit code 0", async () => {
    const { stdout } = await run(process.execPath, [main, "--help"]);
    for (const { path } of all.filter((c) => c.path.length === 1))
      expect(stdout).toMatch(new RegExp(`^  ${path[0]}\\b`, "m"));
  });

  it("prints the version with --version, exit code 0", async () => {
    for (const flag of ["--version", "-V"]) {
      const { stdout } = await run(process.execPath, [main, flag]);
      expect(stdout.trim()).toBe(SLUICE_VERSION);
    }
  });

  // The process's help, from a command tree whose actions load their implementation only when
  // run, says what the full tree in this process says: every option with its description, and
  // every argument. Each is its own short process; several run at once.
  it.concurrent.for(all.map((c) => [c.path.join(" "), c] as const))(
    "sluice %s --help lists its options and arguments",
    async ([, { path, command }], { expect }) => {
      const { stdout, stderr } = await run(process.execPath, [main, ...path, "--help"]);
      expect(stderr).toBe("");
      const help = unwrap(stdout);
      expect(help).toContain(`Usage: sluice ${path.join(" ")}`);
      if (command.description() !== "") expect(help).toContain(unwrap(command.description()));
      for (const option of command.options) {
        expect(help).toContain(option.flags);
        expect(help).toContain(unwrap(option.description));
      }
      for (const argument of command.registeredArguments) {
        expect(help).toContain(argument.name());
        if (argument.description !== "") expect(help).toContain(unwrap(argument.description));
      }
    },
  );
});
