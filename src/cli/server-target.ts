import { type Command, InvalidArgumentError, Option } from "commander";
import type { RemoteSluice } from "../client/index.js";
import { SluiceError, isSluiceError } from "../errors/index.js";
import { inCommandLineTerms } from "./command-line-fields.js";

/** Help of the `--server` option of the commands that look into (or feed) a data directory. */
export const SERVER_HELP =
  "URL of a running `sluice start` (e.g. http://localhost:8080), instead of a data directory";

/**
 * `--auth-token`, also read from SLUICE_AUTH_TOKEN: a token given in the environment stays out
 * of the process list and the shell's history.
 */
export function authTokenOption(description: string): Option {
  return new Option("--auth-token <token>", description).env("SLUICE_AUTH_TOKEN");
}

/** `--server <url>`, and the token a server started with `--auth-token` asks of its clients. */
export function serverOptions(command: Command): Command {
  return command
    .option("--server <url>", SERVER_HELP)
    .addOption(authTokenOption("the server's --auth-token, with --server"));
}

/** Whether a command's target is a server's URL rather than a directory (or a database). */
export const isServerUrl = (target: string): boolean => /^https?:\/\//i.test(target);

/**
 * Runs `use` on the primitives of the Sluice server at `url` (`connect`), and closes the
 * connection after. A data directory is open for writing in one process at a time: while
 * `sluice start` serves it, the command line reaches it through the server, as Kafka's tools
 * reach a running broker with `--bootstrap-server`.
 */
export async function withServer<T>(
  url: string,
  field: string,
  authToken: string | undefined,
  use: (sluice: RemoteSluice) => Promise<T>,
): Promise<T> {
  // Loaded here, not at the top: `sluice --help` and the other commands need none of it.
  const { connect } = await import("../client/index.js");
  let sluice: RemoteSluice;
  try {
    sluice = connect(url, authToken === undefined ? {} : { authToken });
  } catch (error) {
    throw inCommandLineTerms(error, new Map([["url", field]]));
  }
  try {
    return await use(sluice);
  } finally {
    await sluice.close();
  }
}

/** Where a command finds its data: a directory (`--data-dir`), or the server serving one. */
export interface DataSource {
  readonly dataDir?: string;
  readonly server?: string;
  readonly authToken?: string;
}

/** The one of `--data-dir` and `--server` a command was given (it needs exactly one). */
export function dataDirOrServer(
  dataDir: string | undefined,
  server: string | undefined,
): { dataDir: string } | { server: string } {
  if (dataDir !== undefined && server !== undefined)
    throw new InvalidArgumentError(
      `give one of --data-dir ${dataDir} and --server ${server}: the server serves its own data directory`,
    );
  if (server !== undefined) return { server };
  if (dataDir !== undefined) return { dataDir };
  throw new InvalidArgumentError(
    "give the data directory (--data-dir <dir>) or the URL of the server serving it (--server <url>)",
  );
}

/**
 * A data directory another process holds (most often `sluice start`, serving it) is refused
 * with SLUICE_LOCKED: the message says how to go through the server instead (`how`: "--server
 * <url>", or the URL as the target).
 */
export function throughServerHint(error: unknown, how: string): unknown {
  if (!isSluiceError(error, "SLUICE_LOCKED")) return error;
  return new SluiceError(
    "SLUICE_LOCKED",
    `${error.message}; if that is \`sluice start\` serving it, reach it through the server: ${how}`,
    { cause: error, ...(error.details === undefined ? {} : { details: error.details }) },
  );
}
