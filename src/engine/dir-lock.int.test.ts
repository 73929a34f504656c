import { type ChildProcess, spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { openLog } from "./log.js";

const holderScript = fileURLToPath(new URL("./test-support/lock-holder.ts", import.meta.url));
const racerScript = fileURLToPath(new URL("./test-support/lock-racer.ts", import.meta.url));
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

/** A pid that no process has any more: a child that has already exited. */
function deadPid(): number {
  const pid = Number(
    execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]),
  );
  expect(() => process.kill(pid, 0)).toThrow();
  return pid;
}

interface Racer {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly next: () => Promise<string>;
}

/** Starts a racer (test-support/lock-racer.ts) and reads its output line by line. */
function startRacer(lockDirs: string[]): Racer {
  const child = spawn(process.execPath, ["--import", "tsx", racerScript, ...lockDirs], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.push(child);
  const lines: string[] = [];
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let buffered = "";
  let err = "";
  let exited: Error | undefined;
  // One listener for the racer's life, not one per line awaited.
  child.once("exit", (code) => {
    exited = new Error(`racer exited with ${code}: ${err}`);
    for (const waiter of waiting.splice(0)) waiter.reject(exited);
  });
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const waiter = waiting.shift();
      if (waiter) waiter.resolve(line);
      else lines.push(line);
    }
  });
  const next = (): Promise<string> => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (exited !== undefined) return Promise.reject(exited);
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  return { child, lines, next };
}

describe("racing for a stale lock", () => {
  it("lets exactly one of 8 processes take over a lock left by a dead process; the others are told who won", async () => {
    // Several rounds, each on its own directory: the race window is narrow, so give it chances.
    const rounds = 12;
    const lockDirs = Array.from({ length: rounds }, () =>
      mkdtempSync(join(tmpdir(), "sluice-lock-race-")),
    );
    dirs.push(...lockDirs);
    const dead = deadPid();
    for (const dir of lockDirs) writeFileSync(join(dir, ".lock"), String(dead));

    const racers = Array.from({ length: 8 }, () => startRacer(lockDirs));
    for (const r of racers) expect(await r.next()).toBe("ready");
    const startAt = Date.now() + 200;
    for (const r of racers) r.child.stdin!.write(`go ${startAt} 40\n`);
    const outputs = await Promise.all(
      racers.map(async (r) => {
        const lines: string[] = [];
        for (let line = await r.next(); line !== "done"; line = await r.next()) lines.push(line);
        return lines;
      }),
    );

    for (const [round, dir] of lockDirs.entries()) {
      const results = outputs.map((lines) => lines.find((l) => l.startsWith(`${round} `)) ?? "");
      const winners = results.filter((line) => line.startsWith(`${round} won `));
      expect(winners, `round ${round}:\n${results.join("\n")}`).toHaveLength(1);
      const winner = Number(winners[0]!.split(" ")[2]);
      for (const line of results.filter((l) => !l.startsWith(`${round} won `)))
        expect(line).toBe(
          `${round} locked ${winner} log ${dir} is already open for writing by process ${winner}`,
        );
      expect(readFileSync(join(dir, ".lock"), "utf8")).toBe(String(winner));
    }

    await Promise.all(
      racers.map(async (r) => {
        const exited = new Promise((resolve) => r.child.once("exit", resolve));
        r.child.stdin!.end();
        if (r.child.exitCode === null) await exited;
      }),
    );
    // The winners released their locks; no temporary or takeover file is left behind.
    for (const dir of lockDirs)
      expect(readdirSync(dir).filter((name) => name.startsWith(".lock"))).toEqual([]);
  });
});
