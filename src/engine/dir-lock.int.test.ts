import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { openLog } from "./log.js";

const holderScript = fileURLToPath(new URL("./test-support/lock-holder.ts", import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts a process that opens the log in `dir` and holds it; resolves once it has it open. */
async function startHolder(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", holderScript, dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`lock holder exited early with ${code}: ${err}`));
    child.once("exit", onExit);
    child.stdout.on("data", () => {
      if (!out.includes("\n")) return;
      child.off("exit", onExit);
      resolve();
    });
  });
  expect(out.trim()).toBe(`open ${child.pid}`);
  return child;
}

describe("the log lock across processes", () => {
  it("refuses a log another live process holds, naming its pid, and takes it over once that process is killed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-lock-"));
    dirs.push(dir);
    const child = await startHolder(dir);
    const pid = child.pid!;
    expect(pid).not.toBe(process.pid);
    expect(readFileSync(join(dir, ".lock"), "utf8")).toBe(String(pid));

    const refused = await openLog(dir, { maintenanceIntervalMs: 0 }).catch((e: unknown) => e);
    if (!isSluiceError(refused)) await (refused as { close(): Promise<void> }).close?.();
    expect(isSluiceError(refused, "SLUICE_LOCKED"), `got ${String(refused)}`).toBe(true);
    expect((refused as Error).message).toContain(`process ${pid}`);
    expect((refused as { details: { pid: number } }).details.pid).toBe(pid);
    expect(readFileSync(join(dir, ".lock"), "utf8")).toBe(String(pid)); // left alone

    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    // A killed process cannot clean up: its pid is still in the lock file, now stale.
    expect(readFileSync(join(dir, ".lock"), "utf8")).toBe(String(pid));

    const log = await openLog(dir, { maintenanceIntervalMs: 0 });
    try {
      expect(readFileSync(join(dir, ".lock"), "utf8")).toBe(String(process.pid));
      expect(log.read(0).map((r) => r.value?.toString())).toEqual([`held by ${pid}`]);
      await log.append([{ value: Buffer.from("after takeover") }]);
      expect(log.logEndOffset).toBe(2);
    } finally {
      await log.close();
    }
  });
});
