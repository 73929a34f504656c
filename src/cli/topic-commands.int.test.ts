import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { open } from "../sluice/index.js";
import { cliMain } from "./test-support/cli-build.js";

const run = promisify(execFile);
const main = cliMain();
const dir = mkdtempSync(join(tmpdir(), "sluice-topic-cli-"));
const sluice = (...args: string[]) => run(process.execPath, [main, ...args]);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sluice topics / groups / queues --data-dir", () => {
  it("creates, lists, describes and deletes topics, and describes a group as kafka-consumer-groups", async () => {
    const data = join(dir, "data");
    await sluice("topics", "create", "--data-dir", data, "orders", "--partitions", "2");
    expect((await sluice("topics", "list", "--data-dir", data)).stdout).toBe("orders\n");
    const described = (await sluice("topics", "describe", "--data-dir", data, "orders")).stdout;
    expect(described).toContain("PartitionCount: 2");

    const s = await open(data, { fsync: "never" });
    const producer = s.topics.producer({ lingerMs: 0, partitioner: "round-robin" });
    await producer.sendBatch([1, 2, 3, 4].map((i) => ({ topic: "orders", value: `${i}` })));
    await s.topics.admin.alterGroupOffsets("billing", [
      { topic: "orders", partition: 0, offset: 1 },
    ]);
    await s.close();

    const table = (await sluice("groups", "describe", "--data-dir", data, "billing")).stdout;
    const lines = table.trim().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual([
      "GROUP",
      "TOPIC",
      "PARTITION",
      "CURRENT-OFFSET",
      "LOG-END-OFFSET",
      "LAG",
      "CONSUMER-ID",
      "HOST",
      "CLIENT-ID",
    ]);
    expect(lines[1]!.split(/\s+/)).toEqual([
      "billing",
      "orders",
      "0",
      "1",
      "2",
      "1",
      "-",
      "-",
      "-",
    ]);
    expect((await sluice("queues", "list", "--data-dir", data)).stdout).toContain("queue\ttype");
    await sluice("topics", "delete", "--data-dir", data, "orders");
    expect((await sluice("topics", "list", "--data-dir", data)).stdout).toBe("");
  });

  it("names the bad input with a typed error and exit code 2, and leaves no data directory made for it", async () => {
    const error = (await sluice("topics", "create", "--data-dir", join(dir, "bad"), "a/b").catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toContain("name:");
    expect(existsSync(join(dir, "bad"))).toBe(false);
    // A path under a file is named as the option that gave it.
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const underFile = (await sluice("topics", "create", "--data-dir", join(file, "d"), "t").catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(underFile.stderr).toBe(
      `sluice: SLUICE_VALIDATION: --data-dir: ${join(file, "d")} cannot be made: ${file} is not a directory\n`,
    );
    // --watch is checked before anything is opened or printed.
    const watch = (await sluice(
      "groups",
      "describe",
      "--data-dir",
      dir,
      "g",
      "--watch",
      "soon",
    ).catch((e: unknown) => e)) as { code: number; stdout: string; stderr: string };
    expect(watch.code).toBe(1);
    expect(watch.stdout).toBe("");
    expect(watch.stderr).toMatch(
      /^error: option '--watch \[seconds\]' argument 'soon' is invalid\. expected a number of seconds > 0\n/,
    );
  });

  // A mistyped path is an error, not an empty answer that leaves a new data directory behind.
  it("looks only into a data directory that exists; create makes one", async () => {
    const missing = join(dir, "no-such-data");
    const empty = mkdtempSync(join(dir, "empty-"));
    for (const args of [
      ["topics", "list"],
      ["topics", "describe", "t"],
      ["topics", "delete", "t"],
      ["groups", "list"],
      ["groups", "describe", "g"],
      ["queues", "list"],
      ["queues", "peek", "q"],
      ["queues", "send", "q", "body"],
    ]) {
      for (const [path, reason] of [
        [missing, "does not exist"],
        [empty, "is not a Sluice data directory"],
      ] as const) {
        const error = (await sluice(...args, "--data-dir", path).catch((e: unknown) => e)) as {
          code: number;
          stderr: string;
        };
        expect(error.code, args.join(" ")).toBe(2);
        expect(error.stderr).toBe(
          `sluice: SLUICE_NOT_FOUND: --data-dir: ${path} ${reason}${
            reason === "does not exist"
              ? ""
              : " (none of queues/, topics/, eventstore/, pubsub/, bus/ in it)"
          }\n`,
        );
      }
    }
    expect(existsSync(missing)).toBe(false);
    expect(readdirSync(empty)).toEqual([]);
    await sluice("topics", "create", "--data-dir", missing, "t");
    expect((await sluice("topics", "list", "--data-dir", missing)).stdout).toBe("t\n");
  });
});
