import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";

/**
 * A TypeScript worker process started ahead of its turn, for crash tests. Loading its modules
 * through tsx is the slow part of its start-up (a second or more on a loaded 2-core machine), so
 * a test spawns the next round's worker while the current one runs and is checked; the worker
 * writes "ready" once loaded and touches nothing until `start` tells it to go (`waitForGo`).
 */
export class WarmWorker {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything the worker wrote to stdout so far. */
  output = "";
  /** Everything the worker wrote to stderr so far. */
  errors = "";
  /** When stdout last received something (Date.now()). */
  lastOutputAt = Date.now();
  /** Resolves on "close": then every byte the worker wrote has been read. */
  readonly closed: Promise<void>;
  private ended = false;

  constructor(script: string, args: readonly string[]) {
    this.child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
      this.lastOutputAt = Date.now();
    });
    this.child.stderr.on("data", (chunk: Buffer) => (this.errors += chunk.toString()));
    this.closed = new Promise((resolve) =>
      this.child.once("close", () => {
        this.ended = true;
        resolve();
      }),
    );
  }

  /** Whether the process has ended and its output has been read. */
  get hasEnded(): boolean {
    return this.ended;
  }

  /** Waits until the worker has loaded, then tells it to go. Rejects if it ends first. */
  async start(): Promise<void> {
    await this.waitFor(() => this.output.startsWith("ready\n"), "before it was ready");
    this.child.stdin.write("go\n");
  }

  /** Polls until `done` holds; rejects, naming `what`, if the worker ends first. */
  async waitFor(done: () => boolean, what: string): Promise<void> {
    while (!done()) {
      if (this.ended)
        throw new Error(`worker exited ${what} (exit ${this.child.exitCode}): ${this.errors}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** SIGKILLs the worker and waits until its output has been read. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.closed;
  }
}

/** In the worker, after its imports: says it is loaded and waits for the test's go. */
export async function waitForGo(): Promise<void> {
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
}
