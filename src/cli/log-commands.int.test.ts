import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { openLog } from "../engine/index.js";
import { cliMain } from "./test-support/cli-build.js";
import { type CliOutcome, runCli } from "./test-support/run-cli.js";

const run = promisify(execFile);
const main = cliMain();
const root = mkdtempSync(join(tmpdir(), "sluice-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sluice = (...args: string[]): Promise<CliOutcome> => runCli(args);

/** Runs `sluice ARGS | head -1` in a shell; returns what head printed, and sluice's exit status and stderr. */
async function sluiceIntoHead(
  ...args: string[]
): Promise<{ head: string; code: number; stderr: string }> {
  const work = mkdtempSync(join(root, "pipe-"));
  const quoted = [process.execPath, main, ...args].map((a) => `'${a}'`).join(" ");
  const script = `{ ${quoted} 2>'${work}/stderr'; echo $? >'${work}/status'; } | head -1`;
  const { stdout } = await run("sh", ["-c", script]);
  return {
    head: stdout,
    code: Number(readFileSync(join(work, "status"), "utf8")),
    stderr: readFileSync(join(work, "stderr"), "utf8"),
  };
}

/** A log of `count` records in a new directory. */
async function makeLog(name: string, count: number): Promise<string> {
  const dir = join(root, name);
  const log = await openLog(dir, { fsync: "never" });
  for (let i = 0; i < count; i += 100)
    await log.append(
      Array.from({ length: Math.min(100, count - i) }, (_, j) => ({
        key: Buffer.from(`key-${i + j}`),
        value: Buffer.from(`value-${i + j}`),
      })),
    );
  await log.close();
  return dir;
}

describe("sluice log CLI", () => {
  it("dumps, verifies, finds damage and repairs it", async () => {
    const dir = join(root, "log");
    const log = await openLog(dir);
    for (let i = 0; i < 10; i++)
      await log.append([{ key: Buffer.from(`key-${i}`), value: Buffer.from(`value-${i}`) }]);
    await log.close();

    const dump = await sluice("log", "dump", dir, "--print-data");
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain("baseOffset: 0 lastOffset: 0 count: 1");
    expect(dump.stdout).toContain("| offset: 9 ");
    expect(dump.stdout).toContain("key: key-9 payload: value-9");

    const healthy = await sluice("log", "verify", dir);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toContain("10 records, 0 damaged");

    const file = join(dir, "00000000000000000000.log");
    const bytes = readFileSync(file);
    bytes[bytes.length - 100]! ^= 0x55;
    writeFileSync(file, bytes);
    const damaged = await sluice("log", "verify", dir);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toContain("DAMAGED");
    const damagedDump = await sluice("log", "dump", dir);
    expect(damagedDump.stdout).toContain("CORRUPT");
    expect(damagedDump.code).toBe(1);

    const repaired = await sluice("log", "repair", dir);
    expect(repaired.stdout).toMatch(/repaired 1 segments/);
    expect((await sluice("log", "verify", dir)).code).toBe(0);
    const reopened = await openLog(dir);
    expect(reopened.read(0).length).toBe(9);
    await reopened.close();
  });

  it("refuses a path that is not a log directory, naming the argument and saying what it is, with exit code 2", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "not a log");
    const empty = join(root, "empty");
    mkdirSync(empty);
    const unrelated = join(root, "unrelated");
    mkdirSync(unrelated);
    writeFileSync(join(unrelated, "notes.txt"), "hello");
    const missing = join(root, "missing");
    const noSegments = (dir: string): string =>
      `sluice: SLUICE_NOT_FOUND: dir: ${dir} holds no log segments (no <20-digit base offset>.log files): not a log directory?\n`;
    const expected: [string, string][] = [
      [missing, `sluice: SLUICE_NOT_FOUND: dir: log directory ${missing} does not exist\n`],
      [file, `sluice: SLUICE_VALIDATION: dir: ${file} is not a directory\n`],
      [empty, noSegments(empty)],
      [unrelated, noSegments(unrelated)],
    ];
    // Every kind of path through verify; dump and repair share the check, so two kinds each.
    const cases: [string, string, string][] = [
      ...expected.map(([path, message]): [string, string, string] => ["verify", path, message]),
      ["dump", file, expected[1]![1]],
      ["dump", empty, expected[2]![1]],
      ["repair", missing, expected[0]![1]],
      ["repair", empty, expected[2]![1]],
    ];
    const results = await Promise.all(
      cases.map(async ([command, path]) => ({
        command,
        path,
        ...(await sluice("log", command, path)),
      })),
    );
    expect(results).toEqual(
      cases.map(([command, path, message]) => ({
        command,
        path,
        stdout: "",
        stderr: message,
        code: 2,
      })),
    );
    // Nothing was created: no lock in a directory that is not a log, no directory for a typo.
    expect(readdirSync(empty)).toEqual([]);
    expect(existsSync(missing)).toBe(false);
  });

  it("exits 2 on bad usage, 0 for help", async () => {
    const noDir = await sluice("log", "verify");
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain("missing required argument 'dir'");
    const badOption = await sluice("log", "dump", "--bogus", root);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain("unknown option '--bogus'");
    const help = await sluice("log", "verify", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: sluice log verify");
  });

  it("exits 3 when repair finds the log open by a live writer, naming it", async () => {
    const dir = await makeLog("held", 10);
    const writer = await openLog(dir);
    try {
      const refused = await sluice("log", "repair", dir);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toBe(
        `sluice: SLUICE_LOCKED: log ${dir} is already open for writing by process ${process.pid}\n`,
      );
    } finally {
      await writer.close();
    }
  });

  it("exits 4 when the files cannot be read", async () => {
    const dir = join(root, "unreadable");
    mkdirSync(join(dir, "00000000000000000000.log"), { recursive: true }); // a segment that is a directory
    const result = await sluice("log", "verify", dir);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^sluice: SLUICE_IO: /);
  });

  it("stops quietly when the reader of its output goes away (| head -1)", async () => {
    const dir = await makeLog("piped", 3000); // its dump is far more than a pipe holds
    const dump = await sluiceIntoHead("log", "dump", dir, "--print-data");
    expect(dump).toEqual({
      head: `Dumping ${join(dir, "00000000000000000000.log")}\n`,
      code: 0,
      stderr: "",
    });
    // Two runs: head has long gone when the second run starts writing.
    const bench = await sluiceIntoHead("bench", "log", "--num-records", "2000", "--runs", "2");
    expect(bench).toEqual({ head: "run 1/2\n", code: 0, stderr: "" });
  });

  it("bench log prints the producer line and valid JSON", async () => {
    const { stdout } = await sluice(
      "bench",
      "log",
      "--num-records",
      "2000",
      "--batch-size",
      "100",
      "--json",
    );
    const result = JSON.parse(stdout) as {
      produce: { records: number };
      consume: { records: number };
    };
    expect(result.produce.records).toBe(2000);
    expect(result.consume.records).toBe(2000);
    const human = await sluice("bench", "log", "--num-records", "2000", "--no-read");
    expect(human.stdout).toMatch(/^2000 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\)/);
  });
});
