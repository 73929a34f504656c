import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { SluiceError, invalid } from "../errors/index.js";
import {
  SluiceCommand,
  commandLineNames,
  inCommandLineTerms,
  suppliesFields,
} from "./command-line-fields.js";

/** `sluice topics create`'s shape: a parent option, options, an argument the library calls `name`. */
function program(fail: () => never): SluiceCommand {
  const root = new SluiceCommand("sluice").exitOverride();
  const topics = root.command("topics").option("--schema <name>", "a parent's option");
  suppliesFields(topics.command("create"), { name: "topic", "events[0].metadata": "--metadata" })
    .argument("<topic>")
    .option("--retention-bytes <n>")
    .option("--no-kafka")
    .action(fail);
  return root;
}

const failure = async (error: unknown, ...args: string[]): Promise<unknown> =>
  program(() => {
    throw error;
  })
    .parseAsync(["node", "sluice", "topics", "create", "t", ...args])
    .then(
      () => undefined,
      (e: unknown) => e,
    );

describe("errors in the command line's words", () => {
  it("names the option whose value the library got under its own name, keeping the code", async () => {
    const said = await failure(invalid("retentionBytes", "an integer >= 0", -5));
    expect(said).toBeInstanceOf(SluiceError);
    expect(said).toMatchObject({
      code: "SLUICE_VALIDATION",
      field: "--retention-bytes",
      message: "--retention-bytes: expected an integer >= 0, got -5",
    });
    expect((said as Error).cause).toMatchObject({ field: "retentionBytes" });
  });

  it("names an argument or an option the command declared for a library field, and a parent's option", async () => {
    const details = { topic: "a/b" };
    expect(
      await failure(
        new SluiceError("SLUICE_NOT_FOUND", 'name: no topic "x"', { field: "name", details }),
      ),
    ).toMatchObject({
      code: "SLUICE_NOT_FOUND",
      field: "topic",
      message: 'topic: no topic "x"',
      details,
    });
    expect(await failure(invalid("events[0].metadata", "a plain JSON object"))).toMatchObject({
      message: "--metadata: expected a plain JSON object",
    });
    expect(await failure(invalid("schema", "a schema name"))).toMatchObject({
      message: "--schema: expected a schema name",
    });
  });

  it("leaves other errors as they are: unknown fields, no field, negated options, non-Sluice errors", async () => {
    for (const error of [
      invalid("elsewhere", "x"),
      new SluiceError("SLUICE_IO", "disk full"),
      invalid("kafka", "x"),
      new Error("plain"),
      new CommanderError(1, "c", "usage"),
    ])
      expect(await failure(error)).toBe(error);
  });

  it("renames the field but keeps a message that does not start with it", () => {
    const error = new SluiceError("SLUICE_IO", "cannot connect", { field: "connection" });
    expect(inCommandLineTerms(error, new Map([["connection", "target"]]))).toMatchObject({
      field: "target",
      message: "cannot connect",
    });
  });

  it("lists the names of a command's fields", () => {
    const create = program(() => {
      throw new Error();
    }).commands[0]!.commands[0]!;
    expect(Object.fromEntries(commandLineNames(create))).toEqual({
      retentionBytes: "--retention-bytes",
      schema: "--schema",
      name: "topic",
      "events[0].metadata": "--metadata",
    });
  });
});
