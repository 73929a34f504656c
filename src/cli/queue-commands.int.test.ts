import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddedQueueService } from "../messaging/queues/index.js";
import { type CliOutcome, runCli } from "./test-support/run-cli.js";

const root = mkdtempSync(join(tmpdir(), "sluice-cli-q-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sluice = (...args: string[]): Promise<CliOutcome> => runCli(args);

describe("sluice queues CLI", () => {
  it("lists queues with counts, sends, and peeks without receiving", async () => {
    const dir = join(root, "data");
    const sqs = await EmbeddedQueueService.open(dir);
    const { QueueUrl } = await sqs.createQueue({ QueueName: "jobs" });
    await sqs.createQueue({ QueueName: "events.fifo", Attributes: { FifoQueue: "true" } });
    await sqs.sendMessage({ QueueUrl, MessageBody: "first" });
    await sqs.receiveMessage({ QueueUrl, VisibilityTimeout: 600 });
    await sqs.close();

    const sent = await sluice(
      "queues",
      "send",
      dir,
      "events.fifo",
      "hello",
      "--group",
      "g",
      "--dedup",
      "d1",
    );
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ SequenceNumber: expect.any(String) as string });

    const list = await sluice("queues", "list", dir);
    expect(list.code).toBe(0);
    const rows = list.stdout
      .trim()
      .split("\n")
      .map((line) => line.split("\t"));
    expect(rows.slice(1).map((r) => r.slice(0, 5))).toEqual([
      ["events.fifo", "fifo", "1", "0", "0"],
      ["jobs", "standard", "0", "1", "0"],
    ]);

    const peek = await sluice("queues", "peek", dir, "jobs");
    const [message] = peek.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { Body: string; State: string });
    expect(message).toMatchObject({ Body: "first", State: "inflight" });
    const again = await sluice("queues", "peek", dir, "events.fifo", "--max", "5");
    expect(again.stdout).toContain('"Body":"hello"');

    const missing = await sluice("queues", "peek", dir, "nope");
    expect(missing.code).toBe(2);
    // The library's QueueName is the <queue> argument.
    expect(missing.stderr).toBe('sluice: SLUICE_NOT_FOUND: queue: no queue named "nope"\n');
    const ungrouped = await sluice("queues", "send", dir, "events.fifo", "hi");
    expect(ungrouped.code).toBe(2);
    expect(ungrouped.stderr).toMatch(/^sluice: SLUICE_VALIDATION: --group: /);
  });

  it("names a missing argument as the help does", async () => {
    const dir = join(root, "args");
    const said = await Promise.all([
      sluice("queues", "peek"),
      sluice("queues", "send", dir, "jobs"),
      sluice("queues", "send", "--data-dir", dir, "jobs"),
      sluice("queues", "send", "--data-dir", dir, "jobs", "a", "b"),
    ]);
    expect(said.map((r) => [r.code, r.stderr])).toEqual([
      [1, "sluice: error: missing required argument 'queue'\n"],
      [1, "sluice: error: missing required argument 'body'\n"],
      [1, "sluice: error: missing required argument 'body'\n"],
      [
        1,
        "sluice: error: too many arguments: expected queue body after --data-dir, got jobs a b\n",
      ],
    ]);
    const help = await sluice("queues", "send", "--help");
    expect(help.stdout).toContain("Usage: sluice queues send [options] [dir] <queue> <body>");
  });

  it("refuses a --data-dir that is a file with a typed error and exit code 2", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "not a directory");
    const result = await sluice("queues", "list", "--data-dir", file);
    expect(result).toEqual({
      stdout: "",
      stderr: `sluice: SLUICE_VALIDATION: --data-dir: ${file} is not a directory\n`,
      code: 2,
    });
  });
});
