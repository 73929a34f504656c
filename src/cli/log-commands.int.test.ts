import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { openLog } from "../engine/index.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("./main.ts", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "sluice-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function sluice(...args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", main, ...args]);
    return { stdout, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; code: number };
    return { stdout: e.stdout, code: e.code };
  }
}

describe("sluice log CLI", () => {
  it("dumps, verifies, finds damage and repairs it", async () => {
    const dir = join(root, "log");
    const log = await openLog(dir);
    for (let i = 0; i < 10; i++)
      await log.append([{ key: Buffer.from(`key-${i}`), value: Buffer.from(`value-${i}`) }]);
    await log.close();

    const dump = await sluice("log", "dump", dir, "--print-data");
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

    const repaired = await sluice("log", "repair", dir);
    expect(repaired.stdout).toMatch(/repaired 1 segments/);
    expect((await sluice("log", "verify", dir)).code).toBe(0);
    const reopened = await openLog(dir);
    expect(reopened.read(0).length).toBe(9);
    await reopened.close();
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
