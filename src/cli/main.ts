#!/usr/bin/env node
import { Command } from "commander";
import { SluiceError } from "../errors/index.js";
import { registerBenchCommands } from "./bench-commands.js";
import { registerEventCommands } from "./event-commands.js";
import { registerKafkaCommands } from "./kafka-commands.js";
import { registerLogCommands } from "./log-commands.js";
import { registerQueueCommands } from "./queue-commands.js";
import { registerStartCommand } from "./start-command.js";
import { registerTopicBenchCommands } from "./topic-bench-commands.js";
import { registerTopicCommands } from "./topic-commands.js";
// A reader that stops early (`sluice log dump DIR | head -1`) ends the output, not in a stack
// trace: stop quietly, with the exit code so far.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit();
});

const program = new Command()
  .name("sluice")
  .description("Sluice: durable logs, queues and resilience for TypeScript")
  .showHelpAfterError();

// The whole command tree is registered (so `--help` of every command lists its options), but
// each action imports its implementation when it runs: `sluice log verify` loads neither the
// server, the Kafka listener nor the NATS and PostgreSQL clients, and `sluice --help` none of them.
registerBenchCommands(program);
registerTopicBenchCommands(program);
registerKafkaCommands(program);
registerEventCommands(program);
registerLogCommands(program);
registerQueueCommands(program);
registerStartCommand(program);
registerTopicCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof SluiceError) {
    process.stderr.write(`sluice: ${error.code}: ${error.message}\n`);
    process.exitCode = 2;
  } else throw error;
}
