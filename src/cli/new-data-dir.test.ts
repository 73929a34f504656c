import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
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
    const { opened, discardIfUnused } = await openDataDir(dir, opening(dir));
    await opened.close();
    discardIfUnused();
    expect(existsSync(join(root, "a"))).toBe(false);
  });

  it("keeps a directory it created once something is stored in it", async () => {
    const dir = join(root, "stored");
    const { opened, discardIfUnused } = await openDataDir(dir, opening(dir));
    await opened.queues.createQueue({ QueueName: "q" });
    await opened.close();
    discardIfUnused();
    expect(existsSync(join(dir, "queues"))).toBe(true);
  });

  it("never removes a directory that existed, nor a parent that holds something else", async () => {
    const existing = join(root, "existing");
    mkdirSync(existing);
    const first = await openDataDir(existing, opening(existing));
    await first.opened.close();
    first.discardIfUnused();
    expect(existsSync(existing)).toBe(true);

    const dir = join(root, "shared", "data");
    const second = await openDataDir(dir, opening(dir));
    mkdirSync(join(root, "shared", "other"));
    await second.opened.close();
    second.discardIfUnused();
    expect(readdirSync(join(root, "shared"))).toEqual(["other"]);
  });

  it("removes a directory an open that failed left empty, and passes the error on", async () => {
    const dir = join(root, "failed");
    const refused = new Error("refused");
    await expect(
      openDataDir(dir, async () => {
        mkdirSync(dir);
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(existsSync(dir)).toBe(false);
  });

  it("withDataDir removes it when the command fails, keeps it when the command succeeds", async () => {
    const failing = join(root, "failing");
    await expect(
      withDataDir(failing, opening(failing), (s) => s.topics.admin.createTopic({ name: "a b" })),
    ).rejects.toMatchObject({ code: "SLUICE_VALIDATION" });
    expect(existsSync(failing)).toBe(false);
    const succeeding = join(root, "succeeding");
    await withDataDir(succeeding, opening(succeeding), () => Promise.resolve());
    expect(existsSync(succeeding)).toBe(true);
  });
});
