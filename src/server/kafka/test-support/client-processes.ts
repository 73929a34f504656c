// Processes for the tests with real clients: `sluice start` as a user starts it, one-shot
// client steps that print one JSON line, and long-running clients that print JSON lines.
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { cliMain } from "../../../cli/test-support/cli-build.js";

/** Debian's interpreter, whose python3-kafka and python3-confluent-kafka the tests drive. */
export const PYTHON = "/usr/bin/python3";
export const KCAT = "/usr/bin/kcat";

export function clientScript(name: string): string {
  return fileURLToPath(new URL(`./clients/${name}`, import.meta.url));
}

/** Whether `python3 -c "import <modules>"` works, i.e. the Debian packages are installed. */
export function pythonHas(modules: string): boolean {
  return (
    existsSync(PYTHON) &&
    spawnSync(PYTHON, ["-c", `import ${modules}`], { stdio: "ignore" }).status === 0
  );
}

export const hasKcat = existsSync(KCAT);

/** `sluice start` (or `sluice kafka start`) in its own process, serving Kafka on a free port. */
export class SluiceKafkaProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly output: () => string,
  ) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `sluice start --data-dir DIR --kafka-port 0 [args]`: the server as users start it. */
  static async serve(dir: string, args: readonly string[] = []): Promise<SluiceKafkaProcess> {
    return SluiceKafkaProcess.spawn(
      ["start", "--data-dir", dir, "--port", "0", "--kafka-port", "0", ...args],
      /Kafka protocol on [^:]+:(\d+)/,
    );
  }

  /** `sluice kafka start DIR --port 0 [args]`: the Kafka listener alone. */
  static start(dir: string, args: readonly string[] = []): Promise<SluiceKafkaProcess> {
    return SluiceKafkaProcess.spawn(
      ["kafka", "start", dir, "--port", "0", ...args],
      /listening on [^:]+:(\d+)/,
    );
  }

  private static spawn(args: readonly string[], portLine: RegExp): Promise<SluiceKafkaProcess> {
    const child = spawn(process.execPath, [cliMain(), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const collect = (chunk: Buffer): void => void (out += chunk.toString());
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    return new Promise((resolve, reject) => {
      const onData = (): void => {
        const match = portLine.exec(out);
        if (match === null) return;
        child.stdout.off("data", onData);
        child.off("exit", onExit);
        resolve(new SluiceKafkaProcess(child, Number(match[1]), () => out));
      };
      const onExit = (code: number | null): void =>
        reject(new Error(`sluice ${args.join(" ")} exited with ${code}: ${out}`));
      child.stdout.on("data", onData);
      child.once("exit", onExit);
    });
  }

  /** SIGTERM, as a user stopping it; resolves with the exit code. */
  stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once("exit", (code) => resolve(code));
      this.child.kill("SIGTERM");
    });
  }
}

/** Runs a command to its end; resolves with its last stdout line parsed as JSON. */
export function runJson<T>(
  command: string,
  args: readonly string[],
  timeoutMs = 60_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  return new Promise((resolve, reject) =>
    execFile(
      command,
      args,
      { encoding: "utf8", timeout: timeoutMs, env },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
          return;
        }
        const lines = stdout.trim().split("\n");
        try {
          resolve(JSON.parse(lines[lines.length - 1]!) as T);
        } catch {
          reject(new Error(`${command} ${args.join(" ")} printed no JSON: ${stdout}\n${stderr}`));
        }
      },
    ),
  );
}

/** Runs a command to its end; resolves with stdout and stderr, rejects on a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { encoding: "utf8", timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error === null
          ? resolve({ stdout, stderr })
          : reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stderr}`)),
    );
    // A client that exits without reading its input (kcat -C, -L) closes the pipe: the error
    // that writing then raises is the client's business, reported through its exit.
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(input ?? "");
  });
}

/** A long-running client printing lines; the test waits for lines and writes commands. */
export class LineProcess {
  /** Lines of stdout, and of stderr, so far. */
  readonly lines: string[] = [];
  readonly errorLines: string[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(command: string, args: readonly string[]) {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.on("error", () => undefined); // a command sent after the exit: see `exited`
    this.child = child;
    const collect = (into: string[]) => (line: string) => {
      into.push(line);
      for (const wake of this.waiters) wake();
    };
    createInterface({ input: child.stdout }).on("line", collect(this.lines));
    createInterface({ input: child.stderr }).on("line", collect(this.errorLines));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    void this.exited.then(() => {
      for (const wake of this.waiters) wake();
    });
  }

  /** The JSON lines of stdout so far. */
  json<T>(): T[] {
    return this.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as T);
  }

  /** Resolves once `done` holds over the lines so far; rejects after `timeoutMs` or an exit. */
  async waitFor(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (!done()) {
      if (exited) throw new Error(`${what}: the client exited first\n${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: not within ${timeoutMs} ms\n${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, Math.min(left, 1000));
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(wake);
      }).finally(() => this.waiters.clear());
    }
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Sends a signal (SIGTERM: the client shuts down as a user stopping it) and waits for the exit. */
  async signal(name: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(name);
    return this.exited;
  }

  /** Ends the process (if still running) and waits for it. */
  async stop(): Promise<void> {
    await this.signal("SIGKILL");
  }

  private describe(): string {
    return `stdout:\n${this.lines.slice(-30).join("\n")}\nstderr:\n${this.errorLines.slice(-30).join("\n")}`;
  }
}
