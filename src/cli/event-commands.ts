import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Command, InvalidArgumentError } from "commander";
import { SluiceError, describeValue } from "../errors/index.js";
import type { Aggregate } from "../eventstore/aggregates/aggregate.js";
import type { AuditFormat } from "../eventstore/audit.js";
import type { EventStore, JsonValue, RecordedEvent } from "../eventstore/event-store.js";
import { inCommandLineTerms, suppliesFields } from "./command-line-fields.js";
import { authTokenOption, isServerUrl, throughServerHint, withServer } from "./server-target.js";

/** An option's JSON text (commander's message names the option). */
function json(value: string): JsonValue {
  try {
    return JSON.parse(value) as JsonValue;
  } catch {
    throw new InvalidArgumentError("expected JSON");
  }
}

/** The JSON text of the argument `name`. */
function jsonArgument(name: string, value: string): JsonValue {
  try {
    return JSON.parse(value) as JsonValue;
  } catch {
    throw new InvalidArgumentError(`${name}: expected JSON, got ${value}`);
  }
}

function index(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected an integer >= 0");
  return n;
}

function time(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError("expected an ISO date or ms since the epoch");
  return ms;
}

function format(value: string): AuditFormat {
  if (value !== "json" && value !== "csv" && value !== "markdown")
    throw new InvalidArgumentError("expected json, csv or markdown");
  return value;
}

/** Where a command's store is, and which argument named it (for errors). */
interface Target {
  readonly target: string;
  readonly field: "target" | "--data-dir";
}

/**
 * The store a command names, and the arguments that are its own: `--data-dir <dir>`, as every
 * other command takes it, or else the first argument (a data directory, a postgres:// URL or a
 * running server's http:// URL).
 * The arguments left are the command's own `names`, of which the first `required` must be there;
 * a missing one is named as the help names it.
 */
function targetAndArgs(
  given: readonly (string | undefined)[],
  dataDir: string | undefined,
  names: readonly string[],
  required: number,
): [Target, string[]] {
  const args = given.filter((a) => a !== undefined);
  const [target, own]: [Target | undefined, string[]] =
    dataDir !== undefined
      ? [{ target: dataDir, field: "--data-dir" }, [...args]]
      : [args[0] === undefined ? undefined : { target: args[0], field: "target" }, args.slice(1)];
  if (target === undefined)
    throw new InvalidArgumentError(
      "give the store: --data-dir <dir>, or a data directory, postgres:// URL or server URL (http://...) as the first argument",
    );
  if (own.length < required)
    throw new InvalidArgumentError(`missing required argument '${names[own.length]}'`);
  if (own.length > names.length)
    throw new InvalidArgumentError(
      `too many arguments after the store: expected at most ${names.join(" ")}, got ${own.join(" ")}`,
    );
  return [target, own];
}

/** The store of a command whose only argument is the target. */
function storeOf(target: string | undefined, dataDir: string | undefined): Target {
  if (target !== undefined && dataDir !== undefined)
    throw new InvalidArgumentError(`give the store once: --data-dir ${dataDir} or ${target}`);
  return targetAndArgs([target], dataDir, [], 0)[0];
}

const DATA_DIR = "Sluice data directory (instead of a target argument)";
const TARGET =
  "data directory, postgres:// URL, or URL of a running `sluice start` (http://...), unless --data-dir";

/** The events command's own options: the PostgreSQL schema, a server's token. */
interface StoreOptions {
  readonly schema: string;
  readonly authToken: string | undefined;
}

/**
 * Opens the store at `target` for one command: a server's URL (the store it serves, through
 * `connect`: while `sluice start` serves a data directory, no other process opens it), a
 * postgres:// URL, a data directory (its `eventstore/`, where `open(dir)` and `sluice start`
 * keep it), or the directory of a store opened on its own (`EmbeddedEventStore.open(dir)`).
 * Only `append` creates one, as a data directory's: a mistyped path to read must not leave an
 * empty store behind.
 */
async function withStore<T>(
  { target, field }: Target,
  { schema, authToken }: StoreOptions,
  use: (store: EventStore) => Promise<T>,
  create = false,
): Promise<T> {
  if (isServerUrl(target)) return withServer(target, field, authToken, (s) => use(s.eventStore));
  if (/^postgres(ql)?:\/\//.test(target)) {
    // The library's `connection` is the argument (or option) that gave the URL.
    const store = await openStore(target, schema, true).catch((error: unknown) => {
      throw inCommandLineTerms(error, new Map([["connection", field]]));
    });
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  }
  const directory = await storeDirectory(target, field, create);
  // A data directory `append` makes is removed again if the append fails (a bad stream name,
  // an expected version not met).
  const { withDataDir } = await import("./new-data-dir.js");
  try {
    return await withDataDir(target, field, () => openStore(directory, schema, false), use);
  } catch (error) {
    throw throughServerHint(
      error,
      `give its URL (e.g. http://localhost:8080) instead of ${target}`,
    );
  }
}

/** Where the embedded store of `target` lives (see withStore). */
async function storeDirectory(target: string, field: string, create: boolean): Promise<string> {
  if (existsSync(target) && !statSync(target).isDirectory())
    throw new SluiceError(
      "SLUICE_VALIDATION",
      `${field}: expected a data directory, got the file ${target}`,
      { field },
    );
  const [{ dataDirLayout, isDataDirectory }, { nodeFileSystem }] = await Promise.all([
    import("../sluice/data-dir-layout.js"),
    import("../engine/file-system.js"),
  ]);
  const exists = existsSync(target);
  if (exists && isDataDirectory(nodeFileSystem, target))
    return dataDirLayout(nodeFileSystem, target).eventstore;
  // A store opened on its own keeps its log at the top.
  if (exists && existsSync(join(target, "log"))) return target;
  if (!create)
    throw new SluiceError(
      "SLUICE_NOT_FOUND",
      exists
        ? `${field}: ${target} holds no event store (neither a data directory nor a store's log)`
        : `${field}: no event store at ${target}`,
      { field },
    );
  return dataDirLayout(nodeFileSystem, target).eventstore;
}

/**
 * Each store is loaded when it is opened, not with the command line: a data directory needs no
 * PostgreSQL client, and `sluice --help` neither store.
 */
async function openStore(target: string, schema: string, postgres: boolean): Promise<EventStore> {
  if (postgres) {
    const { PostgresEventStore } = await import("../backends/postgres/postgres-event-store.js");
    return PostgresEventStore.open({ connection: target, schema, listen: false, poolSize: 2 });
  }
  const { EmbeddedEventStore } = await import("../eventstore/embedded-event-store.js");
  return EmbeddedEventStore.open(target);
}

type AnyAggregate = Aggregate<unknown, unknown>;

/** Why `value` is not an aggregate (initialState and evolve functions), or undefined if it is. */
function notAnAggregate(value: unknown): string | undefined {
  if (value === undefined) return "there is none";
  if ((typeof value !== "object" && typeof value !== "function") || value === null)
    return `it is ${describeValue(value)}`;
  const missing = (["initialState", "evolve"] as const).filter(
    (name) => typeof (value as Partial<AnyAggregate>)[name] !== "function",
  );
  return missing.length === 0
    ? undefined
    : `it has no ${missing.join(" or ")} function${missing.length === 1 ? "" : "s"}`;
}

/** An error of the `--aggregate` module, said as `--aggregate: ...`. */
function aggregateError(
  code: "SLUICE_NOT_FOUND" | "SLUICE_VALIDATION",
  message: string,
  path: string,
  cause?: unknown,
): SluiceError {
  return new SluiceError(code, `--aggregate: ${message}`, {
    field: "--aggregate",
    details: { path },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The first line of what `error` says. */
function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}

const TYPESCRIPT = /\.[cm]?tsx?$/;

/**
 * The exports of the module at `path`: a TypeScript one through tsx when it is installed (a dev
 * checkout), whether or not sluice itself runs under tsx, and as CommonJS or ES module as its
 * package says. A CommonJS module compiled from ES syntax (`__esModule`) has its own exports
 * under `default`: those are its exports, its default export among them.
 */
async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  let namespace: Record<string, unknown> | undefined;
  if (TYPESCRIPT.test(path)) {
    const tsx = await import("tsx/esm/api").catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND") return undefined;
      throw error;
    });
    if (tsx !== undefined)
      namespace = (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  namespace ??= (await import(url)) as Record<string, unknown>;
  const commonJs = namespace.default as { __esModule?: unknown } | null | undefined;
  return typeof commonJs === "object" && commonJs !== null && commonJs.__esModule === true
    ? commonJs
    : namespace;
}

/**
 * The aggregate of `sluice events audit --aggregate <module>`: the module at that path (from the
 * current directory), its default export or the export `exportName` names, an object with
 * `initialState` and `evolve` functions (an `Aggregate`; `decide` is not needed): JavaScript,
 * or TypeScript where tsx is installed (see importModule).
 * What its functions throw is said as `--aggregate: ...`, naming the event, not as a stack trace.
 */
async function loadAggregate(
  module: string,
  exportName: string | undefined,
): Promise<AnyAggregate> {
  const path = resolve(module);
  if (!existsSync(path)) throw aggregateError("SLUICE_NOT_FOUND", `no module at ${path}`, path);
  if (statSync(path).isDirectory())
    throw aggregateError(
      "SLUICE_VALIDATION",
      `expected a module file, got the directory ${path}`,
      path,
    );
  let exports: Record<string, unknown>;
  try {
    exports = await importModule(path);
  } catch (cause) {
    const typescript =
      (cause as NodeJS.ErrnoException).code === "ERR_UNKNOWN_FILE_EXTENSION" &&
      TYPESCRIPT.test(path);
    throw aggregateError(
      "SLUICE_VALIDATION",
      `cannot load ${path}: ${reason(cause)}${typescript ? " (a TypeScript module needs tsx installed beside sluice; or give its compiled .js)" : ""}`,
      path,
      cause,
    );
  }
  const name = exportName ?? "default";
  const candidate = exports[name];
  const why = notAnAggregate(candidate);
  if (why !== undefined) {
    const others = Object.keys(exports).filter(
      (key) => key !== name && key !== "default" && notAnAggregate(exports[key]) === undefined,
    );
    throw aggregateError(
      "SLUICE_VALIDATION",
      `expected an aggregate (initialState and evolve functions) as ${exportName === undefined ? "the default export" : `the export ${JSON.stringify(exportName)}`} of ${path}, but ${why}${others.length === 0 ? "" : `; --aggregate-export ${others.join(" or ")} names one it has`}`,
      path,
    );
  }
  const aggregate = candidate as AnyAggregate;
  const threw = (what: string, cause: unknown): SluiceError =>
    aggregateError("SLUICE_VALIDATION", `${what} of ${path} threw: ${reason(cause)}`, path, cause);
  return {
    initialState() {
      try {
        return aggregate.initialState();
      } catch (cause) {
        throw threw("initialState", cause);
      }
    },
    evolve(state, event) {
      try {
        return aggregate.evolve(state, event);
      } catch (cause) {
        throw threw(`evolve, on ${event.type} at ${event.stream}@${event.version},`, cause);
      }
    },
    decide() {
      throw new Error("an audit only evolves");
    },
    ...(aggregate.stateVersion === undefined ? {} : { stateVersion: aggregate.stateVersion }),
  };
}

function line(event: RecordedEvent): string {
  return `${event.position}\t${new Date(event.timestamp).toISOString()}\t${event.stream}@${event.version}\t${event.type}\t${JSON.stringify(event.data)}\n`;
}

/**
 * `sluice events append|read|streams|audit|projections [TARGET | --data-dir DIR] ...`: the event
 * store from the shell.
 */
export function registerEventCommands(program: Command): void {
  const events = program
    .command("events")
    .description(
      "the event store in a data directory, a postgres:// database, or served by a running `sluice start`",
    )
    .option("--schema <name>", "PostgreSQL schema of the store", "sluice")
    .addOption(authTokenOption("the --auth-token of the server given as the target"));
  const storeOptions = (): StoreOptions => events.opts<StoreOptions>();

  // With --data-dir the arguments shift left: commander cannot tell, so all are optional to it
  // and targetAndArgs names the one missing.
  suppliesFields(events.command("append"), {
    "events[0].type": "type",
    "events[0].data": "data",
    "events[0].metadata": "--metadata",
  })
    .description("append one event to a stream")
    .usage("[options] [target] <stream> <type> [data]")
    .argument("[target]", TARGET)
    .argument("[stream]", "stream name")
    .argument("[type]", "event type")
    .argument("[data]", "event data as JSON (default {})")
    .option("--data-dir <dir>", DATA_DIR)
    .option("--metadata <json>", "metadata as JSON (e.g. who)", json)
    .option("--expected-version <v>", "any, no_stream, stream_exists or a version", "any")
    .action(
      (
        first: string | undefined,
        second: string | undefined,
        third: string | undefined,
        fourth: string | undefined,
        opts: { dataDir?: string; metadata?: JsonValue; expectedVersion: string },
      ) => {
        const [target, [stream, type, text]] = targetAndArgs(
          [first, second, third, fourth],
          opts.dataDir,
          ["stream", "type", "data"],
          2,
        );
        const data = text === undefined ? {} : jsonArgument("data", text);
        return withStore(
          target,
          storeOptions(),
          async (store) => {
            const { checkExpectedVersion } = await import("../eventstore/event-validation.js");
            const raw = opts.expectedVersion;
            const expectedVersion = checkExpectedVersion(/^\d+$/.test(raw) ? Number(raw) : raw);
            const result = await store.appendToStream(
              stream!,
              [
                {
                  type: type!,
                  data,
                  ...(opts.metadata === undefined ? {} : { metadata: opts.metadata as never }),
                },
              ],
              { expectedVersion },
            );
            process.stdout.write(
              `${stream}@${result.nextExpectedVersion} position ${result.position}\n`,
            );
          },
          true,
        );
      },
    );

  suppliesFields(events.command("read"), {
    maxCount: "--max",
    fromVersion: "--from",
    fromPosition: "--from",
  })
    .description("read a stream, or $all when no stream is given")
    .argument("[target]", TARGET)
    .argument("[stream]", "stream name (default $all)")
    .option("--data-dir <dir>", DATA_DIR)
    .option("--from <n>", "first version (stream) or position ($all)", index)
    .option("--max <n>", "at most this many events", index, 100)
    .option("--backward", "newest first", false)
    .option("--json", "one JSON object per line", false)
    .action(
      (
        first: string | undefined,
        second: string | undefined,
        opts: { dataDir?: string; from?: number; max: number; backward: boolean; json: boolean },
      ) => {
        const [target, [stream]] = targetAndArgs([first, second], opts.dataDir, ["stream"], 0);
        return withStore(target, storeOptions(), async (store) => {
          const direction = opts.backward ? "backward" : "forward";
          const page =
            stream === undefined
              ? await store.readAll({
                  direction,
                  maxCount: opts.max,
                  ...(opts.from === undefined ? {} : { fromPosition: opts.from }),
                })
              : await store.readStream(stream, {
                  direction,
                  maxCount: opts.max,
                  ...(opts.from === undefined ? {} : { fromVersion: opts.from }),
                });
          for (const event of page.events)
            process.stdout.write(opts.json ? `${JSON.stringify(event)}\n` : line(event));
        });
      },
    );

  events
    .command("streams")
    .description("every stream with its version and delete state")
    .argument("[target]", TARGET)
    .option("--data-dir <dir>", DATA_DIR)
    .option("--system", "include system streams ($...)", false)
    .action((target: string | undefined, opts: { dataDir?: string; system: boolean }) =>
      withStore(storeOf(target, opts.dataDir), storeOptions(), async (store) => {
        process.stdout.write("stream\tversion\tdeleted\n");
        for (const s of await store.listStreams({ includeSystem: opts.system }))
          process.stdout.write(`${s.stream}\t${s.version}\t${s.deleted}\n`);
      }),
    );

  events
    .command("audit")
    .description(
      "who did what, when: for a stream, a type or a time range; with --aggregate, the state before and after each event",
    )
    .argument("[target]", TARGET)
    .option("--data-dir <dir>", DATA_DIR)
    .option("--stream <name>")
    .option("--type <type>")
    .option("--from <time>", "ISO date or ms", time)
    .option("--to <time>", "ISO date or ms", time)
    .option("--format <f>", "json, csv or markdown", format, "markdown")
    .option(
      "--aggregate <module>",
      "module file, from the current directory (.js, .mjs, .cjs; .ts where tsx is installed), exporting an aggregate (initialState and evolve functions): shows each event's stream state before and after it, the before and after columns, which are left out without it",
    )
    .option(
      "--aggregate-export <name>",
      "the named export of --aggregate's module that is the aggregate (default: its default export)",
    )
    .action(
      async (
        target: string | undefined,
        opts: {
          dataDir?: string;
          stream?: string;
          type?: string;
          from?: number;
          to?: number;
          format: AuditFormat;
          aggregate?: string;
          aggregateExport?: string;
        },
      ) => {
        const where = storeOf(target, opts.dataDir);
        if (opts.aggregateExport !== undefined && opts.aggregate === undefined)
          throw new InvalidArgumentError(
            "--aggregate-export names an export of --aggregate <module>: give both",
          );
        // Loaded before the store opens: a wrong module fails without taking the store's lock.
        const aggregate =
          opts.aggregate === undefined
            ? undefined
            : await loadAggregate(opts.aggregate, opts.aggregateExport);
        return withStore(where, storeOptions(), async (store) => {
          const { auditTrail, formatAudit } = await import("../eventstore/audit.js");
          const entries = await auditTrail(store, {
            ...(opts.stream === undefined ? {} : { stream: opts.stream }),
            ...(opts.type === undefined ? {} : { type: opts.type }),
            ...(opts.from === undefined ? {} : { fromTime: opts.from }),
            ...(opts.to === undefined ? {} : { toTime: opts.to }),
            ...(aggregate === undefined ? {} : { aggregate }),
          });
          process.stdout.write(formatAudit(entries, opts.format));
        });
      },
    );

  events
    .command("projections")
    .description(
      "projections that saved snapshots: their newest checkpoint and lag behind the head",
    )
    .argument("[target]", TARGET)
    .option("--data-dir <dir>", DATA_DIR)
    .action((target: string | undefined, opts: { dataDir?: string }) =>
      withStore(storeOf(target, opts.dataDir), storeOptions(), async (store) => {
        const head = await store.headPosition();
        process.stdout.write("projection\tsnapshot checkpoint\tlag (events)\n");
        for (const s of await store.listStreams({ includeSystem: true })) {
          if (!s.stream.startsWith("$projection-")) continue;
          const last = (await store.readStream(s.stream, { direction: "backward", maxCount: 1 }))
            .events[0];
          const position = (last?.data as { position?: number } | undefined)?.position ?? -1;
          process.stdout.write(
            `${s.stream.slice("$projection-".length)}\t${position}\t${head - position}\n`,
          );
        }
      }),
    );
}
