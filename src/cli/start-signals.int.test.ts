import { spawn } from "node:child_process";
import { type ClientRequest, request } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListTopicsCommand, SNSClient } from "@aws-sdk/client-sns";
import { afterAll, describe, expect, it } from "vitest";
import { cliMain } from "./test-support/cli-build.js";
import { type StartedServer, startServer } from "./test-support/started-server.js";

const main = cliMain();
const root = mkdtempSync(join(tmpdir(), "sluice-signals-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `sluice start` with `extra` arguments and resolves once it printed its banner. */
const start = (dataDir: string, extra: readonly string[] = []): Promise<StartedServer> =>
  startServer(
    [process.execPath, main, "start"],
    ["--data-dir", dataDir, "--kafka-port", "0", ...extra],
  );

const post = async (url: string, body: unknown): Promise<unknown> =>
  (
    await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    })
  ).json();

/** A POST whose body is sent in two parts: the request is in flight between them. */
function slowPost(
  port: number,
  path: string,
  firstPart: string,
): { request: ClientRequest; answer: Promise<{ status: number; body: string }> } {
  const req = request({
    host: "127.0.0.1",
    port,
    path,
    method: "POST",
    headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once("response", (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.once("error", reject);
  });
  req.write(firstPart);
  return { request: req, answer };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("sluice start: signals", () => {
  it("SIGTERM lets a request in flight finish (its message is kept), then exits 0", async () => {
    const dataDir = join(root, "in-flight");
    const first = await start(dataDir);
    await post(`${first.url}/queues`, { QueueName: "jobs" });
    const { request: req, answer } = slowPost(
      first.port,
      "/queues/jobs/messages",
      '{"MessageBody":',
    );
    await settle(300);
    first.child.kill("SIGTERM");
    await settle(300);
    expect(first.child.exitCode).toBeNull(); // still finishing the request
    req.end('"sent during shutdown"}');
    const answered = await answer;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ MessageId: expect.any(String) as string });
    expect(await first.exit).toBe(0);

    const second = await start(dataDir);
    const received = (await post(`${second.url}/queues/jobs/receive`, {})) as {
      Messages: { Body: string }[];
    };
    expect(received.Messages.map((m) => m.Body)).toEqual(["sent during shutdown"]);
    second.child.kill("SIGTERM");
    expect(await second.exit).toBe(0);
  });

  it("a second signal exits at once (code 1) while a request holds the graceful shutdown", async () => {
    const started = await start(join(root, "forced"));
    await post(`${started.url}/queues`, { QueueName: "jobs" });
    const { request: req, answer } = slowPost(started.port, "/queues/jobs/messages", "{");
    answer.catch(() => undefined); // the connection dies with the process
    await settle(300);
    started.child.kill("SIGTERM");
    await settle(500);
    expect(started.child.exitCode).toBeNull(); // graceful shutdown waits for the request
    started.child.kill("SIGINT");
    expect(await started.exit).toBe(1);
    expect(started.output()).toContain("again, exiting now");
    req.destroy();
  });

  it("--aws-credentials <file> makes the AWS APIs verify SigV4 with those keys", async () => {
    const keys = join(root, "aws-keys.txt");
    writeFileSync(keys, "# one id:secret a line\nAKIDFILE:file-secret\n");
    const started = await start(join(root, "signed"), [
      "--aws-credentials",
      keys,
      "--aws-credentials",
      "AKIDARG:arg-secret",
    ]);
    expect(started.output()).toContain("SigV4 signatures verified");
    const client = (accessKeyId: string, secretAccessKey: string) =>
      new SNSClient({
        endpoint: started.url,
        region: "us-east-1",
        credentials: { accessKeyId, secretAccessKey },
        maxAttempts: 1,
      });
    const fromFile = client("AKIDFILE", "file-secret");
    const fromArg = client("AKIDARG", "arg-secret");
    const wrong = client("AKIDFILE", "arg-secret");
    try {
      expect((await fromFile.send(new ListTopicsCommand({}))).Topics ?? []).toEqual([]);
      expect((await fromArg.send(new ListTopicsCommand({}))).Topics ?? []).toEqual([]);
      const error = await wrong.send(new ListTopicsCommand({})).catch((e: unknown) => e as Error);
      expect((error as Error).name).toBe("SignatureDoesNotMatch");
    } finally {
      fromFile.destroy();
      fromArg.destroy();
      wrong.destroy();
      started.child.kill("SIGTERM");
      expect(await started.exit).toBe(0);
    }
  });

  it("refuses a malformed --aws-credentials value before opening anything", async () => {
    const child = spawn(
      process.execPath,
      [main, "start", "--data-dir", join(root, "never"), "--aws-credentials", "nocolon:"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).not.toBe(0);
    expect(output).toContain("expected <access key id>:<secret access key>");
  });
});
