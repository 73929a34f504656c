import type { Command } from "commander";
import { registerBenchCommands } from "./bench-commands.js";
import { SluiceCommand } from "./command-line-fields.js";
import { registerEventCommands } from "./event-commands.js";
import { registerKafkaCommands } from "./kafka-commands.js";
import { registerLogCommands } from "./log-commands.js";
import { registerQueueCommands } from "./queue-commands.js";
import { registerStartCommand } from "./start-command.js";
import { registerTopicBenchCommands } from "./topic-bench-commands.js";
import { registerTopicCommands } from "./topic-commands.js";
import { SLUICE_VERSION } from "../version.js";

/**
 * The whole `sluice` command tree, with every option, argument and description, so that the
 * help of every command is complete. Building it loads no implementation: each action imports
 * what it runs when it runs, so `sluice log verify` loads neither the server, the Kafka listener
 * nor the NATS and PostgreSQL clients, and `sluice --help` none of them (src/cli/program.test.ts
 * holds this).
 */
export function sluiceProgram(): Command {
  // Every command's errors name the options and arguments the user typed.
  const program = new SluiceCommand()
    .name("sluice")
    .description("Sluice: durable logs, queues and resilience for TypeScript")
    .version(SLUICE_VERSION, "-V, --version", "print the version of Sluice")
    .showHelpAfterError();
  registerBenchCommands(program);
  registerTopicBenchCommands(program);
  registerKafkaCommands(program);
  registerEventCommands(program);
  registerLogCommands(program);
  registerQueueCommands(program);
  registerStartCommand(program);
  registerTopicCommands(program);
  return program;
}
