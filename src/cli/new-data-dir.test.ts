import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { open } from "../sluice/index.js";
import { openDataDir, withDataDir } from "./new-data-dir.js";

const root = mkdtempSync(join(tmpdir(), "sluice-new-data-dir-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const opening = (dir: string) => () => open(dir, { fsync: "never" });

describe("openDataDir", () => {
  it("removes a directory it created, and the parents it created, when nothing was stored", async () => {
    const dir = join(root, "a", "b", "data");
    const { opened, discardIfUnused } = await openDataDir(dir, "dir", opening(dir));
    await opened.close();
    discardIfUnused();
    expect(existsSync(join(root, "a"))).toBe(false);
  });

  it("keeps a directory it created once something is stored in it", async () => {
    const dir = join(root, "stored");
    const { opened, discardIfUnused } = await openDataDir(dir, "dir", opening(dir));
    await opened.queues.createQueue({ QueueName: "q" });
    await opened.close();
    discardIfUnused();
    expect(existsSync(join(dir, "queues"))).toBe(true);
  });

  it("never removes a directory that existed, nor a parent that holds something else", async () => {
    const existing = join(root, "existing");
    mkdirSync(existing);
    const first = await openDataDir(existing, "dir", opening(existing));
    await first.opened.close();
    first.discardIfUnused();
    expect(existsSync(existing)).toBe(true);

    const dir = join(root, "shared", "data");
    const second = await openDataDir(dir, "dir", opening(dir));
    mkdirSync(join(root, "shared", "other"));
    await second.opened.close();
    second.discardIfUnused();
    expect(readdirSync(join(root, "shared"))).toEqual(["other"]);
  });

  it("removes a directory an open that failed left empty, and passes the error on", async () => {
    const dir = join(root, "failed");
    const refused = new Error("refused");
    await expect(
      openDataDir(dir, "dir", async () => {
        mkdirSync(dir);
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses a path that is, or is under, a file, naming the field that gave it", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "");
    await expect(openDataDir(file, "--data-dir", opening(file))).rejects.toMatchObject({
      code: "SLUICE_VALIDATION",
      field: "--data-dir",
      message: `--data-dir: ${file} is not a directory`,
    });
    await expect(
      openDataDir(join(file, "d"), "--data-dir", opening(join(file, "d"))),
    ).rejects.toMatchObject({
      message: `--data-dir: ${join(file, "d")} cannot be made: ${file} is not a directory`,
    });
  });

  it("withDataDir removes it when the command fails, keeps it when the command succeeds", async () => {
    const failing = join(root, "failing");
    await expect(
      withDataDir(failing, "dir", opening(failing), (s) =>
        s.topics.admin.createTopic({ name: "a b" }),
      ),
    ).rejects.toMatchObject({ code: "SLUICE_VALIDATION" });
    expect(existsSync(failing)).toBe(false);
    const succeeding = join(root, "succeeding");
    await withDataDir(succeeding, "dir", opening(succeeding), () => Promise.resolve());
    expect(existsSync(succeeding)).toBe(true);
  });
});
