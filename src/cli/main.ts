#!/usr/bin/env node
import { Command } from "commander";
import { SluiceError } from "../errors/index.js";
import { registerBenchCommands } from "./bench-commands.js";
import { registerLogCommands } from "./log-commands.js";
import { registerQueueCommands } from "./queue-commands.js";
import { registerTopicBenchCommands } from "./topic-bench-commands.js";
import { registerTopicCommands } from "./topic-commands.js";

const program = new Command()
  .name("sluice")
  .description("Sluice: durable logs, queues and resilience for TypeScript")
  .showHelpAfterError();

registerBenchCommands(program);
registerTopicBenchCommands(program);
registerLogCommands(program);
registerQueueCommands(program);
registerTopicCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof SluiceError) {
    process.stderr.write(`sluice: ${error.code}: ${error.message}\n`);
    process.exitCode = 2;
  } else throw error;
}
