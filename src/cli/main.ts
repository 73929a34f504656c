#!/usr/bin/env node
import { Command } from "commander";
import { SluiceError } from "../errors/index.js";
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

type Register = (program: Command) => void;

// Each top-level command loads its own modules only: `sluice log verify` need not load the
// server, the Kafka listener and the NATS client (seconds of start-up on a small machine).
const COMMANDS: Record<string, () => Promise<Register[]>> = {
  bench: async () => [
    (await import("./bench-commands.js")).registerBenchCommands,
    (await import("./topic-bench-commands.js")).registerTopicBenchCommands,
  ],
  kafka: async () => [(await import("./kafka-commands.js")).registerKafkaCommands],
  events: async () => [(await import("./event-commands.js")).registerEventCommands],
  log: async () => [(await import("./log-commands.js")).registerLogCommands],
  queues: async () => [(await import("./queue-commands.js")).registerQueueCommands],
  start: async () => [(await import("./start-command.js")).registerStartCommand],
  topics: async () => [(await import("./topic-commands.js")).registerTopicCommands],
};
COMMANDS.groups = COMMANDS.topics!;

/** The registrars the command line needs: its own command's, or every one (help, a typo). */
async function registrars(argv: readonly string[]): Promise<Register[]> {
  const named = COMMANDS[argv[2] ?? ""];
  if (named !== undefined) return named();
  const loaders = [...new Set(Object.values(COMMANDS))];
  return (await Promise.all(loaders.map((load) => load()))).flat();
}

for (const register of await registrars(process.argv)) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof SluiceError) {
    process.stderr.write(`sluice: ${error.code}: ${error.message}\n`);
    process.exitCode = 2;
  } else throw error;
}
