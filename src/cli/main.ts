#!/usr/bin/env node
import { CommanderError } from "commander";
import { SluiceError } from "../errors/index.js";
import { sluiceProgram } from "./program.js";
// A reader that stops early (`sluice log dump DIR | head -1`) ends the output, not in a stack
// trace: stop quietly, with the exit code so far.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit();
});

try {
  await sluiceProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof SluiceError) {
    process.stderr.write(`sluice: ${error.code}: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof CommanderError) {
    // A usage error found by a command's action (arguments commander cannot check alone): said
    // as commander says its own, not as a stack trace.
    process.stderr.write(`sluice: error: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else throw error;
}
