import { Command } from "commander";
import { SluiceError } from "../errors/index.js";

/**
 * Library fields that a command's arguments supply, or its options under another name, by
 * command (see `suppliesFields`).
 */
const declared = new WeakMap<Command, ReadonlyMap<string, string>>();

/**
 * Declares the library fields `command` fills from its arguments, or from options of another
 * name: `{ name: "topic", "events[0].metadata": "--metadata" }`. An option whose value reaches
 * the library under its own name (`--retention-bytes` as `retentionBytes`) needs no entry.
 */
export function suppliesFields<C extends Command>(
  command: C,
  fields: Readonly<Record<string, string>>,
): C {
  declared.set(command, new Map(Object.entries(fields)));
  return command;
}

/**
 * The command-line name of each library field `command` supplies: its options' and its parent
 * commands' (`retentionBytes` is `--retention-bytes`), then what it declared.
 */
export function commandLineNames(command: Command): Map<string, string> {
  const names = new Map<string, string>();
  for (let c: Command | null = command; c !== null; c = c.parent)
    for (const option of c.options)
      if (option.long !== undefined && !option.negate && !names.has(option.attributeName()))
        names.set(option.attributeName(), option.long);
  for (const [field, name] of declared.get(command) ?? []) names.set(field, name);
  return names;
}

/**
 * `error` said in the command line's words: a SluiceError whose field `names` knows names the
 * option or argument instead, in its field and at the head of its message; its code (and so the
 * exit code) stays. Anything else is returned as it is.
 */
export function inCommandLineTerms(error: unknown, names: ReadonlyMap<string, string>): unknown {
  if (!(error instanceof SluiceError) || error.field === undefined) return error;
  const name = names.get(error.field);
  if (name === undefined || name === error.field) return error;
  const head = `${error.field}: `;
  const message = error.message.startsWith(head)
    ? `${name}: ${error.message.slice(head.length)}`
    : error.message;
  return new SluiceError(error.code, message, {
    field: name,
    cause: error,
    ...(error.details === undefined ? {} : { details: error.details }),
  });
}

/**
 * A command whose actions fail in the command line's words (see `inCommandLineTerms`), as do
 * the sub-commands it creates: `sluice topics create --retention-bytes -5` says
 * `--retention-bytes: ...`, not the library's `retentionBytes: ...`.
 */
export class SluiceCommand extends Command {
  override createCommand(name?: string): Command {
    return new SluiceCommand(name);
  }

  override action(fn: Parameters<Command["action"]>[0]): this {
    return super.action(async function (this: Command, ...args: unknown[]) {
      try {
        await fn.apply(this, args);
      } catch (error) {
        throw inCommandLineTerms(error, commandLineNames(this));
      }
    });
  }
}
