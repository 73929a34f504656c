import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliMain } from "./cli/test-support/cli-build.js";
import { freePort } from "./net/free-port.js";
import {
  PYTHON,
  type ScriptResult,
  hasBoto3,
  requireBoto3InCi,
  runWithoutAwsConfig,
} from "./server/test-support/boto3.js";

// The README's examples, run as a user runs them: each snippet a fresh script in a process of
// its own, the shell lines through the shell, against `sluice start` in a process of its own.
// The one change is where things are: the package's name resolves to this build of the sources,
// and the server's port is a free one instead of 8080.

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const main = cliMain();
/** tsx's loader by its path: the snippets run with another working directory. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const packageEntry = pathToFileURL(join(dirname(dirname(main)), "index.js")).href;
const root = mkdtempSync(join(tmpdir(), "sluice-readme-"));
/** Where the snippets are written: inside the package, so they resolve its dependencies. */
const scripts = join(
  fileURLToPath(new URL("../node_modules/.cache/", import.meta.url)),
  "sluice-readme",
);
mkdirSync(scripts, { recursive: true });
const scriptDir = mkdtempSync(join(scripts, "run-"));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(scriptDir, { recursive: true, force: true });
});

/** The README's fenced code blocks of one language, in order. */
function blocks(language: string): string[] {
  return [...readme.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)]
    .filter((m) => m[1] === language)
    .map((m) => m[2]!);
}

/** The section of the README under a `## heading`, up to the next one. */
function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`the README has no section "${heading}"`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Runs a TypeScript snippet as a module of its own in `cwd`, "sluice" being this build. */
function runSnippet(code: string, cwd: string, name: string): Promise<ScriptResult> {
  const file = join(scriptDir, `${name}.mts`);
  writeFileSync(file, code.replaceAll(/from "sluice"/g, `from ${JSON.stringify(packageEntry)}`));
  return runWithoutAwsConfig(process.execPath, ["--import", tsx, file], cwd);
}

describe("the README's library examples", () => {
  const library = blocks("ts").filter(
    (code) => code.includes('from "sluice"') && !code.includes("localhost"),
  );

  it("are there", () => {
    expect(library.length).toBeGreaterThanOrEqual(2);
    expect(section("Library")).toContain(library[0]!);
  });

  it.each(library.map((code, i) => [i, code] as const))(
    "example %i runs in a fresh process and exits 0",
    async (i, code) => {
      const cwd = mkdtempSync(join(root, "library-"));
      const result = await runSnippet(code, cwd, `library-${i}`);
      expect(result.output).not.toMatch(/Error/);
      expect(result.status).toBe(0);
    },
  );
});

describe("the README's server examples", () => {
  const server = section("Server");
  const shell = blocks("sh").find((code) => server.includes(code) && code.includes("npm start"));
  const clients = blocks("ts").filter((code) => server.includes(code));
  const python = blocks("python").find((code) => server.includes(code));
  let child: ChildProcess;
  let port: number;
  let output = "";
  /** The README's text with its server at this test's port. */
  const here = (text: string): string => text.replaceAll("localhost:8080", `localhost:${port}`);

  beforeAll(async () => {
    port = await freePort();
    child = spawn(
      process.execPath,
      [
        main,
        "start",
        "--data-dir",
        join(root, "data"),
        "--port",
        String(port),
        "--kafka-port",
        "0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!output.includes("Sluice listening on")) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`sluice start did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  });

  it("are there: the shell lines, the remote client and the SDK, boto3", () => {
    expect(shell).toBeDefined();
    expect(clients.length).toBe(2);
    expect(python).toBeDefined();
  });

  // In the README's order: the shell lines make the queue the later examples use.
  it("curl: every line is answered 2xx with JSON", async () => {
    const lines = shell!
      .replaceAll("\\\n", " ")
      .split("\n")
      .map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => line.startsWith("curl "));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) {
      const command = here(line).replace(/^curl /, "curl -sS --fail-with-body ");
      const result = await runWithoutAwsConfig("bash", ["-c", command], root);
      expect(result.status, `${line}\n${result.output}`).toBe(0);
      expect(() => JSON.parse(result.output) as unknown, line).not.toThrow();
    }
  });

  it("connect(): the library's interfaces over HTTP, in a fresh process", async () => {
    const result = await runSnippet(here(clients[0]!), root, "remote-client");
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("the AWS SDK receives a message of the queue the examples made", async () => {
    const code = `${here(clients[1]!)}\nconsole.log(JSON.stringify(Messages?.map((m) => m.Body)));\n`;
    const result = await runSnippet(code, root, "aws-sdk");
    expect(result.status, result.output).toBe(0);
    expect(result.stdout.trim(), result.output).toBe(JSON.stringify(["hello"]));
  });

  requireBoto3InCi();
  it.skipIf(!hasBoto3)("boto3 sends to the queue (Debian's python3-boto3)", async () => {
    const script = join(root, "boto3-example.py");
    writeFileSync(script, here(python!));
    const result = await runWithoutAwsConfig(PYTHON, [script], root);
    expect(result.status, result.output).toBe(0);
    const received = await fetch(`http://localhost:${port}/queues/jobs/receive`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ MaxNumberOfMessages: 10 }),
    });
    const { Messages } = (await received.json()) as { Messages: { Body: string }[] };
    expect(Messages.map((m) => m.Body)).toContain("hello from boto3");
  });
});
